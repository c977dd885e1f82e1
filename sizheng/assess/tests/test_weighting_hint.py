"""methods.inconsistency_hint: the judgment that deviates most from its priorities, and a scale value to try."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from sizheng.assess import methods

ELEMENTS = list("ABCDE")
# Nearly consistent judgments of five criteria (weights ≈ 5 : 3 : 2 : 1 : 1).
GOOD = {("A", "B"): 2, ("A", "C"): 3, ("A", "D"): 5, ("A", "E"): 5, ("B", "C"): 2,
        ("B", "D"): 3, ("B", "E"): 3, ("C", "D"): 2, ("C", "E"): 2, ("D", "E"): 1}  # fmt: skip
SCALE = {float(k) for k in range(1, 10)} | {1 / k for k in range(2, 10)}


def _ahp(judgments):
    return methods.ahp_from_pairs(ELEMENTS, [(a, b, v) for (a, b), v in judgments.items()])


def test_it_finds_the_reversed_judgment_and_following_the_hint_restores_consistency():
    bad = dict(GOOD)
    bad[("A", "E")] = 1 / 5  # reversed: E over A
    result = _ahp(bad)
    assert not result.consistent and result.cr > 0.3
    i, j, current, suggested = methods.inconsistency_hint(result.matrix, result.weights)
    assert (ELEMENTS[i], ELEMENTS[j]) == ("A", "E")
    assert current == pytest.approx(0.2)
    assert suggested >= 1 and any(math.isclose(suggested, v) for v in SCALE)
    fixed = dict(bad)
    fixed[("A", "E")] = suggested
    assert _ahp(fixed).cr < result.cr and _ahp(fixed).consistent


def test_the_cell_maximises_the_log_deviation_and_the_suggestion_is_the_snapped_ratio():
    rng = np.random.default_rng(3)
    values = sorted(SCALE)
    for _ in range(30):
        n = 5
        a = np.ones((n, n))
        for i, j in itertools.combinations(range(n), 2):
            a[i, j] = values[rng.integers(len(values))]
            a[j, i] = 1 / a[i, j]
        r = methods.ahp(a)
        hint = methods.inconsistency_hint(r.matrix, r.weights)
        assert hint is not None
        i, j, current, suggested = hint
        w = np.array(r.weights)
        dev = {(p, q): abs(math.log(a[p, q] * w[q] / w[p])) for p, q in itertools.combinations(range(n), 2)}
        assert i < j
        # Any cell that deviates more was skipped only because it sits at the end of the scale.
        worse = [c for c, d in dev.items() if d > dev[(i, j)] + 1e-9]
        assert all(math.isclose(a[c], 9) or math.isclose(a[c], 1 / 9) for c in worse)
        assert current == a[i, j]
        assert any(math.isclose(suggested, v) for v in SCALE) and not math.isclose(suggested, current)


def test_a_consistent_matrix_or_a_small_one_has_no_hint():
    w = np.array([0.5, 0.25, 0.125, 0.125])
    consistent = w[:, None] / w[None, :]
    assert methods.inconsistency_hint(consistent, w) is None
    assert methods.inconsistency_hint([[1, 3], [1 / 3, 1]], [0.75, 0.25]) is None


def test_a_snapped_value_equal_to_the_current_one_moves_one_step_towards_the_ratio():
    # Ratio w0/w1 = 2.6 snaps to 3 = the current value: the hint moves one step, to 4.
    a = np.array([[1, 3, 1], [1 / 3, 1, 1], [1, 1, 1]], dtype=float)
    w = np.array([0.52, 0.2, 0.28])
    hint = methods.inconsistency_hint(a, w, cells=[(0, 1)])
    assert hint == (0, 1, 3.0, 2.0) or hint == (0, 1, 3.0, 4.0)
    assert hint[3] != hint[2]


def test_it_searches_only_the_given_cells_and_respects_the_scale_range():
    bad = dict(GOOD)
    bad[("A", "E")] = 1 / 5
    r = _ahp(bad)
    i, j, _, _ = methods.inconsistency_hint(r.matrix, r.weights, cells=[(1, 2), (3, 1)])
    assert (i, j) in {(1, 2), (1, 3)}
    narrow = methods.inconsistency_hint(r.matrix, r.weights, scale=(1 / 3, 3))
    assert narrow is not None and 1 / 3 - 1e-9 <= narrow[3] <= 3 + 1e-9
    assert methods.inconsistency_hint(r.matrix, r.weights, cells=[]) is None


def test_invalid_input_raises_a_method_error():
    with pytest.raises(methods.MethodError):
        methods.inconsistency_hint(np.ones((3, 3)), [1, 1])
    with pytest.raises(methods.MethodError):
        methods.inconsistency_hint([[1, -1, 1], [1, 1, 1], [1, 1, 1]], [0.3, 0.3, 0.4])
    with pytest.raises(methods.MethodError):
        methods.inconsistency_hint(np.ones((3, 3)), [0.3, 0.3, 0.4], cells=[(0, 7)])
