"""The scoring model's pure functions: leaf rules, bonus, grades, caps/veto, redistribution of missing
weights — worked cases and hypothesis properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sizheng.assess import scoring
from sizheng.assess.scoring import ScoringError

PROPERTY = settings(max_examples=80, deadline=None)
BANDS = [
    {"grade": "好", "min": 90},
    {"grade": "较好", "min": 80},
    {"grade": "一般", "min": 60},
    {"grade": "较差", "min": None},
]
BAND_RULE = {
    "bands": [
        {"min": 90, "score": 100},
        {"min": 80, "score": 80},
        {"min": 60, "score": 60},
        {"min": None, "score": 0},
    ]
}

# --- leaf rules ---------------------------------------------------------------------------------


def test_direct_is_the_share_of_full_marks_clamped():
    assert scoring.score_leaf("direct", {}, 10, 8) == 80
    assert scoring.score_leaf("direct", {}, 10, 12) == 100
    assert scoring.score_leaf("direct", {}, 10, -1) == 0


def test_linear_interpolates_and_clamps_both_ways():
    rule = {"zero_at": 50, "full_at": 100}
    assert scoring.score_leaf("linear", rule, 100, 75) == 50
    assert scoring.score_leaf("linear", rule, 100, 40) == 0
    assert scoring.score_leaf("linear", rule, 100, 120) == 100
    lower_is_better = {"zero_at": 10, "full_at": 0}
    assert scoring.score_leaf("linear", lower_is_better, 100, 2) == 80


def test_deduction_per_event_with_a_maximum_deduction():
    rule = {"per_event": 5, "max_deduction": 20}
    assert scoring.score_leaf("deduction", rule, 20, 0) == 100
    assert scoring.score_leaf("deduction", rule, 20, 1) == 75
    assert scoring.score_leaf("deduction", rule, 20, 10) == 0  # 20 − 20 = 0 either way
    capped = {"per_event": 3, "max_deduction": 15}
    assert scoring.score_leaf("deduction", capped, 20, 10) == 25  # at most 15 of 20 deducted
    assert scoring.score_leaf("deduction", {}, 4, 1) == 75  # per_event defaults to 1


def test_bands_take_the_first_band_reached():
    assert scoring.score_leaf("bands", BAND_RULE, 100, 95) == 100
    assert scoring.score_leaf("bands", BAND_RULE, 100, 80) == 80
    assert scoring.score_leaf("bands", BAND_RULE, 100, 59.9) == 0
    assert scoring.score_leaf("bands", {"bands": [{"min": 50, "score": 70}]}, 100, 10) == 0


@pytest.mark.parametrize(
    ("kind", "rule", "max_score", "message"),
    [
        ("linear", {"zero_at": 5}, 100, "full_at"),
        ("linear", {"zero_at": 5, "full_at": 5}, 100, "不能相等"),
        ("direct", {}, 0, "满分"),
        ("bands", {}, 100, "分档"),
        ("deduction", {"per_event": -1}, 10, "不能为负"),
        ("deduction", {"per_event": "x"}, 10, "应为数字"),
        ("magic", {}, 100, "不受支持"),
    ],
)
def test_broken_rules_are_refused_in_chinese(kind, rule, max_score, message):
    with pytest.raises(ScoringError, match=message):
        scoring.score_leaf(kind, rule, max_score, 1)


def test_bonus_points_are_events_times_points_up_to_full_marks():
    assert scoring.bonus_points({"per_event": 2}, 4, 1) == 2
    assert scoring.bonus_points({"per_event": 2}, 4, 5) == 4
    assert scoring.bonus_points({}, 4, 3) == 3
    assert scoring.bonus_points({"per_event": 2}, 4, -2) == 0


# --- grades, caps, veto ---------------------------------------------------------------------------


def test_grade_of_takes_the_first_band_reached():
    assert [scoring.grade_of(t, BANDS) for t in (95, 90, 89.99, 80, 60, 59.99, 0)] == [
        "好", "好", "较好", "较好", "一般", "较差", "较差",
    ]  # fmt: skip
    with pytest.raises(ScoringError):
        scoring.grade_of(50, [])


def test_a_cap_lowers_the_grade_and_says_why():
    caps = [{"indicator": "2.1", "below": 90, "max_grade": "一般", "label": "满意率低于 90%"}]
    grade, reason = scoring.apply_caps("好", BANDS, caps, {"2.1": 85.0})
    assert grade == "一般"
    assert reason == "满意率低于 90%（2.1 实际值 85，低于 90），等次不高于“一般”"
    # Not applicable: the value reaches the bar, is missing, or the grade is already lower.
    assert scoring.apply_caps("好", BANDS, caps, {"2.1": 90.0}) == ("好", "")
    assert scoring.apply_caps("好", BANDS, caps, {"2.1": None}) == ("好", "")
    assert scoring.apply_caps("较差", BANDS, caps, {"2.1": 10.0}) == ("较差", "")


def test_the_strictest_cap_wins_and_both_are_named():
    caps = [
        {"indicator": "S", "below": 90, "max_grade": "一般", "label": "满意率低于 90%"},
        {"indicator": "S", "below": 50, "max_grade": "较差", "label": "满意率低于 50%"},
    ]
    grade, reason = scoring.apply_caps("好", BANDS, caps, {"S": 40.0})
    assert grade == "较差" and "低于 90%" in reason and "低于 50%" in reason


def test_a_veto_forces_the_lowest_band():
    grade, reason = scoring.apply_caps("好", BANDS, [], {}, [("V1", "一年未开展组织生活", 1.0)])
    assert grade == "较差" and reason == "一票否决：一年未开展组织生活（V1），定为“较差”"
    assert scoring.apply_caps("好", BANDS, [], {}, [("V1", "x", 0.0), ("V2", "y", None)]) == ("好", "")


def test_a_cap_naming_an_unknown_grade_is_refused():
    with pytest.raises(ScoringError, match="不在体系的等次划分中"):
        scoring.apply_caps("好", BANDS, [{"indicator": "S", "below": 9, "max_grade": "优"}], {"S": 1.0})


# --- the tree -------------------------------------------------------------------------------------

# 1 (0.6): 1.1 (0.5), 1.2 (0.5); 2 (0.4): 2.1 (0.7), 2.2 (0.3)
PARENTS = {"1": None, "2": None, "1.1": "1", "1.2": "1", "2.1": "2", "2.2": "2"}
WEIGHTS = {"1": 0.6, "2": 0.4, "1.1": 0.5, "1.2": 0.5, "2.1": 0.7, "2.2": 0.3}


def test_global_weights_are_products_down_the_path():
    g = scoring.global_weights(PARENTS, WEIGHTS)
    assert g == pytest.approx({"1.1": 0.3, "1.2": 0.3, "2.1": 0.28, "2.2": 0.12})


def test_a_complete_target_is_the_plain_weighted_sum():
    scores = {"1.1": 100.0, "1.2": 80.0, "2.1": 60.0, "2.2": 50.0}
    totals = scoring.compute_totals(PARENTS, WEIGHTS, scores)
    assert totals.base_total == pytest.approx(30 + 24 + 16.8 + 6)
    assert totals.missing == []


def test_a_missing_leaf_passes_its_weight_to_its_siblings():
    scores = {"1.1": None, "1.2": 80.0, "2.1": 60.0, "2.2": 50.0}
    totals = scoring.compute_totals(PARENTS, WEIGHTS, scores)
    assert totals.weights == pytest.approx({"1.1": 0, "1.2": 0.6, "2.1": 0.28, "2.2": 0.12})
    assert totals.base_total == pytest.approx(48 + 16.8 + 6)
    assert totals.missing == ["1.1"]


def test_a_wholly_missing_parent_passes_its_weight_to_its_own_siblings():
    scores = {"1.1": None, "1.2": None, "2.1": 60.0, "2.2": 50.0}
    totals = scoring.compute_totals(PARENTS, WEIGHTS, scores)
    assert totals.weights == pytest.approx({"1.1": 0, "1.2": 0, "2.1": 0.7, "2.2": 0.3})
    assert totals.base_total == pytest.approx(42 + 15)
    assert totals.missing == ["1.1", "1.2"]


def test_nothing_present_gives_zero():
    totals = scoring.compute_totals(PARENTS, WEIGHTS, dict.fromkeys(["1.1", "1.2", "2.1", "2.2"]))
    assert totals.base_total == 0 and sum(totals.weights.values()) == 0


def test_the_zero_policy_keeps_weights_and_scores_missing_as_zero():
    scores = {"1.1": None, "1.2": 80.0, "2.1": 60.0, "2.2": 50.0}
    totals = scoring.compute_totals(PARENTS, WEIGHTS, scores, policy="zero")
    assert totals.weights["1.1"] == pytest.approx(0.3)
    assert totals.base_total == pytest.approx(24 + 16.8 + 6)
    assert scoring.filled_scores(PARENTS, WEIGHTS, scores, policy="zero")["1.1"] == 0
    with pytest.raises(ScoringError):
        scoring.compute_totals(PARENTS, WEIGHTS, scores, policy="ignore")


def test_filled_scores_use_the_siblings_weighted_mean():
    scores = {"1.1": None, "1.2": 80.0, "2.1": None, "2.2": None}
    filled = scoring.filled_scores(PARENTS, WEIGHTS, scores)
    assert filled == {"1.1": 80.0, "1.2": 80.0, "2.1": 80.0, "2.2": 80.0}
    scores = {"1.1": None, "1.2": 80.0, "2.1": 60.0, "2.2": None}
    assert scoring.filled_scores(PARENTS, WEIGHTS, scores) == pytest.approx(
        {"1.1": 80, "1.2": 80, "2.1": 60, "2.2": 60}
    )


# --- properties ---------------------------------------------------------------------------------

raws = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=0.01, max_value=1e3, allow_nan=False, allow_infinity=False)


@st.composite
def rules(draw):
    kind = draw(st.sampled_from(scoring.RULE_KINDS))
    max_score = draw(positive)
    if kind == "linear":
        a, b = draw(finite), draw(finite)
        assume(a != b)
        return kind, {"zero_at": a, "full_at": b}, max_score
    if kind == "deduction":
        rule = {"per_event": draw(st.floats(min_value=0, max_value=100))}
        if draw(st.booleans()):
            rule["max_deduction"] = draw(st.floats(min_value=0, max_value=1e3))
        return kind, rule, max_score
    if kind == "bands":
        bands = [{"min": draw(finite), "score": draw(finite)} for _ in range(draw(st.integers(1, 4)))]
        return kind, {"bands": bands}, max_score
    return kind, {}, max_score


@PROPERTY
@given(rules(), raws)
def test_every_score_lies_in_0_to_100(spec, raw):
    kind, rule, max_score = spec
    score = scoring.score_leaf(kind, rule, max_score, raw)
    assert 0 <= score <= 100 and math.isfinite(score)


@PROPERTY
@given(finite, finite, positive, raws, raws)
def test_linear_is_monotone_in_the_raw_value(zero_at, full_at, max_score, x, y):
    assume(zero_at != full_at)
    low, high = sorted((x, y))
    rule = {"zero_at": zero_at, "full_at": full_at}
    a, b = (
        scoring.score_leaf("linear", rule, max_score, low),
        scoring.score_leaf("linear", rule, max_score, high),
    )
    assert (a <= b + 1e-9) if full_at > zero_at else (a >= b - 1e-9)


@PROPERTY
@given(st.floats(min_value=0, max_value=100), st.none() | st.floats(0, 1e3), positive, raws, raws)
def test_deduction_never_rises_with_more_events(per_event, max_deduction, max_score, x, y):
    low, high = sorted((x, y))
    rule = {"per_event": per_event, "max_deduction": max_deduction}
    assert scoring.score_leaf("deduction", rule, max_score, low) >= scoring.score_leaf(
        "deduction", rule, max_score, high
    )


@st.composite
def trees(draw):
    """A random tree (depth ≤ 3) with normalised local weights and some leaves missing."""
    parents: dict[str, str | None] = {}
    weights: dict[str, float] = {}

    def group(parent: str | None, prefix: str, depth: int) -> None:
        n = draw(st.integers(1, 4))
        raw = [draw(st.floats(min_value=0.01, max_value=10)) for _ in range(n)]
        for k, w in enumerate(raw):
            code = f"{prefix}{k + 1}"
            parents[code] = parent
            weights[code] = w / sum(raw)
            if depth < 3 and draw(st.booleans()):
                group(code, code + ".", depth + 1)

    group(None, "", 1)
    inner = {p for p in parents.values() if p is not None}
    leaves = [c for c in parents if c not in inner]
    scores = {
        leaf: draw(st.none() | st.floats(min_value=0, max_value=100, allow_nan=False)) for leaf in leaves
    }
    return parents, weights, scores


@PROPERTY
@given(trees())
def test_redistribution_keeps_the_weights_summing_to_1_over_present_leaves(tree):
    parents, weights, scores = tree
    totals = scoring.compute_totals(parents, weights, scores)
    present = [leaf for leaf, s in scores.items() if s is not None]
    assert all(totals.weights[leaf] == 0 for leaf in totals.missing)
    if present:
        assert sum(totals.weights[leaf] for leaf in present) == pytest.approx(1.0)
        assert 0 <= totals.base_total <= 100 + 1e-9
    else:
        assert totals.base_total == 0


@PROPERTY
@given(trees())
def test_filled_scores_reproduce_the_redistributed_total(tree):
    parents, weights, scores = tree
    plain = scoring.global_weights(parents, weights, list(scores))
    filled = scoring.filled_scores(parents, weights, scores)
    assert sum(plain[leaf] * filled[leaf] for leaf in scores) == pytest.approx(
        scoring.compute_totals(parents, weights, scores).base_total, abs=1e-9
    )


@PROPERTY
@given(
    st.floats(min_value=-10, max_value=200),
    st.lists(
        st.fixed_dictionaries(
            {"indicator": st.sampled_from(["A", "B"]), "below": st.floats(0, 100),
             "max_grade": st.sampled_from([b["grade"] for b in BANDS])}
        ),
        max_size=3,
    ),
    st.dictionaries(st.sampled_from(["A", "B"]), st.none() | st.floats(0, 100)),
    st.lists(st.tuples(st.just("V"), st.just("否决"), st.none() | st.floats(0, 3)), max_size=2),
)  # fmt: skip
def test_caps_and_vetoes_never_make_a_grade_better(total, caps, raw_by_code, vetoes):
    grade = scoring.grade_of(total, BANDS)
    after, reason = scoring.apply_caps(grade, BANDS, caps, raw_by_code, vetoes)
    names = [b["grade"] for b in BANDS]
    assert names.index(after) >= names.index(grade)
    assert (after != grade) <= bool(reason)
    if any(v is not None and v > 0 for _, _, v in vetoes):
        assert after == names[-1]
