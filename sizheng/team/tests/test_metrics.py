"""The team metrics: registered, computed over subtrees, suppressed rather than made up."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from sizheng.core import metrics
from sizheng.core.metrics import Consumer, Suppressed
from sizheng.core.rules import Period
from sizheng.team.models import TeamRole
from sizheng.team.tests.helpers import enlist, fill, meeting

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today")]
NAMES = ("team.coverage_ratio", "team.training_hours_per_member", "team.fulltime_ratio")
YEAR = Period.of("year", 2026)


@pytest.fixture
def _today():
    with time_machine.travel(date(2026, 11, 20), tick=False):
        yield


def _get(name, *orgs, period=YEAR):
    return metrics.compute(name, [o.pk for o in orgs], period, consumer=Consumer.ASSESSMENT)


def test_it_registers_the_team_metrics_for_orgs_by_year():
    for name in NAMES:
        m = metrics.get(name)
        assert m.level == "org" and m.period_kind == "year" and m.tier == "T0"
        assert metrics.allowed(m, Consumer.ASSESSMENT) and metrics.allowed(m, Consumer.DASHBOARD)


def test_it_computes_the_coverage_ratio_over_a_subtree(cast):
    fill(cast.branch_a2, cast.unit_a, 50)  # committee A and branch A2 bound by TEAM-1
    got = _get("team.coverage_ratio", cast.committee_a, cast.branch_a2, cast.branch_a1, cast.root)
    assert got[cast.committee_a.pk] == 0.0 and got[cast.root.pk] == 0.0
    assert isinstance(got[cast.branch_a1.pk], Suppressed)  # nothing bound below A1
    enlist(cast, cast.org_admin, org=cast.branch_a2, full_time=True)
    got = _get("team.coverage_ratio", cast.committee_a, cast.branch_a2, cast.root)
    assert got == {cast.committee_a.pk: 50.0, cast.branch_a2.pk: 100.0, cast.root.pk: 50.0}
    assert isinstance(
        _get("team.coverage_ratio", cast.root, period=Period.of("year", 2027))[cast.root.pk], Suppressed
    )


def test_it_computes_mean_training_hours_of_the_register(cast):
    meeting(cast, date(2026, 3, 10))  # 4 h for everyone in A1
    meeting(cast, date(2026, 4, 10), hours=2)
    enlist(cast, cast.member)
    enlist(cast, person=cast.person(cast.leader), org=cast.branch_a2, role=TeamRole.BACKBONE)  # A2: no study
    got = _get("team.training_hours_per_member", cast.branch_a1, cast.committee_a, cast.branch_b1)
    assert got[cast.branch_a1.pk] == 6.0 and got[cast.committee_a.pk] == 3.0
    assert isinstance(got[cast.branch_b1.pk], Suppressed)
    assert _get("team.training_hours_per_member", cast.branch_a1, period=Period.of("year", 2024))[
        cast.branch_a1.pk
    ] == Suppressed("名册中没有队伍成员")


def test_it_computes_the_full_time_share_of_party_cadres(cast):
    enlist(cast, cast.member, full_time=True)
    enlist(cast, cast.org_admin)
    enlist(cast, cast.secretary_a, role=TeamRole.BACKBONE)  # not a 党务干部
    got = _get("team.fulltime_ratio", cast.branch_a1, cast.branch_b1)
    assert got[cast.branch_a1.pk] == 50.0 and isinstance(got[cast.branch_b1.pk], Suppressed)
