"""The jobs: the civility expiry reminder goes out exactly once, 90 days before; expired titles are
marked 已过期 by the system; the organiser is asked once to confirm attendance."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine

from sizheng.core.models import AuditEvent, Notification, SentReminder
from sizheng.volunteer import jobs, services
from sizheng.volunteer.models import ApplicationState
from sizheng.volunteer.tests.helpers import NOW, SH, activity, after, application, fill

pytestmark = pytest.mark.django_db


def _approved(cast, years: int = 3):
    with time_machine.travel(NOW, tick=False):
        app = fill(application(cast), cast.org_admin)
        services.application_transition(
            actor=cast.org_admin, application=app, action="submit", version=app.version
        )
        services.application_transition(actor=cast.committee_admin, application=app, action="approve",
                                        version=app.version, valid_years=years)  # fmt: skip
    app.refresh_from_db()
    return app


def _on(day):
    return time_machine.travel(datetime.combine(day, time(8, 5), tzinfo=SH), tick=False)


def test_it_reminds_exactly_once_ninety_days_before_expiry(cast):
    app = _approved(cast, years=1)  # the cast's posts run until 2027-05-31
    assert app.valid_until.isoformat() == "2027-03-09"
    with _on(app.valid_until - timedelta(days=91)):
        assert jobs.civility_expiry() == {"reminded": 0, "expired": 0}
    with _on(app.valid_until - timedelta(days=90)):
        assert jobs.civility_expiry()["reminded"] == 1
        assert jobs.civility_expiry()["reminded"] == 0  # a second run the same day sends nothing
    with _on(app.valid_until - timedelta(days=89)):
        assert jobs.civility_expiry()["reminded"] == 0
    notes = Notification.objects.filter(title__contains="称号将于")
    # The unit's secretary and 党务干部 (both hold posts in branch A1 of unit A), once each.
    assert sorted(n.user.username for n in notes) == ["dangwu_a", "shuji_a"]
    assert "2027年03月09日" in notes.first().title
    assert SentReminder.objects.filter(key=f"civility:{app.pk}:expiry-90").count() == 1


def test_it_reminds_the_committee_admin_when_the_unit_has_no_post_holders_left(cast):
    app = _approved(cast)  # valid until 2029-03-09, after the cast's posts end
    with _on(app.valid_until - timedelta(days=90)):
        assert jobs.civility_expiry()["reminded"] == 1
    assert [n.user.username for n in Notification.objects.filter(title__contains="称号将于")] == ["gongwei"]


def test_it_marks_a_title_expired_after_its_validity_with_a_system_audit_row(cast):
    app = _approved(cast)
    with _on(app.valid_until):
        assert jobs.civility_expiry()["expired"] == 0
    app.refresh_from_db()
    assert app.state == ApplicationState.APPROVED
    with _on(app.valid_until + timedelta(days=1)):
        assert jobs.civility_expiry()["expired"] == 1
        assert jobs.civility_expiry()["expired"] == 0
    app.refresh_from_db()
    assert app.state == ApplicationState.EXPIRED
    row = AuditEvent.objects.get(action="civility_application_expire", object_id=str(app.pk))
    assert row.actor is None and row.detail == {"from": "approved", "to": "expired"}


def test_it_asks_the_organiser_once_to_confirm_an_activity_that_is_over(cast):
    with time_machine.travel(NOW, tick=False):
        act = activity(cast)
        services.signup_create(actor=cast.member, activity=act)
    with time_machine.travel(act.ends_at - timedelta(minutes=1), tick=False):
        assert jobs.confirm_reminders() == 0
    with time_machine.travel(after(act), tick=False):
        assert jobs.confirm_reminders() == 1
        assert jobs.confirm_reminders() == 0
    note = Notification.objects.get(user=cast.secretary_a)
    assert act.title in note.title and "未经确认的时长不计入统计" in note.body


def test_it_registers_both_jobs():
    from sizheng.core.scheduler import JOBS

    assert {"volunteer.civility_expiry", "volunteer.confirm_reminders"} <= set(JOBS)
