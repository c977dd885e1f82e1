"""Talk coverage computed from who and when only (BR-TALK-1, LEAD-TALK-1, GROUP-TALK-1)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent
from sizheng.org.models import Org, OrgRole
from sizheng.org.testing import appoint, make_org, make_person
from sizheng.talks import coverage
from sizheng.talks.models import CoverageRule, Kind, Status, Talk, TalkParticipant

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
TODAY = datetime(2026, 8, 20, 10, tzinfo=SH)


@pytest.fixture(autouse=True)
def _rules(db):
    coverage.coverage_rules_install_defaults()


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def talk(org, initiator, *others, on=date(2026, 3, 2), status=Status.HELD, kind=Kind.DAILY) -> Talk:
    """A talk written straight to the models (coverage reads only these rows)."""
    t = Talk.objects.create(org=org, initiator=initiator, held_on=on, status=status, kind=kind)
    TalkParticipant.objects.create(talk=t, person=initiator, is_initiator=True)
    for p in others:
        TalkParticipant.objects.create(talk=t, person=p)
    return t


def rows_of(org: Org, year: int = 2026) -> dict[str, coverage.PersonCoverage]:
    result = coverage.compute(coverage.members_q(org), year)
    return {r.name: r for r in result.rows}


def status(row: coverage.PersonCoverage, code: str = "BR-TALK-1") -> str | None:
    o = row.outcome(code)
    return o.status if o else None


def test_it_marks_a_member_who_talked_with_the_secretary_met(cast):
    sec, member = cast.person(cast.secretary_a), cast.person(cast.member)
    before = rows_of(cast.branch_a1)
    assert status(before[member.name]) == "not_yet_due"
    talk(cast.branch_a1, sec, member, on=date(2026, 3, 2))
    rows = rows_of(cast.branch_a1)
    row = rows[member.name]
    assert status(row) == "met"
    assert (row.with_committee, row.with_secretary, row.last_talk_on) == (1, 1, date(2026, 3, 2))
    # The branch's only 支委 is covered by a talk with a member (支委–党员).
    assert status(rows[sec.name]) == "met"
    # Someone else in the branch is still due.
    assert status(rows[cast.person(cast.org_admin).name]) == "not_yet_due"


def test_it_counts_a_talk_of_any_kind_because_coverage_never_reads_the_kind(cast):
    sec, member = cast.person(cast.secretary_a), cast.person(cast.member)
    talk(cast.branch_a1, member, sec, kind=Kind.CARE)  # the member initiated: either side counts
    with CaptureQueriesContext(connection) as ctx:
        rows = rows_of(cast.branch_a1)
    assert status(rows[member.name]) == "met"
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    for column in Talk.T2_FIELDS:
        assert f'"talks_talk"."{column}"' not in sql


def test_it_ignores_planned_cancelled_and_other_years_talks_and_warns_after_the_year(cast):
    sec, member = cast.person(cast.secretary_a), cast.person(cast.member)
    talk(cast.branch_a1, sec, member, status=Status.PLANNED)
    talk(cast.branch_a1, sec, member, status=Status.CANCELLED)
    talk(cast.branch_a1, sec, member, on=date(2025, 12, 31))
    assert status(rows_of(cast.branch_a1)[member.name]) == "not_yet_due"
    with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=SH), tick=False):
        row = rows_of(cast.branch_a1, 2026)[member.name]
        assert status(row) == "warning"
        assert row.outcome("BR-TALK-1").held == 0
        assert status(rows_of(cast.branch_a1, 2025)[member.name]) == "met"


def test_it_does_not_count_a_talk_between_two_members_who_are_not_on_the_committee(cast):
    admin, member = cast.person(cast.org_admin), cast.person(cast.member)  # 党务干部 is no 支委 post
    talk(cast.branch_a1, admin, member)
    rows = rows_of(cast.branch_a1)
    assert status(rows[member.name]) == "not_yet_due"
    assert rows[member.name].with_committee == 0 and rows[member.name].talks == 1


def test_it_asks_a_committee_member_for_a_talk_with_another_one_once_there_is_a_committee(cast):
    sec, admin, member = cast.person(cast.secretary_a), cast.person(cast.org_admin), cast.person(cast.member)
    appoint(admin, cast.branch_a1, OrgRole.Title.ORGANIZATION)
    talk(cast.branch_a1, sec, member)
    rows = rows_of(cast.branch_a1)
    assert status(rows[member.name]) == "met"
    assert status(rows[sec.name]) == "not_yet_due"  # no longer the only 支委: a 支委–支委 talk is due
    talk(cast.branch_a1, sec, admin, on=date(2026, 4, 1))
    rows = rows_of(cast.branch_a1)
    assert status(rows[sec.name]) == "met" and status(rows[admin.name]) == "met"
    assert rows[admin.name].with_secretary == 1


def test_it_counts_a_post_only_from_the_day_it_was_held(cast):
    admin, member = cast.person(cast.org_admin), cast.person(cast.member)
    OrgRole.objects.create(org=cast.branch_a1, person=admin, title=OrgRole.Title.PUBLICITY,
                           starts_on=date(2026, 6, 1))  # fmt: skip
    talk(cast.branch_a1, admin, member, on=date(2026, 5, 31))
    assert status(rows_of(cast.branch_a1)[member.name]) == "not_yet_due"
    talk(cast.branch_a1, admin, member, on=date(2026, 6, 1))
    assert status(rows_of(cast.branch_a1)[member.name]) == "met"


def test_it_asks_a_group_leader_for_two_talks_with_each_member_of_the_group(cast):
    group = make_org("第一党小组", Org.Kind.GROUP, cast.branch_a1, "A1-G1", units=[cast.unit_a])
    leader = make_person("组长甲", cast.unit_a, org=group, office=cast.office_a1)
    member = make_person("组员乙", cast.unit_a, org=group, office=cast.office_a1)
    appoint(leader, group, OrgRole.Title.GROUP_LEADER)
    talk(group, leader, member, on=date(2026, 2, 1))
    rows = rows_of(cast.branch_a1)  # the branch's page lists its groups' members too
    o = rows[member.name].outcome("GROUP-TALK-1")
    assert (o.status, o.held, o.required) == ("not_yet_due", 1, 2)
    assert rows[leader.name].outcome("GROUP-TALK-1") is None  # the leader is not their own member
    assert rows[cast.person(cast.member).name].outcome("GROUP-TALK-1") is None  # not in a group
    talk(group, member, leader, on=date(2026, 7, 1))
    assert status(rows_of(group)[member.name], "GROUP-TALK-1") == "met"
    # A group member is a branch member too: the group leader is no 支委, the secretary is.
    assert status(rows_of(group)[member.name]) == "not_yet_due"


def test_it_asks_each_team_member_for_a_talk_with_the_principal_leader(cast):
    principal = cast.person(cast.leader)  # 陈志强, 局长
    deputy = make_person("副局长甲", cast.unit_a, org=cast.branch_a2, is_leader=True, position="副局长")
    rows = rows_of(cast.branch_a2)
    assert status(rows[deputy.name], "LEAD-TALK-1") == "not_yet_due"
    assert rows[principal.name].outcome("LEAD-TALK-1") is None
    talk(cast.leading_a, principal, deputy, on=date(2026, 7, 1))
    assert status(rows_of(cast.branch_a2)[deputy.name], "LEAD-TALK-1") == "met"


def test_it_binds_no_team_member_when_the_unit_has_no_principal_leader(cast):
    from sizheng.org.models import Person

    Person.objects.filter(user=cast.leader).update(position="副局长")
    deputy = make_person("副局长乙", cast.unit_a, org=cast.branch_a2, is_leader=True, position="副局长")
    assert rows_of(cast.branch_a2)[deputy.name].outcome("LEAD-TALK-1") is None


def test_it_maps_a_rule_row_to_a_yearly_core_rule_binding_its_target_kind():
    row = CoverageRule.objects.get(code="GROUP-TALK-1")
    rule = coverage.to_rule(row)
    assert (rule.id, rule.period, rule.count, rule.org_kinds) == ("GROUP-TALK-1", "year", 2, {"group_member"})
    assert rule.activity == "talk_with_group_leader" and rule.local
    with pytest.raises(ValueError):
        coverage.to_rule(CoverageRule(code="X", target_kind="nobody", label="x"))


def test_it_skips_an_inactive_rule(cast):
    CoverageRule.objects.filter(code="BR-TALK-1").update(is_active=False)
    assert status(rows_of(cast.branch_a1)[cast.person(cast.member).name]) is None


def test_it_computes_in_the_same_queries_for_few_and_many_members_and_talks(cast):
    sec = cast.person(cast.secretary_a)
    talk(cast.branch_a1, sec, cast.person(cast.member))
    with CaptureQueriesContext(connection) as few:
        rows_of(cast.branch_a1)
    people = [make_person(f"党员{i}", cast.unit_a, org=cast.branch_a1) for i in range(12)]
    for i, p in enumerate(people):
        talk(cast.branch_a1, sec, p, on=date(2026, 1 + i % 7, 3))
    with CaptureQueriesContext(connection) as many:
        assert len(rows_of(cast.branch_a1)) == 15
    assert len(few.captured_queries) == len(many.captured_queries) <= 6


def test_it_installs_the_defaults_once_and_keeps_an_administrators_count(cast):
    CoverageRule.objects.filter(code="GROUP-TALK-1").update(count=3)
    CoverageRule.objects.filter(code="LEAD-TALK-1").delete()
    assert coverage.coverage_rules_install_defaults() == 1
    assert coverage.coverage_rules_install_defaults() == 0
    assert CoverageRule.objects.get(code="GROUP-TALK-1").count == 3
    assert set(CoverageRule.objects.values_list("code", flat=True)) >= {
        "BR-TALK-1",
        "LEAD-TALK-1",
        "GROUP-TALK-1",
    }


def test_it_updates_a_rule_with_compare_and_swap_and_an_audit_row(cast):
    rule = CoverageRule.objects.get(code="BR-TALK-1")
    coverage.coverage_rule_update(actor=cast.committee_admin, rule=rule, version=rule.version, count=2,
                                  severity="violation", is_active=True)  # fmt: skip
    rule.refresh_from_db()
    assert (rule.count, rule.severity, rule.version) == (2, "violation", 2)
    event = AuditEvent.objects.get(action="coverage_rule_update")
    assert event.detail == {"code": "BR-TALK-1", "fields": ["count", "severity"]}
    with pytest.raises(Conflict):
        coverage.coverage_rule_update(actor=cast.committee_admin, rule=rule, version=1, count=1,
                                      severity="warning", is_active=True)  # fmt: skip


def test_it_says_who_is_the_principal_leader():
    assert coverage.is_principal("局长") and coverage.is_principal("党组书记、局长")
    assert (
        not coverage.is_principal("副局长")
        and not coverage.is_principal("")
        and not coverage.is_principal("  ")
    )


@given(st.text(max_size=8))
def test_it_never_takes_a_deputy_or_a_blank_position_for_the_principal(position):
    assert coverage.is_principal(position) == (bool(position.strip()) and "副" not in position)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=-40, max_value=400), st.sampled_from(list(Status.values)), st.booleans()
        ),
        max_size=6,
    ),
    st.integers(min_value=1, max_value=3),
)
def test_it_is_met_exactly_when_enough_held_talks_with_a_committee_member_fall_in_the_year(
    cast, talks, count
):
    CoverageRule.objects.filter(code="BR-TALK-1").update(count=count)
    Talk.objects.all().delete()
    sec, admin, member = cast.person(cast.secretary_a), cast.person(cast.org_admin), cast.person(cast.member)
    expected = 0
    for offset, st_, with_sec in talks:
        day = date(2026, 1, 1) + timedelta(days=offset)
        talk(cast.branch_a1, sec if with_sec else admin, member, on=day, status=st_)
        expected += with_sec and st_ == Status.HELD and day.year == 2026
    row = rows_of(cast.branch_a1)[member.name]
    assert row.outcome("BR-TALK-1").held == expected
    assert (status(row) == "met") == (expected >= count)
    assert status(row) in ("met", "not_yet_due")  # the year is still running on 2026-08-20


def test_it_lists_the_group_children_with_the_branch_but_not_other_branches(cast):
    names = set(rows_of(cast.branch_a1))
    assert cast.person(cast.member).name in names
    assert cast.person(cast.leader).name not in names  # branch A2
