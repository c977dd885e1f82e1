"""Staffing coverage as rules data: ≥ 50 members and no full-time 党务干部 → a gap → a duty, once a year."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import given
from hypothesis import strategies as st

from sizheng.duties.models import Duty, SourceKind
from sizheng.org.models import Org
from sizheng.org.testing import make_org
from sizheng.team import coverage, jobs, metrics, services
from sizheng.team.models import CoverageRule, Gap, TeamRole
from sizheng.team.tests.helpers import audited, enlist, fill

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today")]
TODAY = date(2026, 11, 20)  # a Friday


@pytest.fixture
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def big(cast):
    """Branch A2 grows to 51 members, so it and committee A (≥ 50 in its subtree) are bound by TEAM-1."""
    fill(cast.branch_a2, cast.unit_a, 50)
    return cast


def _cell(result, org, code=coverage.TEAM_1):
    row = result.rows.get(org.pk)
    return row.cells.get(code) if row else None


def test_it_finds_a_gap_where_fifty_members_have_no_full_time_party_cadre(big):
    result = coverage.compute(2026)
    committee, a2 = _cell(result, big.committee_a), _cell(result, big.branch_a2)
    assert committee.status == a2.status == "violation" and committee.held == 0
    assert _cell(result, big.branch_a1) is None  # 3 members: not bound
    assert a2.message == "党员 51 名，未配备专职党务干部，应至少配备 1 名。"
    assert result.rows[big.branch_a2.pk].members == 51 and result.rows[big.committee_a.pk].members >= 54


def test_it_counts_only_full_time_party_cadres_and_inherits_from_the_committee(big):
    enlist(big, big.member, org=big.committee_a, full_time=False)  # part-time: no
    enlist(big, big.org_admin, org=big.committee_a, role=TeamRole.BACKBONE, full_time=True)  # other role: no
    result = coverage.compute(2026)
    assert _cell(result, big.committee_a).status == "violation"
    enlist(big, big.secretary_a, org=big.committee_a, full_time=True)
    result = coverage.compute(2026)
    assert _cell(result, big.committee_a).status == "met"
    assert _cell(result, big.branch_a2).status == "met"  # covered from the committee above (inherit)
    assert _cell(result, big.committee_a).message == "已配备专职党务干部 1 名，达到要求。"


def test_it_never_covers_from_the_work_committee(big):
    enlist(big, big.secretary_b, org=big.root, full_time=True)
    assert _cell(coverage.compute(2026), big.committee_a).status == "violation"


def test_it_checks_a_past_year_on_its_last_day_and_exempts_an_org_founded_in_the_year(big):
    entry = enlist(big, big.secretary_a, org=big.committee_a, full_time=True, since=date(2024, 1, 1))
    services.member_end(
        actor=big.committee_admin, member=entry, version=entry.version, until=date(2025, 6, 30)
    )
    assert _cell(coverage.compute(2025), big.committee_a).status == "violation"
    assert _cell(coverage.compute(2024), big.committee_a).status == "met"
    new = make_org("新成立的党总支", Org.Kind.GENERAL_BRANCH, big.root, "NEW", units=[big.unit_b])
    Org.objects.filter(pk=new.pk).update(founded_on=date(2026, 3, 1))
    fill(new, big.unit_b, 60)
    cell = _cell(coverage.compute(2026), new)
    assert cell.status == "exempt" and not cell.is_gap
    assert coverage.compute(2027).rows == {}  # a year to come has nothing to judge


def test_it_binds_each_branch_to_a_backbone_under_the_local_rule(cast):
    result = coverage.compute(2026)
    assert _cell(result, cast.branch_a1, "TEAM-2").status == "warning"
    enlist(cast, cast.member, role=TeamRole.BACKBONE)
    assert _cell(coverage.compute(2026), cast.branch_a1, "TEAM-2").status == "met"


def test_it_follows_the_rule_data_an_administrator_edits(big):
    rule = CoverageRule.objects.get(code=coverage.TEAM_1)
    services.rule_update(actor=big.committee_admin, rule=rule, version=rule.version, min_members=100, count=1,
                         severity="warning", is_active=True)  # fmt: skip
    assert _cell(coverage.compute(2026), big.committee_a) is None
    assert audited("team_rule_update", rule)
    with pytest.raises(PermissionDenied):
        services.rule_update(actor=big.secretary_a, rule=rule, version=rule.version, min_members=10, count=1,
                             severity="warning", is_active=True)  # fmt: skip


def test_it_opens_one_duty_per_gap_and_year(big):
    rule = CoverageRule.objects.get(code=coverage.TEAM_1)
    gap, opened = services.gap_duty_open(actor=big.committee_admin, rule=rule, org=big.committee_a)
    assert opened and gap.year == 2026 and gap.members >= 54
    duty = Duty.objects.get(pk=gap.duty_id)
    assert (
        duty.title == "配备专职党务干部" and duty.source_kind == SourceKind.TEAM and duty.source_id == gap.pk
    )
    assert duty.assignee_org_id == big.committee_a.pk and duty.assigning_org_id == big.root.pk
    assert audited("team_gap_duty_open", gap) and audited("duty_open", duty)
    again, opened = services.gap_duty_open(actor=big.committee_admin, rule=rule, org=big.committee_a)
    assert not opened and again.pk == gap.pk
    assert Duty.objects.filter(source_kind=SourceKind.TEAM).count() == 1
    with pytest.raises(ValidationError, match="没有"):  # no gap at A1 (3 members): nothing to open
        services.gap_duty_open(actor=big.committee_admin, rule=rule, org=big.branch_a1)
    with pytest.raises(PermissionDenied):
        services.gap_duty_open(actor=big.secretary_b, rule=rule, org=big.branch_a2)


def test_it_opens_the_duties_of_new_gaps_daily_and_only_once(big, settings):
    rule = CoverageRule.objects.get(code=coverage.TEAM_1)
    services.gap_duty_open(actor=big.committee_admin, rule=rule, org=big.committee_a)  # a click came first
    gaps = coverage.compute(2026).gaps()
    assert len(gaps) == 6  # TEAM-1: committee A, A2; TEAM-2: A1, A2, B1, C
    assert jobs.gap_duties(TODAY) == 5
    assert jobs.gap_duties(TODAY) == 0
    with time_machine.travel(date(2026, 11, 23), tick=False):
        assert jobs.gap_duties(date(2026, 11, 23)) == 0  # next workday: still once a year
    duties = Duty.objects.filter(source_kind=SourceKind.TEAM)
    assert duties.count() == 6 and Gap.objects.count() == 6
    assert set(duties.values_list("title", flat=True)) == {"配备思政骨干", "配备专职党务干部"}
    assert not duties.filter(created_by__isnull=False).exclude(title="配备专职党务干部").exists()


def test_it_skips_rest_days_and_can_be_switched_off(big, settings):
    assert jobs.gap_duties(date(2026, 11, 21)) == 0  # a Saturday
    settings.TEAM_GAP_DUTIES = False
    assert jobs.gap_duties(TODAY) == 0
    assert not Duty.objects.exists()


@given(st.lists(st.text(alphabet="0123.", min_size=1, max_size=8), max_size=40))
def test_it_keeps_only_the_outermost_subtree_prefixes(paths):
    got = metrics._prefixes(paths)
    if got == [""]:
        assert len(set(paths)) > metrics.MAX_PREFIXES
        return
    assert all(any(p.startswith(g) for g in got) for p in paths)  # every path is still covered
    assert not any(a != b and b.startswith(a) for a in got for b in got)  # none inside another
    assert set(got) <= set(paths)
