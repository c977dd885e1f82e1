"""民主评议党员 services: opening from the roster, who writes what, BR-EVAL-2's 1/3 优秀 rule, approval."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import given
from hypothesis import strategies as st

from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent, Notification
from sizheng.life import appraisal as svc
from sizheng.life.models import Appraisal, AppraisalEntry, Grade, MeetingKind
from sizheng.org.models import OrgRole
from sizheng.org.testing import appoint, make_person

pytestmark = pytest.mark.django_db
E, Q, B, U = Grade.EXCELLENT, Grade.QUALIFIED, Grade.BASIC, Grade.UNQUALIFIED


def _open(cast, year: int = 2026) -> Appraisal:
    return svc.appraisal_open(actor=cast.secretary_a, org=cast.branch_a1, year=year)


def _grade(cast, appraisal: Appraisal, grades: list[str]) -> None:
    """Give the entries (in person order) these proposed grades."""
    for entry, grade in zip(appraisal.entries.order_by("person_id"), grades, strict=True):
        svc.entry_review(
            actor=cast.secretary_a, entry=entry, peer_summary="", rating={}, proposed_grade=grade
        )


def _higher_secretary(cast):
    person = make_person("吴刚", cast.unit_a, org=cast.committee_a, username="shuji_jiguan")
    appoint(person, cast.committee_a, OrgRole.Title.SECRETARY)
    return person.user


@time_machine.travel(date(2026, 12, 1), tick=False)
def test_it_opens_with_an_entry_per_current_party_member(cast):
    appraisal = _open(cast)
    names = set(appraisal.entries.values_list("person__name", flat=True))
    assert names == {"王建国", "赵敏", "刘洋"}  # the branch's members, not the unit's non-member
    assert appraisal.state == Appraisal.State.OPEN
    assert AuditEvent.objects.filter(action="appraisal_open", object_id=str(appraisal.pk)).exists()
    with pytest.raises(ValidationError, match="已经开启"):
        _open(cast)
    with pytest.raises(PermissionDenied):
        svc.appraisal_open(actor=cast.member, org=cast.branch_a1, year=2025)
    with pytest.raises(PermissionDenied):
        svc.appraisal_open(actor=cast.secretary_b, org=cast.branch_a1, year=2025)


@time_machine.travel(date(2026, 12, 1), tick=False)
def test_it_links_only_a_member_appraisal_meeting_of_the_same_org(cast):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sizheng.life.services import meeting_record

    at = datetime(2026, 11, 20, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    other = meeting_record(actor=cast.secretary_a, org=cast.branch_a1, kind=MeetingKind.MEMBERS_MEETING,
                           topic="党员大会", starts_at=at, ends_at=at.replace(hour=11), place="会议室")  # fmt: skip
    with pytest.raises(ValidationError):
        svc.appraisal_open(actor=cast.secretary_a, org=cast.branch_a1, year=2026, meeting=other)
    meeting = meeting_record(actor=cast.secretary_a, org=cast.branch_a1, kind=MeetingKind.MEMBER_APPRAISAL,
                             topic="民主评议", starts_at=at, ends_at=at.replace(hour=11), place="会议室")  # fmt: skip
    appraisal = svc.appraisal_open(actor=cast.secretary_a, org=cast.branch_a1, year=2026, meeting=meeting)
    assert appraisal.meeting == meeting


def test_it_lets_only_the_member_write_their_own_self_assessment(cast):
    appraisal = _open(cast)
    entry = appraisal.entries.get(person=cast.person(cast.member))
    svc.entry_self_assess(actor=cast.member, entry=entry, text="  认真学习，按时交纳党费。 ")
    entry.refresh_from_db()
    assert entry.self_assessment == "认真学习，按时交纳党费。"
    event = AuditEvent.objects.get(action="appraisal_self_assess")
    assert "认真" not in str(event.detail)  # content never goes into the audit trail
    for actor in (cast.secretary_a, cast.org_admin, cast.committee_admin):
        with pytest.raises(PermissionDenied):
            svc.entry_self_assess(actor=actor, entry=entry, text="代写")
    with pytest.raises(ValidationError):
        svc.entry_self_assess(actor=cast.member, entry=entry, text="   ")


def test_it_lets_only_the_branch_record_the_review(cast):
    appraisal = _open(cast)
    entry = appraisal.entries.get(person=cast.person(cast.member))
    svc.entry_review(actor=cast.org_admin, entry=entry, peer_summary="团结同志", rating={E: 2, Q: 1},
                     proposed_grade=E)  # fmt: skip
    entry.refresh_from_db()
    assert (entry.rating, entry.proposed_grade, entry.peer_summary) == ({E: 2, Q: 1}, E, "团结同志")
    event = AuditEvent.objects.get(action="appraisal_entry_review")
    assert event.detail["fields"] == ["peer_summary", "proposed_grade", "rating"]
    # The higher org and the committee admin approve; they do not write the branch's review.
    for actor in (cast.member, cast.committee_admin, cast.secretary_b):
        with pytest.raises(PermissionDenied):
            svc.entry_review(actor=actor, entry=entry, peer_summary="", rating={}, proposed_grade=Q)


@pytest.mark.parametrize(
    ("rating", "message"),
    [({E: -1}, "不小于 0"), ({E: 2, Q: 2}, "不能超过"), ({"great": 1}, "未知的等次"), ({E: 1.5}, "整数")],
)
def test_it_rejects_a_bad_rating(cast, rating, message):
    appraisal = _open(cast)
    entry = appraisal.entries.first()
    with pytest.raises(ValidationError, match=message):
        svc.entry_review(
            actor=cast.secretary_a, entry=entry, peer_summary="", rating=rating, proposed_grade=""
        )


@given(
    st.dictionaries(st.sampled_from(Grade.values), st.integers(min_value=0, max_value=20)), st.integers(0, 40)
)
def test_it_accepts_exactly_the_ratings_within_the_member_count(rating, members):
    total = sum(rating.values())
    if total <= members:
        clean = svc.clean_rating(rating, members)
        assert sum(clean.values()) == total
        assert all(v > 0 for v in clean.values())
    else:
        with pytest.raises(ValidationError):
            svc.clean_rating(rating, members)


@given(st.integers(0, 200), st.integers(1, 200))
def test_it_flags_excellent_strictly_above_a_third(excellent, members):
    assert svc.excellent_exceeds(excellent, members) == (excellent / members > 1 / 3)


def test_it_cannot_propose_more_than_a_third_excellent_without_a_reason(cast):
    higher = _higher_secretary(cast)
    appraisal = _open(cast)
    _grade(cast, appraisal, [E, E, Q])
    appraisal.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        svc.appraisal_propose(actor=cast.secretary_a, appraisal=appraisal, version=appraisal.version)
    assert "三分之一" in exc.value.message_dict["excellent_reason"][0]
    appraisal.refresh_from_db()
    assert appraisal.state == Appraisal.State.OPEN and not appraisal.is_flagged
    assert not Notification.objects.exists()

    svc.appraisal_propose(actor=cast.secretary_a, appraisal=appraisal, version=appraisal.version,
                          excellent_reason="两名同志在防汛救灾中表现突出。")  # fmt: skip
    appraisal.refresh_from_db()
    assert appraisal.state == Appraisal.State.PROPOSED
    assert appraisal.is_flagged and appraisal.excellent_reason == "两名同志在防汛救灾中表现突出。"
    note = Notification.objects.get()
    assert note.user == higher and "超过三分之一" in note.title
    assert AuditEvent.objects.filter(action="appraisal_propose", detail__flagged=True).exists()


def test_it_does_not_flag_exactly_a_third(cast):
    appraisal = _open(cast)
    _grade(cast, appraisal, [E, Q, Q])
    appraisal.refresh_from_db()
    svc.appraisal_propose(actor=cast.secretary_a, appraisal=appraisal, version=appraisal.version,
                          excellent_reason="无需理由")  # fmt: skip
    appraisal.refresh_from_db()
    assert appraisal.state == Appraisal.State.PROPOSED
    assert not appraisal.is_flagged and appraisal.excellent_reason == ""
    # The higher org has no secretary in the cast: the committee admin is told instead.
    assert Notification.objects.get().user == cast.committee_admin


def test_it_needs_every_member_graded_before_proposing(cast):
    appraisal = _open(cast)
    entry = appraisal.entries.first()
    svc.entry_review(actor=cast.secretary_a, entry=entry, peer_summary="", rating={}, proposed_grade=Q)
    appraisal.refresh_from_db()
    with pytest.raises(ValidationError, match="还有 2 名党员"):
        svc.appraisal_propose(actor=cast.secretary_a, appraisal=appraisal, version=appraisal.version)
    with pytest.raises(PermissionDenied):
        svc.appraisal_propose(actor=cast.member, appraisal=appraisal, version=appraisal.version)


def test_it_approves_into_final_grades_and_locks_the_entries(cast):
    higher = _higher_secretary(cast)
    appraisal = _open(cast)
    _grade(cast, appraisal, [Q, E, B])
    appraisal.refresh_from_db()
    stale = appraisal.version - 1
    with pytest.raises(Conflict):
        svc.appraisal_propose(actor=cast.secretary_a, appraisal=appraisal, version=stale)
    svc.appraisal_propose(actor=cast.secretary_a, appraisal=appraisal, version=appraisal.version)
    entry = appraisal.entries.get(person=cast.person(cast.member))
    with pytest.raises(Conflict):
        svc.entry_self_assess(actor=cast.member, entry=entry, text="迟到的自评")
    with pytest.raises(PermissionDenied):
        svc.appraisal_review(
            actor=cast.secretary_a, appraisal=appraisal, version=appraisal.version, approve=True
        )
    svc.appraisal_review(actor=higher, appraisal=appraisal, version=appraisal.version, approve=True)
    appraisal.refresh_from_db()
    assert appraisal.state == Appraisal.State.APPROVED and appraisal.approved_by == higher
    finals = dict(
        AppraisalEntry.objects.filter(appraisal=appraisal).values_list("proposed_grade", "final_grade")
    )
    assert finals == {Q: Q, E: E, B: B}
    assert AuditEvent.objects.filter(action="appraisal_approve", actor=higher).exists()
    with pytest.raises(Conflict):
        svc.appraisal_review(actor=higher, appraisal=appraisal, version=appraisal.version, approve=True)


def test_it_returns_with_an_opinion_to_the_branch(cast):
    appraisal = _open(cast)
    _grade(cast, appraisal, [Q, Q, Q])
    appraisal.refresh_from_db()
    svc.appraisal_propose(actor=cast.secretary_a, appraisal=appraisal, version=appraisal.version)
    with pytest.raises(ValidationError):
        svc.appraisal_review(actor=cast.committee_admin, appraisal=appraisal, version=appraisal.version,
                             approve=False, opinion=" ")  # fmt: skip
    Notification.objects.all().delete()
    svc.appraisal_review(actor=cast.committee_admin, appraisal=appraisal, version=appraisal.version,
                         approve=False, opinion="请补充民主测评票数。")  # fmt: skip
    appraisal.refresh_from_db()
    assert appraisal.state == Appraisal.State.OPEN
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"shuji_a", "dangwu_a"}
    assert Notification.objects.filter(body__contains="请补充民主测评票数").count() == 2
    assert not AppraisalEntry.objects.filter(appraisal=appraisal).exclude(final_grade="").exists()
