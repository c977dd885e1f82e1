"""Tests of the pure rules engine: periods, each outcome status, timing windows, exemptions."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sizheng.core.rule_defaults import DEFAULT_RULES, DEFAULT_RULES_BY_ID
from sizheng.core.rules import (
    PERIOD_KINDS,
    Exemption,
    Period,
    Rule,
    Target,
    evaluate,
    evaluate_many,
    periods_between,
)

MTG = DEFAULT_RULES_BY_ID["BR-MTG-1"]
OLM = DEFAULT_RULES_BY_ID["BR-OLM-1"]
OLM_Q4 = DEFAULT_RULES_BY_ID["BR-OLM-1-Q4"]
BRANCH = Target(id=1, kind="branch", founded_on=date(2020, 1, 1))
Q3 = Period.parse("2026-Q3")
AFTER_Q3 = date(2026, 10, 8)

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
kinds = st.sampled_from(PERIOD_KINDS)


def rule(**kw: object) -> Rule:
    """A quarterly branch rule with overrides."""
    base: dict[str, object] = {
        "id": "T-1",
        "activity": "members_meeting",
        "activity_label": "党员大会",
        "verb": "召开",
        "org_kinds": frozenset({"branch"}),
        "count": 1,
        "period": "quarter",
        "severity": "warning",
        "label": "测试规则",
        "source": "测试来源",
    }
    base.update(kw)
    return Rule(**base)  # type: ignore[arg-type]


# --- periods -----------------------------------------------------------------------------


def test_it_names_and_parses_every_period_kind() -> None:
    assert Period.containing("month", date(2026, 7, 15)).key == "2026-07"
    assert Period.containing("quarter", date(2026, 7, 15)).key == "2026-Q3"
    assert Period.containing("half", date(2026, 7, 15)).key == "2026-H2"
    assert Period.containing("year", date(2026, 7, 15)).key == "2026"
    assert Period.parse("2026-Q3") == Period("quarter", date(2026, 7, 1), date(2026, 9, 30))
    assert Period.parse("2024-02").end == date(2024, 2, 29)
    assert Period.parse("2026-Q3").label == "2026年第三季度"
    assert Period.parse("2026-H1").label == "2026年上半年"


@pytest.mark.parametrize("key", ["2026-13", "2026-Q5", "2026-H3", "2026-Q0", "26", "2026-7", "x"])
def test_it_rejects_invalid_period_keys(key: str) -> None:
    with pytest.raises(ValueError):
        Period.parse(key)


def test_it_rejects_a_span_that_is_not_a_period() -> None:
    with pytest.raises(ValueError):
        Period("quarter", date(2026, 2, 1), date(2026, 4, 30))


def test_it_steps_across_year_ends() -> None:
    assert Period.parse("2026-Q4").next().key == "2027-Q1"
    assert Period.parse("2027-Q1").previous().key == "2026-Q4"
    assert Period.parse("2026-H2").next().key == "2027-H1"
    assert Period.parse("2027-H1").previous().key == "2026-H2"
    assert Period.parse("2026-12").next().key == "2027-01"
    assert Period.parse("2026").previous().key == "2025"


def test_it_lists_periods_between_two_dates_across_a_year_end() -> None:
    keys = [p.key for p in periods_between("quarter", date(2026, 11, 5), date(2027, 4, 1))]
    assert keys == ["2026-Q4", "2027-Q1", "2027-Q2"]
    assert list(periods_between("month", date(2026, 2, 1), date(2026, 1, 1))) == []


@given(kinds, days)
def test_it_puts_a_day_inside_its_containing_period(kind: str, d: date) -> None:
    p = Period.containing(kind, d)  # type: ignore[arg-type]
    assert p.start <= d <= p.end
    assert d in p
    assert Period.parse(p.key) == p
    assert Period.parse(p.key).key == p.key


@given(kinds, days)
def test_it_makes_next_and_previous_inverse_and_adjacent(kind: str, d: date) -> None:
    p = Period.containing(kind, d)  # type: ignore[arg-type]
    assert p.next().previous() == p
    assert p.previous().next() == p
    assert p.next().start == p.end + timedelta(days=1)


@given(kinds, days, st.integers(min_value=0, max_value=800))
def test_it_tiles_a_range_without_gaps_or_overlaps(kind: str, start: date, length: int) -> None:
    end = start + timedelta(days=length)
    ps = list(periods_between(kind, start, end))  # type: ignore[arg-type]
    assert ps[0].start <= start <= ps[0].end
    assert ps[-1].start <= end <= ps[-1].end
    for a, b in zip(ps, ps[1:], strict=False):
        assert b.start == a.end + timedelta(days=1)
    assert sum(p.days for p in ps) == (ps[-1].end - ps[0].start).days + 1


# --- rule and exemption data ---------------------------------------------------------------


def test_it_refuses_inconsistent_rules() -> None:
    with pytest.raises(ValueError):
        rule(count=0)
    with pytest.raises(ValueError):
        rule(org_kinds=frozenset())
    with pytest.raises(ValueError):
        rule(within="Q4")  # a window needs a yearly rule
    with pytest.raises(ValueError):
        rule(period="year", within="Q5")
    with pytest.raises(ValueError):
        rule(effective_from=date(2026, 2, 1), effective_to=date(2026, 1, 1))


def test_it_refuses_an_exemption_without_a_reason() -> None:
    with pytest.raises(ValueError):
        Exemption(rule_id="T-1", target_id=1, period_key="2026-Q3", reason="  ")
    with pytest.raises(ValueError):
        Exemption(rule_id="T-1", target_id=1, reason="人数不足")  # names no days
    with pytest.raises(ValueError):
        Exemption(rule_id="T-1", target_id=1, reason="x", period_key="2026", start=date(2026, 1, 1))


def test_it_ships_the_national_defaults_as_data() -> None:
    ids = {r.id for r in DEFAULT_RULES}
    assert {"BR-MTG-1", "BR-MTG-2", "BR-MTG-3", "BR-DAY-1", "BR-OLM-1", "BR-OLM-1-Q4"} <= ids
    assert {"BR-EVAL-1", "DLM-2", "DLM-2-Q4", "BR-LEC-1", "CGS-1", "CGS-2", "BR-TALK-1"} <= ids
    assert len(ids) == len(DEFAULT_RULES)
    assert DEFAULT_RULES_BY_ID["BR-OLM-1"].severity == "violation"
    assert DEFAULT_RULES_BY_ID["DLM-2"].org_kinds == frozenset({"leading_group"})
    assert DEFAULT_RULES_BY_ID["BR-LEC-1"].local
    assert DEFAULT_RULES_BY_ID["CGS-1"].count == 6
    assert DEFAULT_RULES_BY_ID["BR-MTG-3"].org_kinds == frozenset({"group"})
    assert all(r.source.startswith(r.id.removesuffix("-Q4")) or "rules.md" in r.source for r in DEFAULT_RULES)


# --- each status ---------------------------------------------------------------------------


def test_it_reports_met_when_enough_were_held() -> None:
    out = evaluate(MTG, BRANCH, Q3, [date(2026, 8, 1)], today=AFTER_Q3)
    assert (out.status, out.held, out.required) == ("met", 1, 1)
    assert out.message == "2026年第三季度已召开党员大会 1 次，达到要求。"


def test_it_says_this_quarter_while_the_quarter_runs() -> None:
    out = evaluate(MTG, BRANCH, Q3, [date(2026, 8, 1)], today=date(2026, 9, 1))
    assert out.status == "met"
    assert out.message == "本季度已召开党员大会 1 次，达到要求。"


def test_it_reports_the_rules_severity_after_the_period() -> None:
    out = evaluate(MTG, BRANCH, Q3, [], today=AFTER_Q3)
    assert (out.status, out.held, out.required) == ("warning", 0, 1)
    assert out.message == "2026年第三季度应召开党员大会 1 次，实际 0 次，未达到要求。"
    assert out.is_failure
    strict = rule(severity="violation")
    assert evaluate(strict, BRANCH, Q3, [], today=AFTER_Q3).status == "violation"


def test_it_is_not_yet_due_until_the_period_has_ended() -> None:
    assert evaluate(MTG, BRANCH, Q3, [], today=date(2026, 9, 30)).status == "not_yet_due"
    assert evaluate(MTG, BRANCH, Q3, [], today=date(2026, 10, 1)).status == "warning"
    assert evaluate(MTG, BRANCH, Q3, [], today=date(2026, 1, 1)).status == "not_yet_due"


def test_it_is_not_applicable_to_other_org_kinds() -> None:
    group = Target(id=2, kind="group")
    out = evaluate(MTG, group, Q3, [date(2026, 8, 1)], today=AFTER_Q3)
    assert (out.status, out.required) == ("not_applicable", 0)


def test_it_is_not_applicable_outside_the_rules_effective_dates() -> None:
    later = rule(effective_from=date(2027, 1, 1))
    earlier = rule(effective_to=date(2026, 6, 30))
    assert evaluate(later, BRANCH, Q3, [], today=AFTER_Q3).status == "not_applicable"
    assert evaluate(earlier, BRANCH, Q3, [], today=AFTER_Q3).status == "not_applicable"


def test_it_exempts_a_period_in_which_the_rule_started() -> None:
    mid = rule(effective_from=date(2026, 8, 1))
    assert evaluate(mid, BRANCH, Q3, [], today=AFTER_Q3).status == "exempt"
    assert evaluate(mid, BRANCH, Q3, [date(2026, 7, 3)], today=AFTER_Q3).status == "met"


def test_it_is_not_applicable_when_the_target_did_not_exist() -> None:
    future = Target(id=3, kind="branch", founded_on=date(2026, 10, 1))
    gone = Target(id=4, kind="branch", founded_on=date(2020, 1, 1), dissolved_on=date(2026, 6, 30))
    assert evaluate(MTG, future, Q3, [], today=AFTER_Q3).status == "not_applicable"
    assert evaluate(MTG, gone, Q3, [], today=AFTER_Q3).status == "not_applicable"


def test_it_exempts_a_target_founded_mid_period_unless_it_already_met() -> None:
    new = Target(id=5, kind="branch", founded_on=date(2026, 8, 15))
    out = evaluate(MTG, new, Q3, [], today=AFTER_Q3)
    assert out.status == "exempt"
    assert out.message == "该党组织于2026年第三季度内成立，本期不作要求。"
    assert evaluate(MTG, new, Q3, [date(2026, 9, 1)], today=AFTER_Q3).status == "met"


def test_it_exempts_a_target_dissolved_mid_period() -> None:
    ending = Target(id=6, kind="branch", founded_on=date(2020, 1, 1), dissolved_on=date(2026, 8, 31))
    out = evaluate(MTG, ending, Q3, [], today=AFTER_Q3)
    assert out.status == "exempt"
    assert "撤销" in out.message


def test_it_keeps_a_target_dissolved_on_the_last_day_bound() -> None:
    last_day = Target(id=7, kind="branch", founded_on=date(2020, 1, 1), dissolved_on=date(2026, 9, 30))
    assert evaluate(MTG, last_day, Q3, [], today=AFTER_Q3).status == "warning"


def test_it_ignores_activities_outside_the_period_and_counts_duplicates() -> None:
    three = rule(count=3)
    dates = [date(2026, 6, 30), date(2026, 10, 1), date(2026, 8, 1), date(2026, 8, 1)]
    out = evaluate(three, BRANCH, Q3, dates, today=AFTER_Q3)
    assert (out.status, out.held) == ("warning", 2)
    out = evaluate(three, BRANCH, Q3, [*dates, date(2026, 7, 1)], today=AFTER_Q3)
    assert (out.status, out.held) == ("met", 3)


def test_it_refuses_a_period_of_the_wrong_kind() -> None:
    with pytest.raises(ValueError):
        evaluate(MTG, BRANCH, Period.parse("2026-07"), [], today=AFTER_Q3)


# --- the Q4 timing rule --------------------------------------------------------------------


def test_it_warns_when_the_life_meeting_was_held_outside_q4() -> None:
    year = Period.parse("2026")
    june = [date(2026, 6, 20)]
    assert evaluate(OLM, BRANCH, year, june, today=date(2027, 1, 5)).status == "met"
    timing = evaluate(OLM_Q4, BRANCH, year, june, today=date(2027, 1, 5))
    assert (timing.status, timing.held) == ("warning", 0)
    assert timing.message.startswith("2026年第四季度应召开组织生活会 1 次")
    december = [date(2026, 12, 10)]
    assert evaluate(OLM_Q4, BRANCH, year, december, today=date(2027, 1, 5)).status == "met"


def test_it_holds_the_timing_rule_not_yet_due_until_q4_ends() -> None:
    year = Period.parse("2026")
    assert evaluate(OLM_Q4, BRANCH, year, [], today=date(2026, 11, 1)).status == "not_yet_due"
    assert evaluate(OLM, BRANCH, year, [], today=date(2027, 1, 1)).status == "violation"


def test_it_makes_a_mid_year_window_due_at_the_windows_end() -> None:
    h1 = rule(period="year", within="H1", count=1)
    out = evaluate(h1, BRANCH, Period.parse("2026"), [date(2026, 8, 1)], today=date(2026, 7, 2))
    assert (out.status, out.deadline) == ("warning", date(2026, 6, 30))


def test_it_exempts_the_timing_rule_for_an_org_founded_in_q4() -> None:
    new = Target(id=8, kind="branch", founded_on=date(2026, 11, 1))
    out = evaluate(OLM_Q4, new, Period.parse("2026"), [], today=date(2027, 1, 5))
    assert out.status == "exempt"


# --- exemptions ----------------------------------------------------------------------------


def test_it_applies_an_exemption_with_its_reason() -> None:
    ex = Exemption(rule_id="BR-MTG-1", target_id=1, period_key="2026-Q3", reason="支部换届，经上级同意顺延")
    out = evaluate(MTG, BRANCH, Q3, [], today=AFTER_Q3, exemptions=[ex])
    assert (out.status, out.reason) == ("exempt", "支部换届，经上级同意顺延")
    assert "支部换届" in out.message
    assert evaluate(MTG, BRANCH, Q3, [], today=date(2026, 8, 1), exemptions=[ex]).status == "exempt"


def test_it_ignores_exemptions_for_another_rule_target_or_period() -> None:
    others = [
        Exemption(rule_id="BR-MTG-2", target_id=1, period_key="2026-Q3", reason="r"),
        Exemption(rule_id="BR-MTG-1", target_id=2, period_key="2026-Q3", reason="r"),
        Exemption(rule_id="BR-MTG-1", target_id=1, period_key="2026-Q2", reason="r"),
        Exemption(rule_id="BR-MTG-1", target_id=1, end=date(2026, 6, 30), reason="r"),
    ]
    assert evaluate(MTG, BRANCH, Q3, [], today=AFTER_Q3, exemptions=others).status == "warning"


def test_it_applies_a_year_key_or_an_open_date_range_to_each_period_inside() -> None:
    year = Exemption(rule_id="BR-MTG-1", target_id=1, period_key="2026", reason="党员人数不足")
    since = Exemption(rule_id="BR-MTG-1", target_id=1, start=date(2026, 9, 1), reason="党员人数不足")
    assert evaluate(MTG, BRANCH, Q3, [], today=AFTER_Q3, exemptions=[year]).status == "exempt"
    assert evaluate(MTG, BRANCH, Q3, [], today=AFTER_Q3, exemptions=[since]).status == "exempt"
    q2 = Period.parse("2026-Q2")
    assert evaluate(MTG, BRANCH, q2, [], today=AFTER_Q3, exemptions=[since]).status == "warning"


def test_it_keeps_met_over_an_exemption() -> None:
    ex = Exemption(rule_id="BR-MTG-1", target_id=1, period_key="2026-Q3", reason="r")
    assert evaluate(MTG, BRANCH, Q3, [date(2026, 7, 9)], today=AFTER_Q3, exemptions=[ex]).status == "met"


# --- evaluate_many -------------------------------------------------------------------------


def test_it_evaluates_many_the_same_as_one_by_one() -> None:
    targets = [BRANCH, Target(id=2, kind="group"), Target(id=9, kind="leading_group")]
    periods = [*periods_between("month", date(2026, 1, 1), date(2026, 12, 31))]
    periods += [*periods_between("quarter", date(2026, 1, 1), date(2026, 12, 31)), Period.parse("2026")]
    acts = {
        (1, "members_meeting"): [date(2026, 2, 1), date(2026, 8, 1)],
        (1, "life_meeting"): [date(2026, 6, 1)],
        (9, "central_group_study"): [date(2026, m, 3) for m in (1, 2, 4, 5, 7, 8, 11)],
        (2, "group_meeting"): [date(2026, 1, 9)],
    }
    exs = [Exemption(rule_id="BR-MTG-2", target_id=1, period_key="2026", reason="未设支委会")]
    today = date(2026, 11, 15)
    many = evaluate_many(DEFAULT_RULES, targets, periods, acts, today, exs)
    expected = {}
    for r in DEFAULT_RULES:
        for t in targets:
            if not r.binds(t.kind):
                continue
            for p in periods:
                if p.kind == r.period:
                    dates = acts.get((t.id, r.activity), [])
                    expected[(t.id, r.id, p.key)] = evaluate(r, t, p, dates, today=today, exemptions=exs)
    assert many == expected
    assert many[(1, "BR-MTG-1", "2026-Q2")].status == "warning"
    assert many[(1, "BR-OLM-1-Q4", "2026")].status == "not_yet_due"
    assert many[(9, "CGS-1", "2026")].status == "met"
    assert many[(9, "CGS-2", "2026-Q3")].status == "met"
    assert many[(1, "BR-MTG-2", "2026-03")].status == "exempt"
    assert (2, "BR-MTG-1", "2026-Q1") not in many
    wide = evaluate_many(DEFAULT_RULES, targets, periods, acts, today, exs, include_not_applicable=True)
    assert wide[(2, "BR-MTG-1", "2026-Q1")].status == "not_applicable"


# --- properties ----------------------------------------------------------------------------

rules_st = st.builds(
    rule,
    count=st.integers(min_value=1, max_value=4),
    period=kinds,
    severity=st.sampled_from(["warning", "violation"]),
)
targets_st = st.builds(
    lambda f, length, dissolved: Target(
        id=1,
        kind="branch",
        founded_on=f,
        dissolved_on=(f + timedelta(days=length)) if (f and dissolved) else None,
    ),
    st.none() | st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    st.integers(min_value=0, max_value=900),
    st.booleans(),
)
activity_st = st.lists(st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)), max_size=8)
near = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))


@settings(max_examples=200)
@given(rules_st, targets_st, near, activity_st, near)
def test_it_meets_exactly_when_enough_activities_fall_in_the_period(
    r: Rule, t: Target, d: date, dates: list[date], today: date
) -> None:
    p = Period.containing(r.period, d)
    out = evaluate(r, t, p, dates, today=today)
    held = sum(p.start <= x <= p.end for x in dates)
    if out.status != "not_applicable":
        assert out.held == held
        assert (out.status == "met") == (held >= r.count)
    if out.status in ("warning", "violation"):
        assert out.status == r.severity and today > p.end
    if out.status == "not_yet_due":
        assert today <= p.end


@settings(max_examples=200)
@given(rules_st, targets_st, near, activity_st, near, near)
def test_it_never_gets_worse_with_one_more_activity(
    r: Rule, t: Target, d: date, dates: list[date], today: date, extra: date
) -> None:
    p = Period.containing(r.period, d)
    rank = {"met": 0, "exempt": 1, "not_applicable": 1, "not_yet_due": 2, "warning": 3, "violation": 3}
    before = evaluate(r, t, p, dates, today=today)
    after = evaluate(r, t, p, [*dates, extra], today=today)
    assert rank[after.status] <= rank[before.status]
    if extra not in p:
        assert after == before


@settings(max_examples=200)
@given(rules_st, targets_st, near, activity_st, near, st.text(min_size=1).filter(str.strip))
def test_it_lets_an_exemption_only_turn_failures_into_exempt(
    r: Rule, t: Target, d: date, dates: list[date], today: date, reason: str
) -> None:
    p = Period.containing(r.period, d)
    ex = Exemption(rule_id=r.id, target_id=t.id, period_key=p.key, reason=reason)
    plain = evaluate(r, t, p, dates, today=today)
    exempted = evaluate(r, t, p, dates, today=today, exemptions=[ex])
    if plain.status in ("met", "not_applicable"):
        assert exempted == plain
    else:
        assert exempted.status == "exempt"
        assert exempted.reason == reason.strip()


@settings(max_examples=100)
@given(rules_st, st.lists(targets_st, min_size=1, max_size=3), activity_st, near)
def test_it_agrees_between_evaluate_many_and_evaluate(
    r: Rule, ts: list[Target], dates: list[date], today: date
) -> None:
    targets = [
        Target(id=i, kind=t.kind, founded_on=t.founded_on, dissolved_on=t.dissolved_on)
        for i, t in enumerate(ts)
    ]
    periods = list(periods_between(r.period, date(2025, 1, 1), date(2027, 12, 31)))
    acts: dict[tuple[object, str], list[date]] = defaultdict(list)
    for i, _ in enumerate(targets):
        acts[(i, r.activity)] = dates[i:]
    many = evaluate_many([r], targets, periods, acts, today)
    for t in targets:
        for p in periods:
            assert many[(t.id, r.id, p.key)] == evaluate(r, t, p, acts[(t.id, r.activity)], today=today)
