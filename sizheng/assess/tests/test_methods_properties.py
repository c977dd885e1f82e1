"""Property tests (hypothesis) of the assessment methods: the invariants hold for any valid input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sizheng.assess import methods as M
from sizheng.assess.methods import MethodError

# Per test, never a global profile: other apps' property tests share the process.
PROPERTY = settings(max_examples=60, deadline=None)

SAATY = [1 / 9, 1 / 8, 1 / 7, 1 / 6, 1 / 5, 1 / 4, 1 / 3, 1 / 2, 1, 2, 3, 4, 5, 6, 7, 8, 9]
positive = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False, allow_infinity=False)
judgment = st.one_of(st.sampled_from(SAATY), st.floats(min_value=1e-4, max_value=1e4))
orders = st.integers(min_value=1, max_value=15)


@st.composite
def reciprocal_matrices(draw, n=None, values=judgment):
    n = draw(orders) if n is None else n
    a = np.ones((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            v = draw(values)
            a[i, j], a[j, i] = v, 1 / v
    return a


@st.composite
def consistent_matrices(draw, n=None):
    w = np.array(draw(st.lists(positive, min_size=n or 1, max_size=n or 15)))
    return w, w[:, None] / w[None, :]


@st.composite
def decision_matrices(draw, min_rows=2, values=None, nonnegative=True):
    m = draw(st.integers(min_value=min_rows, max_value=12))
    n = draw(st.integers(min_value=1, max_value=8))
    if values is None:
        values = (
            st.floats(min_value=0, max_value=1e6) if nonnegative else st.floats(min_value=-1e6, max_value=1e6)
        )
    return np.array(draw(st.lists(st.lists(values, min_size=n, max_size=n), min_size=m, max_size=m)))


def weight_vectors(n):
    return st.lists(st.floats(min_value=0, max_value=10), min_size=n, max_size=n).filter(lambda w: sum(w) > 0)


def is_competition_ranking(ranks, scores, higher_is_better=True) -> bool:
    ranks = list(ranks)
    for i, r in enumerate(ranks):
        # Rank = 1 + the number strictly ahead of it.
        if r != 1 + sum(1 for s in ranks if s < r):
            return False
        for j in range(len(ranks)):
            ahead = scores[j] > scores[i] if higher_is_better else scores[j] < scores[i]
            if (
                ranks[j] < r
                and not ahead
                and not math.isclose(scores[j], scores[i], rel_tol=1e-9, abs_tol=1e-9)
            ):
                return False
    return True


def finite(*values) -> bool:
    return all(np.all(np.isfinite(np.asarray(v, dtype=float))) for v in values)


# --- AHP ----------------------------------------------------------------------------------


@PROPERTY
@given(reciprocal_matrices(), st.sampled_from(M.PRIORITY_METHODS), st.sampled_from(sorted(M.RI_TABLES)))
def test_it_gives_weights_that_are_a_distribution(a, priority, table):
    result = M.ahp(a, priority=priority, ri_table=table)
    w = np.array(result.weights)
    assert np.all(w >= 0) and w.sum() == pytest.approx(1.0, abs=1e-12)
    assert result.lambda_max >= len(a) and result.ci >= 0 and result.cr >= 0
    assert result.consistent == (result.cr < 0.1)
    assert finite(w, result.lambda_max, result.ci, result.cr, result.matrix)


@PROPERTY
@given(consistent_matrices())
def test_it_finds_cr_zero_and_the_same_weights_by_every_method_on_consistent_matrices(case):
    w, a = case
    expected = w / w.sum()
    for priority in M.PRIORITY_METHODS:
        result = M.ahp(a, priority=priority)
        assert result.cr == pytest.approx(0.0, abs=1e-9)
        np.testing.assert_allclose(result.weights, expected, rtol=1e-7, atol=1e-12)


@PROPERTY
@given(reciprocal_matrices(n=4), st.floats(min_value=0.01, max_value=1.0))
def test_it_calls_consistent_exactly_below_the_threshold(a, threshold):
    result = M.ahp(a, threshold=threshold)
    assert result.consistent == (result.cr < threshold) and result.threshold == threshold


@PROPERTY
@given(st.data())
def test_it_completes_any_spanning_tree_of_a_consistent_matrix_exactly(data):
    n = data.draw(st.integers(min_value=2, max_value=8))
    w = np.array(data.draw(st.lists(st.floats(min_value=0.1, max_value=10), min_size=n, max_size=n)))
    names = [f"e{k}" for k in range(n)]
    pairs = []
    for k in range(1, n):
        parent = data.draw(st.integers(min_value=0, max_value=k - 1))
        a, b = (k, parent) if data.draw(st.booleans()) else (parent, k)
        pairs.append((names[a], names[b], w[a] / w[b]))
    result = M.ahp_from_pairs(names, pairs)
    np.testing.assert_allclose(result.weights, w / w.sum(), rtol=1e-6)
    assert result.cr == pytest.approx(0.0, abs=1e-7)
    assert len(result.completed) == n * (n - 1) // 2 - (n - 1)


@PROPERTY
@given(st.lists(reciprocal_matrices(n=5), min_size=1, max_size=4), st.integers(min_value=1, max_value=5))
def test_it_aggregates_identical_matrices_to_the_matrix(matrices, copies):
    a = matrices[0]
    np.testing.assert_allclose(M.aggregate_judgments([a] * copies), a, rtol=1e-12)
    aij = M.aggregate_judgments(matrices)
    np.testing.assert_allclose(aij * aij.T, 1.0, rtol=1e-12)
    assert np.all(np.diag(aij) == 1.0)
    # A geometric mean lies between the experts' judgments, cell by cell.
    stack = np.stack(matrices)
    assert np.all(aij <= stack.max(axis=0) * (1 + 1e-12)) and np.all(aij >= stack.min(axis=0) * (1 - 1e-12))


@PROPERTY
@given(st.lists(consistent_matrices(n=4), min_size=1, max_size=3))
def test_it_keeps_consistency_when_aggregating_consistent_matrices(cases):
    aij = M.aggregate_judgments([a for _, a in cases])
    assert M.ahp(aij).cr == pytest.approx(0.0, abs=1e-9)


@PROPERTY
@given(st.data())
def test_it_composes_hierarchy_weights_as_a_distribution(data):
    m = data.draw(st.integers(min_value=1, max_value=6))
    k = data.draw(st.integers(min_value=1, max_value=6))
    criteria = data.draw(reciprocal_matrices(n=m))
    alternatives = [data.draw(reciprocal_matrices(n=k)) for _ in range(m)]
    per_level = M.ahp_hierarchy(criteria, alternatives)
    cumulative = M.ahp_hierarchy(criteria, alternatives, total_cr="cumulative")
    total = np.array(per_level.total_weights)
    assert np.all(total >= 0) and total.sum() == pytest.approx(1.0, abs=1e-12)
    assert per_level.total_cr >= 0 and cumulative.total_cr == pytest.approx(
        per_level.total_cr + per_level.criteria.cr
    )


# --- entropy ----------------------------------------------------------------------------------


@PROPERTY
@given(decision_matrices(), st.sampled_from(M.ENTROPY_VARIANTS), st.data())
def test_it_gives_entropy_weights_that_are_a_distribution_or_a_clear_error(x, variant, data):
    types = data.draw(st.lists(st.sampled_from([1, -1]), min_size=x.shape[1], max_size=x.shape[1]))
    try:
        result = M.entropy_weights(x, variant=variant, criteria_types=types)
    except MethodError as exc:
        # Only the documented refusals: all-zero column (raw) or every column constant.
        assert "全为 0" in exc.message or "取值都相同" in exc.message or "信息熵都等于 1" in exc.message
        return
    w, e = np.array(result.weights), np.array(result.entropies)
    assert finite(w, e) and np.all(w >= 0) and w.sum() == pytest.approx(1.0, abs=1e-9)
    assert np.all((e >= 0) & (e <= 1))
    for j in result.constant_columns:
        assert w[j] == 0.0 and e[j] == 1.0


@PROPERTY
@given(decision_matrices(values=st.floats(min_value=0.01, max_value=1e4)), st.data())
def test_it_gives_scale_free_raw_entropy_weights(x, data):
    assume(not np.all(np.ptp(x, axis=0) <= 1e-12 * np.abs(x).max(axis=0)))
    factors = np.array(
        data.draw(
            st.lists(st.floats(min_value=1e-3, max_value=1e3), min_size=x.shape[1], max_size=x.shape[1])
        )
    )
    np.testing.assert_allclose(
        M.entropy_weights(x * factors).weights, M.entropy_weights(x).weights, rtol=1e-6, atol=1e-9
    )


@PROPERTY
@given(decision_matrices(values=st.floats(min_value=-1e300, max_value=1e300), nonnegative=False))
def test_it_never_returns_nan_even_for_extreme_values(x):
    for call in (
        lambda: M.entropy_weights(x, variant="minmax"),
        lambda: M.topsis(x, [1] * x.shape[1], [1] * x.shape[1]),
        lambda: M.topsis(x, [1] * x.shape[1], [-1] * x.shape[1], normalization="minmax"),
    ):
        try:
            result = call()
        except MethodError:
            continue
        assert finite(*(v for v in result.to_dict().values() if isinstance(v, list)))


# --- combined weights --------------------------------------------------------------------------


@PROPERTY
@given(st.data(), st.sampled_from(M.COMBINE_METHODS), st.floats(min_value=0, max_value=1))
def test_it_combines_weights_into_a_distribution(data, method, alpha):
    n = data.draw(st.integers(min_value=1, max_value=10))
    s, o = data.draw(weight_vectors(n)), data.draw(weight_vectors(n))
    try:
        w = np.array(M.combine_weights(s, o, method=method, alpha=alpha))
    except MethodError as exc:
        assert method in ("multiplicative", "min_relative_entropy") and "同时为正" in exc.message
        return
    assert finite(w) and np.all(w >= 0) and w.sum() == pytest.approx(1.0, abs=1e-12)
    # Every method lands between the two vectors' supports: a criterion both call 0 stays 0.
    both_zero = (np.array(s) == 0) & (np.array(o) == 0)
    assert np.all(w[both_zero] == 0)


# --- TOPSIS -----------------------------------------------------------------------------------


@st.composite
def topsis_problems(draw):
    x = draw(
        decision_matrices(min_rows=1, values=st.floats(min_value=-1e3, max_value=1e3), nonnegative=False)
    )
    n = x.shape[1]
    weights = draw(weight_vectors(n))
    types = draw(st.lists(st.sampled_from([1, -1]), min_size=n, max_size=n))
    return x, weights, types


@PROPERTY
@given(topsis_problems(), st.sampled_from(M.NORMALIZATIONS))
def test_it_keeps_closeness_in_the_unit_interval_with_a_competition_ranking(problem, normalization):
    x, weights, types = problem
    try:
        result = M.topsis(x, weights, types, normalization=normalization)
    except MethodError as exc:
        assert "取值都相同" in exc.message
        return
    c = np.array(result.closeness)
    assert finite(c, result.d_plus, result.d_minus)
    assert (
        np.all((c >= 0) & (c <= 1))
        and np.all(np.array(result.d_plus) >= 0)
        and np.all(np.array(result.d_minus) >= 0)
    )
    assert is_competition_ranking(result.ranking, result.closeness)
    assert min(result.ranking) == 1


@PROPERTY
@given(topsis_problems(), st.data())
def test_it_is_invariant_to_positive_column_scaling_under_vector_normalisation(problem, data):
    x, weights, types = problem
    factors = np.array(
        data.draw(
            st.lists(st.floats(min_value=1e-3, max_value=1e3), min_size=x.shape[1], max_size=x.shape[1])
        )
    )
    try:
        base = M.topsis(x, weights, types)
    except MethodError:
        return
    scaled = M.topsis(x * factors, weights, types)
    np.testing.assert_allclose(scaled.closeness, base.closeness, rtol=1e-9, atol=1e-9)


@PROPERTY
@given(topsis_problems())
def test_it_scores_alternatives_against_their_own_frozen_reference_identically(problem):
    x, weights, types = problem
    try:
        base = M.topsis(x, weights, types)
    except MethodError:
        return
    again = M.topsis(x, weights, types, reference=base.reference)
    np.testing.assert_allclose(again.closeness, base.closeness, rtol=1e-12, atol=1e-15)


@PROPERTY
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=1, max_size=30), st.booleans())
def test_it_ranks_by_competition(scores, higher_is_better):
    # Duplicate a few scores so ties are common.
    scores = scores + scores[: len(scores) // 2]
    ranks = M.competition_ranking(scores, higher_is_better=higher_is_better)
    assert is_competition_ranking(ranks, scores, higher_is_better)
    assert sorted(set(ranks))[0] == 1


# --- fuzzy -----------------------------------------------------------------------------------


@st.composite
def fuzzy_problems(draw):
    n = draw(st.integers(min_value=1, max_value=8))
    k = draw(st.integers(min_value=1, max_value=6))
    raw = np.array(draw(weight_vectors(n)))
    a = raw / raw.sum()
    r = np.array(
        draw(
            st.lists(
                st.lists(st.floats(min_value=0, max_value=1), min_size=k, max_size=k), min_size=n, max_size=n
            )
        )
    )
    return a, r


@PROPERTY
@given(fuzzy_problems())
def test_it_keeps_fuzzy_operators_within_their_bounds(problem):
    a, r = problem
    b = {op: np.array(M.fuzzy_evaluate(a, r, operator=op)) for op in M.FUZZY_OPERATORS}
    for op, vector in b.items():
        assert finite(vector) and np.all((vector >= 0) & (vector <= 1)), op
    eps = 1e-12
    # min(a, r) ≥ a·r for a, r in [0, 1]; max ≤ sum; the bounded sum caps at 1.
    assert np.all(b["product_max"] <= b["min_max"] + eps)
    assert np.all(b["product_max"] <= b["weighted_average"] + eps)
    assert np.all(b["weighted_average"] <= b["bounded_sum"] + eps)
    assert np.all(b["min_max"] <= b["bounded_sum"] + eps)


@PROPERTY
@given(fuzzy_problems())
def test_it_keeps_a_distribution_a_distribution_under_the_weighted_average(problem):
    a, r = problem
    assume(np.all(r.sum(axis=1) > 0))
    stochastic = r / r.sum(axis=1, keepdims=True)
    b = M.fuzzy_evaluate(a, stochastic)
    assert sum(b) == pytest.approx(1.0, abs=1e-9)
    grade = M.fuzzy_grade(b, [f"g{k}" for k in range(len(b))], grade_values=list(range(len(b))))
    assert grade.grades and 0 <= grade.score <= len(b) - 1 + 1e-9


# --- sensitivity -------------------------------------------------------------------------------


@given(
    topsis_problems(), st.integers(min_value=0, max_value=2**32), st.sampled_from(["topsis", "weighted_sum"])
)
@settings(max_examples=25, deadline=None)
def test_it_brackets_the_base_rank_and_gives_probabilities(problem, seed, method):
    x, weights, types = problem
    if method == "weighted_sum":
        types = [1] * len(types)
    try:
        result = M.sensitivity(
            x, weights, types, samples=50, seed=seed, method=method, grade_edges=[-1, 0, 1]
        )
    except MethodError as exc:
        assert "取值都相同" in exc.message
        return
    for lo, base, mean, hi in zip(
        result.rank_min, result.base_ranking, result.rank_mean, result.rank_max, strict=True
    ):
        assert 1 <= lo <= base <= hi <= len(x) and lo - 1e-9 <= mean <= hi + 1e-9
    p = np.array(result.grade_change_probability)
    assert finite(p) and np.all((p >= 0) & (p <= 1))
