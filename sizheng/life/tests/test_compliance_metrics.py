"""Organisational life's metrics: compliance rate, attendance rate, central-group sessions."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

import sizheng.life.metrics  # noqa: F401  (registers the metrics)
from sizheng.core import metrics
from sizheng.core.metrics import Consumer, Suppressed
from sizheng.core.rules import Period
from sizheng.life import services
from sizheng.life.models import AttendanceStatus, ComplianceRule, Meeting, MeetingKind
from sizheng.org.testing import org_targets

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime(2026, 8, 20, 10, tzinfo=SH), tick=False):
        yield


def _record(cast, org, kind, day: date, **kwargs) -> Meeting:
    return services.meeting_record(
        actor=cast.secretary_a,
        org=org,
        kind=kind,
        topic="专题学习",
        starts_at=datetime(day.year, day.month, day.day, 9, tzinfo=SH),
        ends_at=datetime(day.year, day.month, day.day, 11, tzinfo=SH),
        place="会议室",
        **kwargs,
    )


def _value(name: str, org, key: str):
    return metrics.compute(name, [org.pk], Period.parse(key), consumer=Consumer.DASHBOARD)[org.pk]


def test_it_declares_the_three_metrics_as_t0_org_numbers():
    for name in ("life.compliance_rate", "life.attendance_rate", "life.central_group_sessions"):
        m = metrics.get(name)
        assert m.tier == "T0" and m.level == "org"
    assert metrics.get("life.central_group_sessions").period_kind == "year"


def test_it_rates_compliance_over_the_outcomes_due_in_the_period(cast):
    # Q2 2026 for a branch: 3 months × (支委会, 主题党日) + the quarter's 党员大会 and 党课 = 8 due.
    assert _value("life.compliance_rate", cast.branch_a1, "2026-Q2") == 0.0
    _record(cast, cast.branch_a1, MeetingKind.MEMBERS_MEETING, date(2026, 5, 12))
    assert _value("life.compliance_rate", cast.branch_a1, "2026-Q2") == 12.5
    services.exemption_add(
        actor=cast.committee_admin,
        rule=ComplianceRule.objects.get(code="BR-LEC-1"),
        org=cast.branch_a1,
        period_key="2026-Q2",
        reason="主讲人外出学习",
    )
    assert _value("life.compliance_rate", cast.branch_a1, "2026-Q2") == 25.0


def test_it_suppresses_the_compliance_rate_when_nothing_is_due(cast):
    value = _value("life.compliance_rate", cast.branch_a1, "2026-Q4")
    assert isinstance(value, Suppressed) and "没有已到期" in value.reason
    general = _value("life.compliance_rate", cast.general_b, "2026-Q2")  # no rule binds a 党总支
    assert isinstance(general, Suppressed)


def test_it_rates_attendance_over_counted_meetings(cast):
    person = cast.person(cast.member)
    _record(
        cast,
        cast.branch_a1,
        MeetingKind.MEMBERS_MEETING,
        date(2026, 5, 12),
        attendance={person.pk: (AttendanceStatus.ABSENT, "出差")},
    )
    _record(cast, cast.branch_a1, MeetingKind.COMMITTEE_MEETING, date(2026, 5, 20), submit=False)  # a draft
    assert _value("life.attendance_rate", cast.branch_a1, "2026-Q2") == pytest.approx(66.7)
    assert isinstance(_value("life.attendance_rate", cast.branch_a1, "2026-Q1"), Suppressed)
    assert isinstance(_value("life.attendance_rate", cast.branch_c, "2026-Q2"), Suppressed)


def test_it_counts_central_group_sessions_for_leading_groups_only(cast):
    _record(cast, cast.leading_a, MeetingKind.CENTRAL_GROUP_STUDY, date(2026, 3, 3))
    _record(cast, cast.leading_a, MeetingKind.CENTRAL_GROUP_STUDY, date(2026, 6, 3))
    _record(cast, cast.leading_a, MeetingKind.CENTRAL_GROUP_STUDY, date(2025, 12, 3))
    assert _value("life.central_group_sessions", cast.leading_a, "2026") == 2
    assert isinstance(_value("life.central_group_sessions", cast.branch_a1, "2026"), Suppressed)
    assert isinstance(_value("life.central_group_sessions", cast.leading_a, "2027"), Suppressed)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("life.compliance_rate", "2026-Q2"),
        ("life.attendance_rate", "2026-Q2"),
        ("life.central_group_sessions", "2026"),
    ],
)
def test_it_computes_each_metric_in_a_fixed_number_of_queries(cast, name, key):
    period = Period.parse(key)
    one = [cast.branch_a1.pk]
    _record(cast, cast.branch_a1, MeetingKind.MEMBERS_MEETING, date(2026, 5, 12))
    with CaptureQueriesContext(connection) as small:
        metrics.compute(name, one, period, consumer=Consumer.DASHBOARD)
    many = [*one, cast.leading_a.pk, *org_targets(30)]
    with CaptureQueriesContext(connection) as large:
        metrics.compute(name, many, period, consumer=Consumer.DASHBOARD)
    assert len(small.captured_queries) == len(large.captured_queries) <= 4
