"""Wellbeing services: anonymous and named screenings, deletion, contact requests, who gets the alert."""

from __future__ import annotations

import logging
import re

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models

from sizheng.care import jobs_wellbeing, wellbeing
from sizheng.care.models import (
    AnonymousScreening,
    ContactRequest,
    CrisisAlert,
    HealthConsent,
    Screening,
)
from sizheng.core import anonymous, scheduler
from sizheng.core.models import AnonymousTally, AuditEvent, Notification, Role, RoleGrant
from sizheng.core.testing import make_user
from sizheng.org.testing import make_person

pytestmark = pytest.mark.django_db

MILD = [1, 1, 1, 1, 1, 0, 0, 0, 0]  # PHQ-9 5: 轻度, item 9 negative
SEVERE = [3, 3, 3, 3, 3, 3, 2, 0, 0]  # PHQ-9 20: 重度, item 9 negative
ITEM9_ONLY = [0, 0, 0, 0, 0, 0, 0, 0, 1]  # total 1, item 9 positive


def _submit(user, answers=MILD, *, anonymous=True, instrument="phq9"):
    return wellbeing.screening_submit(
        actor=user, instrument=instrument, answers=answers, anonymous=anonymous, consent=True
    )


@pytest.fixture
def k5(settings):
    settings.ANONYMITY_MIN_GROUP = 5
    return 5


def test_it_stores_anonymous_screenings_with_no_person_no_audit_no_notification_no_log(
    cast, k5, caplog, django_capture_on_commit_callbacks
):
    audits, notes = AuditEvent.objects.count(), Notification.objects.count()
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outcomes = [_submit(cast.member, SEVERE if i == 0 else MILD) for i in range(k5)]
    assert callbacks == []
    assert AuditEvent.objects.count() == audits and Notification.objects.count() == notes
    assert not [r for r in caplog.records if r.name.startswith("sizheng")]
    assert not CrisisAlert.objects.exists()  # an anonymous positive is counted, never alerted
    rows = list(AnonymousScreening.objects.all())
    assert len(rows) == k5  # the fifth answer flushed the pool in one shuffled batch
    wave = wellbeing.current_wave()
    assert {r.wave for r in rows} == {wave} and re.fullmatch(r"\d{4}-\d{2}", wave)
    assert {r.group for r in rows} == {f"org:{cast.branch_a1.pk}"}
    # Nothing to join on: no person, no org, no user, no timestamp on the row.
    for f in AnonymousScreening._meta.get_fields():
        assert not isinstance(f, models.ForeignKey | models.DateTimeField | models.DateField), f.name
    codes = {o.deletion_code for o in outcomes}
    assert not codes & {r.deletion_key for r in rows}  # only the blind index is stored
    assert sorted(int(r.score) for r in rows) == [5, 5, 5, 5, 20]
    assert AnonymousTally.objects.get(kind="wellbeing", wave=wave).count == k5
    assert all(o.deletion_code and o.screening is None for o in outcomes)


def test_it_keeps_an_anonymous_answer_pending_until_the_pool_fills(cast, k5):
    outcome = _submit(cast.member)
    assert outcome.result.band == "mild" and outcome.result.score == 5  # shown from memory
    assert not AnonymousScreening.objects.exists()
    pending = anonymous.pending("wellbeing", wellbeing.current_wave())
    assert len(pending) == 1 and "person" not in pending[0] and pending[0]["score"] == 5


def test_it_stores_the_answers_encrypted(cast, k5):
    for _ in range(k5):
        _submit(cast.member, SEVERE)
    named = _submit(cast.member, SEVERE, anonymous=False).screening
    with connection.cursor() as cur:
        cur.execute("SELECT band, score, answers FROM care_anonymousscreening")
        raw = cur.fetchall()
        cur.execute("SELECT band, score, crisis FROM care_screening WHERE id = %s", [named.pk])
        raw.append(cur.fetchone())
    for band, score, _ in raw:
        assert "severe" not in band and score != "20"


@pytest.mark.parametrize("flush", [False, True])
def test_it_deletes_an_anonymous_screening_by_its_code_pending_or_stored(cast, k5, flush):
    outcome = _submit(cast.member)
    others = [_submit(cast.member) for _ in range(k5 - 1)] if flush else []
    assert AnonymousScreening.objects.count() == (k5 if flush else 0)
    code = outcome.deletion_code.lower().replace("-", " ")  # typed back loosely
    assert wellbeing.anonymous_screening_delete(actor=cast.member, code=code) is True
    wave = wellbeing.current_wave()
    if flush:
        assert AnonymousScreening.objects.count() == k5 - 1
        assert wellbeing.anonymous_screening_delete(actor=cast.member, code=others[0].deletion_code)
        assert AnonymousScreening.objects.count() == k5 - 2
    else:
        assert anonymous.pending("wellbeing", wave) == []
    # Deleted once: the same code now matches nothing.
    assert wellbeing.anonymous_screening_delete(actor=cast.member, code=outcome.deletion_code) is False
    assert not AuditEvent.objects.filter(action__contains="anonymous").exists()


