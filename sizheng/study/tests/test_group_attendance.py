"""A study group's session takes its attendance list from the group's members."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from sizheng.core.models import AuditEvent
from sizheng.life.models import AttendanceStatus
from sizheng.org.testing import make_person
from sizheng.study import services
from sizheng.study.models import StudyGroup
from sizheng.study.tests.helpers import lecture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today")]


@pytest.fixture
def _today():
    with time_machine.travel(date(2026, 11, 20), tick=False):
        yield


@pytest.fixture
def youth(cast) -> StudyGroup:
    """A youth group across branches: a member of A1, the leader of A2 and someone who has left."""
    group = services.group_create(actor=cast.secretary_a, org=cast.committee_a, name="青年理论学习小组",
                                  kind=StudyGroup.Kind.YOUTH)  # fmt: skip
    gone = make_person("离职者", cast.unit_a, org=cast.branch_a2)
    for person in (cast.person(cast.member), cast.person(cast.leader), gone):
        services.group_member_add(actor=cast.secretary_a, group=group, person=person)
    gone.left_on = date(2026, 10, 1)
    gone.save(update_fields=["left_on"])
    return group


def _statuses(meeting) -> dict[str, tuple[str, str]]:
    return {a.person.name: (a.status, a.reason) for a in meeting.attendance.select_related("person")}


def test_it_adds_missing_group_members_as_present_to_a_draft(cast, youth):
    meeting = lecture(cast, date(2026, 11, 10), submit=False)
    before = _statuses(meeting)
    services.session_link(actor=cast.secretary_a, meeting=meeting, group=youth)
    after = _statuses(meeting)
    assert after["陈志强"] == (AttendanceStatus.PRESENT, "")  # from branch A2, not on A1's roster
    assert "离职者" not in after
    assert after["刘洋"] == before["刘洋"]  # already expected: left as recorded
    assert len(after) == len(before) + 1
    event = AuditEvent.objects.get(action="study_group_attendance_add")
    assert event.detail["people"] == [cast.person(cast.leader).pk]


def test_it_adds_missing_group_members_as_absent_unrecorded_to_a_submitted_meeting(cast, youth):
    member = cast.person(cast.member)
    meeting = lecture(cast, date(2026, 11, 10), attendance={member.pk: (AttendanceStatus.ON_LEAVE, "出差")})
    services.session_link(actor=cast.secretary_a, meeting=meeting, group=youth)
    after = _statuses(meeting)
    assert after["陈志强"] == (AttendanceStatus.ABSENT, services.UNRECORDED_REASON)
    assert after["刘洋"] == (AttendanceStatus.ON_LEAVE, "出差")


def test_it_adds_nobody_and_writes_no_audit_row_without_a_group(cast, youth):
    meeting = lecture(cast, date(2026, 11, 10))
    before = _statuses(meeting)
    services.session_link(actor=cast.secretary_a, meeting=meeting)
    assert _statuses(meeting) == before
    assert not AuditEvent.objects.filter(action="study_group_attendance_add").exists()
