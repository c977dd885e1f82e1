"""Wellbeing metrics: T3 aggregates the registry refuses to assessment and dashboards."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.care import wellbeing
from sizheng.care.metrics_wellbeing import TOO_FEW
from sizheng.core import metrics
from sizheng.core.metrics import Consumer, MetricAccessError, Suppressed, Tier
from sizheng.core.rules import Period
from sizheng.org.testing import org_targets

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
YEAR = Period.of("year", 2026)
NAMES = ("wellbeing.participation", "wellbeing.severe_share")
MILD = [1, 1, 1, 1, 1, 0, 0, 0, 0]
SEVERE = [3, 3, 3, 3, 3, 3, 2, 0, 0]


def _screen(user, answers=MILD, *, anonymous=True, month=3):
    with time_machine.travel(datetime(2026, month, 10, 9, tzinfo=SH), tick=False):
        wellbeing.screening_submit(actor=user, instrument="phq9", answers=answers, anonymous=anonymous,
                                   consent=True)  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_it_declares_t3_yearly_org_metrics(name):
    m = metrics.get(name)
    assert (m.tier, m.level, m.period_kind) == (Tier.T3, "org", "year")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("consumer", [Consumer.ASSESSMENT, Consumer.DASHBOARD])
def test_it_is_refused_to_assessment_and_the_dashboard(cast, name, consumer):
    with pytest.raises(MetricAccessError):
        metrics.compute(name, [cast.committee_a.pk], YEAR, consumer=consumer)
    assert name not in {m.name for m in metrics.for_consumer(consumer)}


def test_it_reaches_leaders_only_over_groups_at_the_threshold(cast, settings):
    settings.ANONYMITY_MIN_GROUP = 5
    with pytest.raises(MetricAccessError):
        metrics.compute(
            "wellbeing.participation", [cast.committee_a.pk], YEAR, consumer=Consumer.LEADER, group_size=4
        )
    values = metrics.compute(
        "wellbeing.participation", [cast.committee_a.pk], YEAR, consumer=Consumer.LEADER, group_size=5
    )
    assert isinstance(values[cast.committee_a.pk], Suppressed)


def test_it_counts_named_and_anonymous_screenings_per_subtree_and_suppresses_small_groups(cast, settings):
    settings.ANONYMITY_MIN_GROUP = 5
    for _ in range(6):  # five flushed, one pending
        _screen(cast.member)
    _screen(cast.secretary_a, SEVERE, anonymous=False, month=11)
    _screen(cast.leader, SEVERE)  # branch A2
    _screen(cast.outsider)  # branch C
    with time_machine.travel(datetime(2025, 12, 31, 9, tzinfo=SH), tick=False):
        wellbeing.screening_submit(actor=cast.member, instrument="gad7", answers=[0] * 7, consent=True)
    targets = [cast.root.pk, cast.committee_a.pk, cast.branch_a1.pk, cast.branch_a2.pk, cast.branch_c.pk]
    part = metrics.compute("wellbeing.participation", targets, YEAR, consumer=Consumer.COUNSELOR)
    assert part[cast.root.pk] == 9 and part[cast.committee_a.pk] == 8 and part[cast.branch_a1.pk] == 7
    assert isinstance(part[cast.branch_a2.pk], Suppressed) and isinstance(part[cast.branch_c.pk], Suppressed)
    assert "匿名阈值" in part[cast.branch_c.pk].reason
    share = metrics.compute("wellbeing.severe_share", targets, YEAR, consumer=Consumer.COUNSELOR)
    assert share[cast.committee_a.pk] == 25.0 and share[cast.branch_a1.pk] == round(100 / 7, 1)
    assert share[cast.root.pk] == round(200 / 9, 1) and isinstance(share[cast.branch_a2.pk], Suppressed)
    last_year = metrics.compute("wellbeing.participation", [cast.root.pk], Period.of("year", 2025),
                                consumer=Consumer.COUNSELOR)  # fmt: skip
    assert last_year[cast.root.pk] == Suppressed(TOO_FEW)  # one GAD-7 on 31 December 2025


@pytest.mark.parametrize("name", NAMES)
def test_it_reads_in_the_same_queries_for_one_and_fifty_targets_with_data(cast, settings, name):
    settings.ANONYMITY_MIN_GROUP = 3
    for _ in range(4):
        _screen(cast.member)
    _screen(cast.secretary_a, anonymous=False)
    one, fifty = [cast.committee_a.pk], [cast.committee_a.pk, *org_targets(49)]
    with CaptureQueriesContext(connection) as q1:
        metrics.compute(name, one, YEAR, consumer=Consumer.COUNSELOR)
    with CaptureQueriesContext(connection) as q50:
        values = metrics.compute(name, fifty, YEAR, consumer=Consumer.COUNSELOR)
    assert len(q1.captured_queries) == len(q50.captured_queries) <= 5
    assert not isinstance(values[cast.committee_a.pk], Suppressed)