def test_it_refuses_a_malformed_deletion_code(cast):
    with pytest.raises(ValidationError, match="16 位"):
        wellbeing.anonymous_screening_delete(actor=cast.member, code="1234")
    assert re.fullmatch(r"([A-Z2-9]{4}-){3}[A-Z2-9]{4}", wellbeing.new_deletion_code())


def test_it_stores_a_named_screening_with_consent_and_an_audit_row_without_the_result(cast):
    outcome = _submit(cast.member, MILD, anonymous=False)
    s = outcome.screening
    assert (s.person, s.org, s.instrument, s.band, s.score, s.crisis) == (
        cast.person(cast.member), cast.branch_a1, "phq9", "mild", "5", "0"
    )  # fmt: skip
    assert s.wave == wellbeing.current_wave()
    assert HealthConsent.objects.filter(person=s.person, withdrawn_at__isnull=True).count() == 1
    ev = AuditEvent.objects.get(action="screening_submit")
    assert ev.actor == cast.member and ev.object_id == str(s.pk) and ev.detail == {}
    assert "mild" not in str(ev.detail) and "5" not in ev.object_repr.replace(str(s.pk), "")
    assert not CrisisAlert.objects.exists() and not outcome.alert_raised
    _submit(cast.member, MILD, anonymous=False)
    assert HealthConsent.objects.count() == 1  # reused while not withdrawn


