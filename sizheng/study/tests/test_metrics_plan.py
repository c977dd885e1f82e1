"""Central-group sessions held vs planned."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from sizheng.core import metrics
from sizheng.core.metrics import Suppressed
from sizheng.core.rules import Period
from sizheng.life import services as life_services
from sizheng.study import services

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_it_reports_sessions_held_against_the_plans_topics(cast):
    plan = services.plan_create(
        actor=cast.committee_admin, org=cast.leading_a, year=2026, title="2026年中心组学习计划"
    )
    for month in (3, 6, 9, 12):
        services.topic_add(actor=cast.committee_admin, plan=plan, title=f"{month}月专题", month=month)
    start = datetime(2026, 3, 10, 9, tzinfo=SH)
    life_services.meeting_record(
        actor=cast.committee_admin,
        org=cast.leading_a,
        kind="central_group_study",
        topic="专题学习",
        starts_at=start,
        ends_at=start.replace(hour=12),
        place="会议室",
    )
    values = metrics.compute(
        "study.central_group_plan_rate",
        [cast.leading_a.pk, cast.branch_a1.pk],
        Period.parse("2026"),
        consumer="dashboard",
    )
    assert values[cast.leading_a.pk] == 25.0
    assert isinstance(values[cast.branch_a1.pk], Suppressed)
