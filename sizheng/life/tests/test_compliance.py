"""Compliance from meeting records: a recorded 党员大会 turns the quarter's cell to met."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from sizheng.core.rules import Period
from sizheng.life import compliance, services
from sizheng.life.models import ComplianceRule, Meeting, MeetingKind, MeetingState

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def _at(d: date, hour: int = 9) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=SH)


def test_it_ships_the_national_defaults_as_data():
    codes = set(ComplianceRule.objects.values_list("code", flat=True))
    assert {"BR-MTG-1", "BR-MTG-2", "BR-OLM-1", "BR-OLM-1-Q4", "DLM-2", "CGS-1"} <= codes
    assert ComplianceRule.objects.get(code="BR-OLM-1").severity == "violation"
    assert ComplianceRule.objects.get(code="BR-MTG-1").severity == "warning"


@time_machine.travel(date(2026, 8, 20), tick=False)
def test_it_turns_the_quarter_to_met_when_a_members_meeting_is_recorded(cast):
    q3 = Period.parse("2026-Q3")
    key = (cast.branch_a1.pk, "BR-MTG-1", "2026-Q3")
    before = compliance.evaluate([cast.branch_a1], [q3], rule_codes=["BR-MTG-1"]).outcomes
    assert before[key].status == "not_yet_due"
    q2 = compliance.evaluate([cast.branch_a1], [Period.parse("2026-Q2")], rule_codes=["BR-MTG-1"]).outcomes
    assert q2[(cast.branch_a1.pk, "BR-MTG-1", "2026-Q2")].status == "warning"

    meeting = services.meeting_record(
        actor=cast.secretary_a,
        org=cast.branch_a1,
        kind=MeetingKind.MEMBERS_MEETING,
        topic="学习贯彻全会精神",
        starts_at=_at(date(2026, 8, 12)),
        ends_at=_at(date(2026, 8, 12), 11),
        place="三楼会议室",
    )
    assert meeting.state == MeetingState.SUBMITTED
    assert meeting.attendance.count() == 3  # the branch's three members, from the roster
    after = compliance.evaluate([cast.branch_a1], [q3], rule_codes=["BR-MTG-1"]).outcomes
    assert after[key].status == "met"


@time_machine.travel(date(2027, 1, 10), tick=False)
def test_it_does_not_count_drafts_and_honours_exemptions(cast):
    services.meeting_record(
        actor=cast.secretary_a,
        org=cast.branch_a1,
        kind=MeetingKind.MEMBERS_MEETING,
        topic="草稿",
        starts_at=_at(date(2026, 11, 5)),
        ends_at=_at(date(2026, 11, 5), 10),
        place="会议室",
        submit=False,
    )
    q4 = [Period.parse("2026-Q4")]
    key = (cast.branch_a1.pk, "BR-MTG-1", "2026-Q4")
    assert (
        compliance.evaluate([cast.branch_a1], q4, rule_codes=["BR-MTG-1"]).outcomes[key].status == "warning"
    )
    rule = ComplianceRule.objects.get(code="BR-MTG-1")
    services.exemption_add(
        actor=cast.committee_admin,
        rule=rule,
        org=cast.branch_a1,
        period_key="2026-Q4",
        reason="支部于本季度合并重组",
    )
    assert compliance.evaluate([cast.branch_a1], q4, rule_codes=["BR-MTG-1"]).outcomes[key].status == "exempt"


def test_it_checks_the_quorum_of_a_members_meeting(cast):
    start = _at(date(2026, 5, 6))
    meeting = services.meeting_record(
        actor=cast.secretary_a,
        org=cast.branch_a1,
        kind=MeetingKind.MEMBERS_MEETING,
        topic="选举",
        place="会议室",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        attendance={p.pk: ("absent", "出差") for p in meeting_people(cast)[:2]},
    )
    q = services.quorum(meeting)
    assert q == {
        "expected": 3,
        "present": 1,
        "absent": 2,
        "quorum": 2,
        "quorum_met": False,
        "rule": "BR-MTG-1q",
    }
    assert services.motion_passes(2, 3) and not services.motion_passes(1, 3)


def test_it_refuses_bad_records_with_chinese_messages(cast):
    from django.core.exceptions import ValidationError

    start = _at(date(2026, 5, 6))
    with pytest.raises(ValidationError, match="结束时间必须晚于开始时间"):
        services.meeting_record(
            actor=None,
            org=cast.branch_a1,
            kind="members_meeting",
            topic="x",
            place="y",
            starts_at=start,
            ends_at=start,
        )
    assert not Meeting.objects.exists()


def meeting_people(cast):
    from sizheng.org.models import Person

    return list(Person.objects.filter(org=cast.branch_a1).order_by("pk"))


@time_machine.travel(date(2026, 10, 20), tick=False)
def test_it_reports_the_compliance_rate_by_kind(cast):
    from sizheng.core import metrics

    q3 = Period.parse("2026-Q3")
    services.meeting_record(actor=cast.secretary_a, org=cast.branch_a1, kind=MeetingKind.MEMBERS_MEETING,
                            topic="党员大会", starts_at=_at(date(2026, 8, 12)), ends_at=_at(date(2026, 8, 12), 11),
                            place="会议室")  # fmt: skip
    rate = metrics.compute("life.compliance_rate.members_meeting", [cast.branch_a1.pk, cast.branch_b1.pk], q3,
                           consumer="dashboard")  # fmt: skip
    assert rate == {cast.branch_a1.pk: 100.0, cast.branch_b1.pk: 0.0}
    theme = metrics.compute("life.compliance_rate.theme_day", [cast.branch_a1.pk], q3, consumer="dashboard")
    assert theme[cast.branch_a1.pk] == 0.0  # three monthly theme days due, none held


def test_it_reinstalls_the_national_defaults_without_touching_local_rules():
    ComplianceRule.objects.filter(code="BR-MTG-1").delete()
    ComplianceRule.objects.create(code="LOCAL-1", activity="party_lecture", org_kinds="branch", count=2,
                                  period="quarter", severity="warning", label="本地：每季度两次党课", source="本地规定",
                                  is_local=True)  # fmt: skip
    assert services.compliance_rules_install_defaults() == 1
    assert ComplianceRule.objects.get(code="BR-MTG-1").period == "quarter"
    assert ComplianceRule.objects.filter(code="LOCAL-1").exists()
    assert services.compliance_rules_install_defaults() == 0