def test_it_alerts_the_primary_counselor_content_free_for_a_named_severe_screening(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = _submit(cast.member, SEVERE, anonymous=False)
    alert = CrisisAlert.objects.get()
    assert (
        alert.counselor == cast.counselor
        and alert.reason == "severe"
        and alert.screening == outcome.screening
    )
    assert alert.state == CrisisAlert.State.OPEN and alert.org == cast.branch_a1
    assert (alert.ack_due_at - alert.raised_at).total_seconds() == 120 * 60
    note = Notification.objects.get()
    assert note.user == cast.counselor
    assert note.title == "您有一条新的心理关爱预警，请尽快登录平台确认。"
    assert note.url.endswith(f"/wellbeing/alerts/{alert.pk}/")
    text = f"{note.title}{note.body}{note.url}"
    for secret in ("刘洋", "20", "重度", "severe", "PHQ"):
        assert secret not in text
    assert not Notification.objects.filter(user=cast.counselor_backup).exists()


def test_it_alerts_when_item9_is_positive_whatever_the_total(cast):
    outcome = _submit(cast.member, ITEM9_ONLY, anonymous=False)
    assert outcome.result.score == 1 and outcome.result.crisis and outcome.alert_raised
    assert CrisisAlert.objects.get().reason == "item9"


def test_it_never_alerts_an_anonymous_positive(cast):
    outcome = _submit(cast.member, ITEM9_ONLY)
    assert outcome.result.crisis and not outcome.alert_raised
    assert not CrisisAlert.objects.exists()


def test_it_refuses_without_consent_bad_answers_or_a_person(cast):
    with pytest.raises(ValidationError, match="勾选同意"):
        wellbeing.screening_submit(actor=cast.member, instrument="phq9", answers=MILD, consent=False)
    with pytest.raises(ValidationError, match="共有 7 题"):
        wellbeing.screening_submit(actor=cast.member, instrument="gad7", answers=MILD, consent=True)
    with pytest.raises(ValidationError, match="第 2 题"):
        wellbeing.screening_submit(
            actor=cast.member, instrument="gad7", answers=[0, 7, 0, 0, 0, 0, 0], consent=True
        )
    with pytest.raises(PermissionDenied, match="没有关联人员信息"):
        _submit(cast.counselor)
    assert not Screening.objects.exists() and not anonymous.pending("wellbeing", wellbeing.current_wave())


def test_it_lets_only_the_person_delete_a_named_screening(cast):
    s = _submit(cast.member, anonymous=False).screening
    with pytest.raises(PermissionDenied):
        wellbeing.screening_delete(actor=cast.secretary_a, screening=s)
    wellbeing.screening_delete(actor=cast.member, screening=s)
    assert not Screening.objects.exists()
    assert AuditEvent.objects.filter(
        action="screening_delete", object_id=str(s.pk), actor=cast.member
    ).exists()


def test_it_keeps_the_alert_when_the_person_deletes_the_screening(cast):
    s = _submit(cast.member, SEVERE, anonymous=False).screening
    wellbeing.screening_delete(actor=cast.member, screening=s)
    alert = CrisisAlert.objects.get()
    assert alert.screening is None and alert.state == CrisisAlert.State.OPEN


def test_it_creates_a_contact_request_unlinked_to_any_answer_and_alerts_once(
    cast, django_capture_on_commit_callbacks
):
    _submit(cast.member, ITEM9_ONLY)  # anonymous: nothing links the request to it
    with django_capture_on_commit_callbacks(execute=True):
        req, created = wellbeing.contact_request_create(actor=cast.member, how="工作日中午打我手机")
        again, created_again = wellbeing.contact_request_create(actor=cast.member, how="")
    assert created and not created_again and again.pk == req.pk
    assert req.person == cast.person(cast.member) and req.how == "工作日中午打我手机"
    alert = CrisisAlert.objects.get()
    assert alert.reason == "contact_request" and alert.contact_request == req and alert.screening is None
    assert Notification.objects.filter(user=cast.counselor).count() == 1
    assert AuditEvent.objects.filter(action="contact_request_create", object_id=str(req.pk)).exists()
    assert not {f.name for f in ContactRequest._meta.get_fields()} & {"screening", "answer", "key"}


def test_it_sends_the_alert_to_the_nearest_primary_counselor(cast):
    near = make_user("xinli_a1")
    RoleGrant.objects.create(
        user=near, role=Role.COUNSELOR, scope_kind=RoleGrant.ScopeKind.ORG, scope_id=cast.branch_a1.pk
    )
    wellbeing.contact_request_create(actor=cast.member)
    assert CrisisAlert.objects.get().counselor == near
    # A member of branch A2 is covered by the committee's counselor only.
    wellbeing.contact_request_create(actor=cast.leader)
    assert CrisisAlert.objects.get(person__user=cast.leader).counselor == cast.counselor


def test_it_falls_back_to_an_all_scope_counselor_and_escalates_when_there_is_none(cast):
    wellbeing.contact_request_create(actor=cast.outsider)  # branch C: no counselor at all
    alert = CrisisAlert.objects.get()
    assert alert.counselor is None and alert.state == CrisisAlert.State.ESCALATED and alert.escalated_at
    everywhere = make_user("xinli_all")
    RoleGrant.objects.create(user=everywhere, role=Role.COUNSELOR, scope_kind=RoleGrant.ScopeKind.ALL)
    ContactRequest.objects.update(state=ContactRequest.State.CLOSED)
    wellbeing.contact_request_create(actor=cast.outsider)
    assert CrisisAlert.objects.order_by("-pk").first().counselor == everywhere


def test_it_reports_a_non_member_under_the_units_root_org(cast, k5):
    staff = make_person("吴静", cast.unit_a, office=cast.office_a1, status="masses", username="zhigong")
    assert staff.org is None
    for _ in range(k5):
        _submit(staff.user)
    assert {r.group for r in AnonymousScreening.objects.all()} == {f"org:{cast.committee_a.pk}"}
    wellbeing.contact_request_create(actor=staff.user)
    assert CrisisAlert.objects.get().counselor == cast.counselor


def test_it_publishes_figures_only_in_steps_of_k():
    waves = ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert wellbeing.published_through({"2026-01": 4}, waves, 5) is None
    assert wellbeing.published_through({"2026-01": 4, "2026-02": 1}, waves, 5) == "2026-02"
    assert wellbeing.published_through({"2026-01": 5, "2026-02": 1, "2026-03": 3}, waves, 5) == "2026-01"
    assert wellbeing.published_through({"2026-01": 5, "2026-03": 2, "2026-04": 3}, waves, 5) == "2026-04"


def test_it_counts_named_stored_and_pending_anonymous_screenings_per_subtree(cast, k5):
    for _ in range(k5 + 2):  # k5 stored, 2 pending
        _submit(cast.member, SEVERE)
    _submit(cast.member, MILD, anonymous=False)
    _submit(cast.outsider, MILD, anonymous=False)
    recs = wellbeing.records([wellbeing.current_wave()])
    counts = wellbeing.subtree_counts([cast.root.pk, cast.committee_a.pk, cast.branch_a2.pk], recs)
    assert counts[cast.committee_a.pk].total == k5 + 3 and counts[cast.committee_a.pk].severe == k5 + 2
    assert counts[cast.root.pk].total == k5 + 4 and counts[cast.branch_a2.pk].total == 0
    own = wellbeing.own_group_counts([cast.committee_a.pk, cast.branch_a1.pk], recs)
    assert own[cast.committee_a.pk].total == 0 and own[cast.branch_a1.pk].total == k5 + 3


def test_it_writes_a_past_months_pending_answers_when_the_wave_closes(cast, k5):
    assert scheduler.JOBS["care.wellbeing_wave_close"].func is jobs_wellbeing.wellbeing_wave_close
    with time_machine.travel("2026-03-20 10:00 +0800", tick=False):
        _submit(cast.member)
        _submit(cast.secretary_a)
    with time_machine.travel("2026-04-02 10:00 +0800", tick=False):
        _submit(cast.member)  # April's wave is still open
        assert jobs_wellbeing.wellbeing_wave_close() == 2
        assert jobs_wellbeing.wellbeing_wave_close() == 0
    assert sorted(AnonymousScreening.objects.values_list("wave", flat=True)) == ["2026-03", "2026-03"]
    assert len(anonymous.pending("wellbeing", "2026-04")) == 1
