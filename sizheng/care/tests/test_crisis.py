"""The crisis protocol: who sees an alert, acknowledgement in time, escalation to the backup (frozen time)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from sizheng.care import jobs_wellbeing, wellbeing
from sizheng.care.models import CounselingCase, CrisisAlert
from sizheng.core import scheduler
from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent, Notification, SentReminder

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 9, 14, 10, 0, tzinfo=SH)
SEVERE = [3, 3, 3, 3, 3, 3, 2, 0, 0]


@pytest.fixture
def alert(cast, settings, django_capture_on_commit_callbacks) -> CrisisAlert:
    """A named severe screening by dangyuan at T0 (ack within 120 minutes)."""
    settings.CRISIS_ACK_MINUTES = 120
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        wellbeing.screening_submit(
            actor=cast.member, instrument="phq9", answers=SEVERE, anonymous=False, consent=True
        )
    return CrisisAlert.objects.get()


def _status(client, user, url) -> int:
    client.force_login(user)
    return client.get(url).status_code


def _notes(user) -> int:
    return Notification.objects.filter(user=user).count()


def test_it_registers_the_escalation_job_every_five_minutes():
    job = scheduler.JOBS["care.crisis_escalation"]
    assert job.func is jobs_wellbeing.crisis_escalation and job.every == timedelta(minutes=5)


def test_it_shows_the_alert_to_the_primary_counselor_only(client, cast, alert):
    url = reverse("care:wellbeing_alert", args=[alert.pk])
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        assert _status(client, cast.counselor, url) == 200
        for user in (cast.committee_admin, cast.secretary_a, cast.leader, cast.counselor_backup, cast.outsider,
                     cast.org_admin, cast.member, cast.union, cast.sysadmin, cast.auditor):  # fmt: skip
            assert _status(client, user, url) == 404, user.username


def test_it_escalates_to_the_backup_once_when_not_acknowledged_in_time(client, cast, alert):
    url = reverse("care:wellbeing_alert", args=[alert.pk])
    assert _notes(cast.counselor) == 1 and _notes(cast.counselor_backup) == 0
    with time_machine.travel(T0 + timedelta(minutes=119), tick=False):
        assert jobs_wellbeing.crisis_escalation() == 0
        assert _status(client, cast.counselor_backup, url) == 404
    with time_machine.travel(T0 + timedelta(minutes=125), tick=False):
        assert scheduler.run("care.crisis_escalation") == 1
        assert jobs_wellbeing.crisis_escalation() == 0  # run twice: nothing more
        alert.refresh_from_db()
        assert alert.state == CrisisAlert.State.ESCALATED
        assert alert.escalated_at == T0 + timedelta(minutes=125)
        assert _status(client, cast.counselor_backup, url) == 200
        assert _status(client, cast.counselor, url) == 200  # the primary keeps it
        assert _status(client, cast.secretary_a, url) == 404
    note = Notification.objects.get(user=cast.counselor_backup)
    assert note.title == "您有一条升级转来的心理关爱预警，请尽快登录平台确认。" and str(alert.pk) in note.url
    assert "刘洋" not in note.title + note.body and "重度" not in note.title + note.body
    assert SentReminder.objects.filter(key=f"care:crisis-alert:{alert.pk}:escalated").count() == 1
    ev = AuditEvent.objects.get(action="crisis_alert_escalate")
    assert ev.actor is None and ev.detail == {"to": [cast.counselor_backup.pk]}
    # Even a second escalation attempt sends nothing twice.
    assert wellbeing.crisis_alert_escalate(alert=alert) is False
    assert _notes(cast.counselor_backup) == 1


def test_it_does_not_escalate_an_alert_acknowledged_in_time(cast, alert):
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        case = wellbeing.crisis_alert_acknowledge(actor=cast.counselor, alert=alert, version=alert.version)
    with time_machine.travel(T0 + timedelta(minutes=500), tick=False):
        assert jobs_wellbeing.crisis_escalation() == 0
    alert.refresh_from_db()
    assert alert.state == CrisisAlert.State.ACKNOWLEDGED and alert.escalated_at is None
    assert alert.acknowledged_by == cast.counselor and alert.acknowledged_at == T0 + timedelta(minutes=30)
    assert case.counselor == cast.counselor and case.alert == alert and case.person == alert.person
    assert _notes(cast.counselor_backup) == 0
    assert AuditEvent.objects.filter(action="crisis_alert_acknowledge", actor=cast.counselor).exists()


def test_it_lets_the_backup_acknowledge_only_after_escalation(cast, alert):
    with pytest.raises(PermissionDenied):
        wellbeing.crisis_alert_acknowledge(actor=cast.counselor_backup, alert=alert)
    with time_machine.travel(T0 + timedelta(minutes=121), tick=False):
        wellbeing.crisis_alert_escalate_due()
        alert.refresh_from_db()
        case = wellbeing.crisis_alert_acknowledge(
            actor=cast.counselor_backup, alert=alert, version=alert.version
        )
    assert case.counselor == cast.counselor_backup
    assert CounselingCase.objects.filter(counselor=cast.counselor_backup).count() == 1
    # Acknowledged once: the primary's late acknowledgement is a conflict, not a second case.
    with pytest.raises(Conflict):
        wellbeing.crisis_alert_acknowledge(actor=cast.counselor, alert=alert)
    assert CounselingCase.objects.count() == 1


def test_it_refuses_a_stale_acknowledgement(cast, alert):
    with pytest.raises(Conflict, match="刷新"):
        wellbeing.crisis_alert_acknowledge(actor=cast.counselor, alert=alert, version=alert.version + 1)
    alert.refresh_from_db()
    assert alert.state == CrisisAlert.State.OPEN and not CounselingCase.objects.exists()


def test_it_joins_a_new_trigger_to_the_persons_unacknowledged_alert(cast):
    from sizheng.care import wellbeing
    from sizheng.care.models import CrisisAlert

    wellbeing.screening_submit(
        actor=cast.member, instrument="phq9", answers=[3] * 9, anonymous=False, consent=True
    )
    wellbeing.screening_submit(
        actor=cast.member, instrument="phq9", answers=[3] * 9, anonymous=False, consent=True
    )
    wellbeing.contact_request_create(actor=cast.member)
    assert CrisisAlert.objects.count() == 1


def test_it_shows_a_counselor_their_waiting_alerts_on_the_home_page_and_nobody_else(client, cast):
    from sizheng.care import wellbeing

    wellbeing.contact_request_create(actor=cast.member)
    client.force_login(cast.counselor)
    html = client.get("/").content.decode()
    assert "1</strong> 条危机预警等待您确认" in html and "刘洋" not in html
    for user in (cast.counselor_backup, cast.secretary_a, cast.committee_admin):
        client.force_login(user)
        assert "条危机预警等待您确认" not in client.get("/").content.decode()
