"""The assessment methods against published worked examples and evaluation.md's edge cases.

The worked examples live in ``examples.json`` next to this file (the project's own copy, with a source
for each; numbers may be written "a/b" for exact reciprocals). No database.
"""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from sizheng.assess import methods as M
from sizheng.assess.methods import MethodError

EXAMPLES = json.loads((Path(__file__).parent / "examples.json").read_text(encoding="utf-8"))
CJK = re.compile(r"[\u3400-\u9fff]")


def num(value):
    """A number of examples.json: plain, or "a/b" for an exact reciprocal."""
    if isinstance(value, str) and "/" in value:
        top, bottom = value.split("/")
        return float(top) / float(bottom)
    if isinstance(value, list):
        return [num(v) for v in value]
    return value


def example(ident: str) -> dict:
    return next(e for e in EXAMPLES if e["id"] == ident)


def ids(method: str) -> list[str]:
    return [e["id"] for e in EXAMPLES if e["method"] == method]


def close(actual, expected, tol) -> None:
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float), np.asarray(expected, dtype=float), rtol=0, atol=tol
    )


def raises(match: str):
    return pytest.raises(MethodError, match=match)


def consistent_matrix(w) -> np.ndarray:
    w = np.asarray(w, dtype=float)
    return w[:, None] / w[None, :]


# --- the worked examples --------------------------------------------------------------------


def test_it_has_the_shared_examples_and_more():
    shared = {"ahp-wikipedia-leader-criteria", "entropy-zavadskas-podvezko2016", "topsis-tzeng-huang2011"}
    assert shared | {"fce-sishoukui-personnel-one-level"} <= {e["id"] for e in EXAMPLES}
    assert len(EXAMPLES) >= 15
    assert all(e["source"]["citation"] and e["source"]["via"] for e in EXAMPLES)


@pytest.mark.parametrize("ident", ids("ahp"))
def test_it_reproduces_the_ahp_examples(ident):
    ex = example(ident)
    given, expected, tol = ex["input"], ex["expected"], ex["tolerance"]
    result = M.ahp(num(given["matrix"]), priority=given["priority"], ri_table=given["ri_table"])
    close(result.weights, expected["weights"], tol["weights"])
    assert result.cr == pytest.approx(expected["cr"], abs=tol["cr"])
    assert result.ri_table == given["ri_table"] and result.consistent
    assert sum(result.weights) == pytest.approx(1.0, abs=1e-12)


def test_it_reproduces_the_incomplete_pairs_example():
    ex = example("ahp-pairs-ahpy-missing-cd")
    given, expected, tol = ex["input"], ex["expected"], ex["tolerance"]
    result = M.ahp_from_pairs(given["elements"], num(given["pairs"]), ri_table=given["ri_table"])
    close(result.weights, expected["weights"], tol["weights"])
    assert result.cr == pytest.approx(expected["cr"], abs=tol["cr"])
    [(a, b, value)] = result.completed
    [(ea, eb, evalue)] = expected["completed"]
    assert (a, b) == (ea, eb) and value == pytest.approx(evalue, abs=tol["completed"])
    # The completed matrix is the one reported, reciprocal at the filled cell.
    assert result.matrix[2, 3] == pytest.approx(value) and result.matrix[3, 2] == pytest.approx(1 / value)


def test_it_reproduces_the_leader_hierarchy():
    ex = example("ahp-hierarchy-wikipedia-leader")
    given, expected, tol = ex["input"], ex["expected"], ex["tolerance"]
    criteria = M.ahp_from_pairs(given["criteria"], num(given["criteria_pairs"]), ri_table="saaty2005").matrix
    alternatives = [
        M.ahp_from_pairs(
            given["alternatives"], num(given["alternative_pairs"][c]), ri_table="saaty2005"
        ).matrix
        for c in given["criteria"]
    ]
    result = M.ahp_hierarchy(criteria, alternatives, ri_table=given["ri_table"])
    close(result.total_weights, expected["total_weights"], tol["total_weights"])
    experience, education = result.alternatives[0], result.alternatives[1]
    close(experience.weights, expected["local"]["Experience"]["weights"], tol["weights"])
    assert experience.cr == pytest.approx(expected["local"]["Experience"]["cr"], abs=tol["cr"])
    assert education.cr == pytest.approx(expected["local"]["Education"]["cr"], abs=tol["cr"])
    # Global weight = product of local weights, summed over the criteria, at full precision.
    product = np.array(result.criteria.weights) @ np.array([r.weights for r in result.alternatives])
    np.testing.assert_allclose(result.total_weights, product, rtol=1e-13)


def test_it_reproduces_the_three_level_vehicle_example():
    ex = example("ahp-tree-wikipedia-vehicle")
    given, expected, tol = ex["input"], ex["expected"], ex["tolerance"]
    nodes = given["nodes"]
    local = {}
    for name, pairs in nodes.items():
        elements = list(dict.fromkeys(e for p in pairs for e in p[:2]))
        local[name] = (elements, M.ahp_from_pairs(elements, num(pairs), ri_table=given["ri_table"]))
    for name, want in expected["local"].items():
        elements, result = local[name]
        assert result.cr == pytest.approx(want["cr"], abs=tol["cr"]), name
        if "weights" in want:
            close(result.weights, [want["weights"][e] for e in elements], tol["weights"])

    def global_weights(node: str, weight: float, into: dict) -> None:
        elements, result = local[node]
        for element, w in zip(elements, result.weights, strict=True):
            if element in local:
                global_weights(element, weight * w, into)
            else:
                into[element] = into.get(element, 0.0) + weight * w

    target: dict[str, float] = {}
    global_weights("Criteria", 1.0, target)
    assert sum(target.values()) == pytest.approx(1.0, abs=1e-12)
    close([target[v] for v in given["alternatives"]], [expected["target_weights"][v] for v in given["alternatives"]],
          tol["target_weights"])  # fmt: skip


def test_it_reproduces_the_tourism_textbook_example():
    ex = example("ahp-hierarchy-jiang-tourism")
    given, expected, tol = ex["input"], ex["expected"], ex["tolerance"]
    result = M.ahp_hierarchy(
        num(given["criteria_matrix"]),
        [num(m) for m in given["alternative_matrices"]],
        ri_table=given["ri_table"],
    )
    close(result.criteria.weights, expected["criteria_weights"], tol["weights"])
    assert result.criteria.lambda_max == pytest.approx(expected["criteria_lambda_max"], abs=tol["lambda_max"])
    assert result.criteria.cr == pytest.approx(expected["criteria_cr"], abs=tol["cr"])
    for alt, weights, ci in zip(
        result.alternatives, expected["alternative_weights"], expected["alternative_ci"], strict=True
    ):
        close(alt.weights, weights, tol["weights"])
        assert alt.ci == pytest.approx(ci, abs=tol["ci"])
    close(result.total_weights, expected["total_weights"], tol["weights"])
    assert result.consistent


def test_it_refuses_the_textbook_matrix_that_is_not_reciprocal_and_repairs_it_on_request():
    ex = example("ahp-sishoukui-job-choice-nonreciprocal")
    matrix = num(ex["input"]["matrix"])
    with pytest.raises(MethodError) as caught:
        M.ahp(matrix)
    for part in ex["expected"]["error_contains"]:
        assert part in caught.value.message
    assert caught.value.field == "matrix"
    repaired = M.ahp(matrix, repair=True)
    assert [list(cell) for cell in repaired.repaired] == ex["expected"]["repaired"]
    assert repaired.matrix[5, 4] == 1.0 and repaired.matrix[4, 5] == 1.0


@pytest.mark.parametrize("ident", ids("entropy"))
def test_it_reproduces_the_entropy_examples(ident):
    ex = example(ident)
    given = ex["input"]
    result = M.entropy_weights(
        given["matrix"], variant=given["variant"], criteria_types=given.get("criteria_types")
    )
    close(result.weights, ex["expected"]["weights"], ex["tolerance"]["weights"])
    assert result.variant == "raw"


@pytest.mark.parametrize("ident", ids("topsis"))
def test_it_reproduces_the_topsis_examples(ident):
    ex = example(ident)
    given = ex["input"]
    result = M.topsis(
        num(given["matrix"]), given["weights"], given["criteria_types"], normalization=given["normalization"]
    )
    close(result.closeness, ex["expected"]["closeness"], ex["tolerance"]["closeness"])
    assert result.ranking == ex["expected"]["ranking"]
    assert result.normalization == given["normalization"]


@pytest.mark.parametrize("ident", ids("fuzzy"))
def test_it_reproduces_the_fuzzy_examples(ident):
    ex = example(ident)
    given = ex["input"]
    b = M.fuzzy_evaluate(given["weights"], given["membership"], operator=given["operator"])
    close(b, ex["expected"]["b"], ex["tolerance"]["b"])
    assert M.fuzzy_grade(b, given["grades"]).grades == ex["expected"]["grades"]


def test_it_reproduces_the_two_level_fuzzy_example():
    ex = example("fce-sishoukui-personnel-two-level")
    given = ex["input"]
    # Bottom-up: B_i = A_i ∘ R_i, stacked as the next level's R.
    stacked = [
        M.fuzzy_evaluate(g["weights"], g["membership"], operator=given["operator"]) for g in given["groups"]
    ]
    b = M.fuzzy_evaluate(given["weights"], stacked, operator=given["operator"])
    close(b, ex["expected"]["b"], ex["tolerance"]["b"])
    assert M.fuzzy_grade(b, given["grades"]).grades == ex["expected"]["grades"]


# --- AHP edge cases -------------------------------------------------------------------------


def test_it_reports_cr_zero_for_orders_one_and_two():
    for matrix in ([[1]], [[1, 9], [1 / 9, 1]], [[1, 1e5], [1e-5, 1]]):
        for priority in M.PRIORITY_METHODS:
            result = M.ahp(matrix, priority=priority)
            assert (result.ci, result.cr, result.consistent) == (0.0, 0.0, True)
            assert result.lambda_max == len(matrix)
    assert M.ahp([[1, 3], [1 / 3, 1]]).weights == pytest.approx([0.75, 0.25])


def test_it_compares_the_unrounded_cr_with_the_threshold():
    # CR just under and just over 0.1: the decision must not depend on display rounding.
    base = np.array([[1, 1, 1], [1, 1, 1], [1, 1, 1]], dtype=float)

    def with_x(x):
        a = base.copy()
        a[0, 1], a[1, 0] = x, 1 / x
        a[0, 2], a[2, 0] = x, 1 / x
        a[1, 2], a[2, 1] = x, 1 / x
        return a

    from scipy.optimize import brentq

    x_at = brentq(lambda x: M.ahp(with_x(x)).cr - 0.1, 1.01, 20)
    below, above = M.ahp(with_x(x_at * (1 - 1e-7))), M.ahp(with_x(x_at * (1 + 1e-7)))
    assert below.cr < 0.1 and below.consistent and round(below.cr, 4) == 0.1
    assert above.cr > 0.1 and not above.consistent and round(above.cr, 4) == 0.1
    assert M.ahp(with_x(x_at * (1 + 1e-7)), threshold=0.2).consistent


def test_it_records_the_random_index_table_and_raises_beyond_it():
    a = M.ahp(consistent_matrix(range(1, 6)), ri_table="gong_xu")
    assert (a.ri_table, a.ri) == ("gong_xu", 1.12)
    for name, table in M.RI_TABLES.items():
        assert len(table) == 15 and table[0] == table[1] == 0, name
        assert M.random_index(15, name) == table[14]
        with raises(f"{name} 只列到 15 阶，当前判断矩阵为 16 阶"):
            M.ahp(consistent_matrix(range(1, 17)), ri_table=name)
    assert M.random_index(11, "saaty1980") == 1.51 and M.random_index(11, "saaty_cn") == 1.52


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[1, 2, 3], [0.5, 1, 2]], "应为方阵，现为 2 行 3 列"),
        ([[1, 2], [0.5]], "每行的长度应相同"),
        ([[1, "a"], [1, 1]], "只能包含数值"),
        ([1, 2], "二维矩阵"),
        ([[1, -2], [-0.5, 1]], "第 1 行第 2 列的值为 -2，判断值必须为正数"),
        ([[1, 0], [0, 1]], "第 1 行第 2 列的值为 0"),
        ([[1, math.nan], [1, 1]], "第 1 行第 2 列的值不是有限的数字"),
        ([[1, 2], [math.inf, 1]], "第 2 行第 1 列的值不是有限的数字"),
        ([[2, 2], [0.5, 1]], "第 1 行第 1 列（对角线）的值为 2，对角线上应为 1"),
        (
            [[1, 2, 4], [0.5, 1, 3], [0.25, 0.5, 1]],
            "第 2 行第 3 列的值 3 与第 3 行第 2 列的值 0.5 不互为倒数",
        ),
        ([[1, 1e7], [1e-7, 1]], "超出可计算的范围"),
        ([], "不能为空"),
    ],
)
def test_it_refuses_invalid_matrices_naming_the_cell(matrix, message):
    with raises(message) as caught:
        M.ahp(matrix)
    assert isinstance(caught.value, ValueError) and CJK.search(caught.value.message)
    assert caught.value.field == "matrix"


def test_it_accepts_reciprocals_within_a_relative_tolerance_and_any_positive_real():
    m = [[1, 3, 0.3333333], [0.3333333, 1, 0.5], [3.0000003, 2, 1]]
    assert M.ahp(m).weights
    geometric = [[1, 2.7183, 0.8], [1 / 2.7183, 1, 1 / 3.3], [1 / 0.8, 3.3, 1]]
    assert M.ahp(geometric).warnings == []
    result = M.ahp([[1, 12, 2], [1 / 12, 1, 1 / 5], [0.5, 5, 1]])
    assert (
        result.warnings and "超出 1–9 标度" in result.warnings[0] and "第 1 行第 2 列" in result.warnings[0]
    )


def test_it_repairs_from_the_upper_triangle_only_when_asked():
    form = [[1, 3, 5], [None, 1, 2], [0, None, 1]]
    with raises("第 2 行第 1 列的值不是有限的数字"):
        M.ahp(form)
    result = M.ahp(form, repair=True)
    np.testing.assert_allclose(result.matrix, [[1, 3, 5], [1 / 3, 1, 2], [1 / 5, 1 / 2, 1]], rtol=1e-15)
    assert [(i, j, old) for i, j, old, _ in result.repaired] == [(1, 0, None), (2, 0, 0.0), (2, 1, None)]
    # An already reciprocal matrix needs no repair, and the upper triangle is still checked.
    assert M.ahp(consistent_matrix([3, 2, 1]), repair=True).repaired == []
    with raises("第 1 行第 3 列的值为 -5"):
        M.ahp([[1, 3, -5], [0, 1, 2], [0, 0, 1]], repair=True)


def test_it_refuses_unknown_options_listing_the_allowed_ones():
    with raises("权重计算方法“power”不受支持，可选：eigenvector、rgmm、colnorm"):
        M.ahp([[1]], priority="power")
    with raises("随机一致性指标表“saaty”不受支持"):
        M.ahp([[1]], ri_table="saaty")
    with raises("阈值应大于 0"):
        M.ahp([[1]], threshold=0)
    with raises("总排序一致性比例的算法“sum”不受支持，可选：per_level、cumulative"):
        M.ahp_hierarchy([[1]], [[[1]]], total_cr="sum")


def test_it_computes_the_approximate_priority_methods_as_the_textbooks_do():
    a = [
        [Fraction(1), Fraction(2), Fraction(5)],
        [Fraction(1, 2), Fraction(1), Fraction(2)],
        [Fraction(1, 5), Fraction(1, 2), Fraction(1)],
    ]
    n = 3
    # 和积法: normalise each column, average the rows.
    col_sums = [sum(a[i][j] for i in range(n)) for j in range(n)]
    colnorm = [sum(a[i][j] / col_sums[j] for j in range(n)) / n for i in range(n)]
    # 方根法: geometric mean of each row, normalised.
    roots = [math.prod(float(x) for x in row) ** (1 / n) for row in a]
    rgmm = [r / sum(roots) for r in roots]
    floats = [[float(x) for x in row] for row in a]
    for priority, expected in (("colnorm", [float(x) for x in colnorm]), ("rgmm", rgmm)):
        result = M.ahp(floats, priority=priority)
        assert result.weights == pytest.approx(expected, abs=1e-15)
        aw = np.array(floats) @ np.array(expected)
        assert result.lambda_max == pytest.approx(float(np.mean(aw / np.array(expected))), abs=1e-12)
        assert result.priority == priority
    eig = M.ahp(floats)
    values, vectors = np.linalg.eig(np.array(floats))
    k = int(np.argmax(values.real))
    assert eig.lambda_max == pytest.approx(values[k].real, abs=1e-12)
    assert eig.weights == pytest.approx(
        list(np.abs(vectors[:, k].real) / np.abs(vectors[:, k].real).sum()), abs=1e-12
    )


# --- incomplete judgments ---------------------------------------------------------------------


def test_it_refuses_contradictory_duplicates_but_accepts_agreeing_ones():
    with raises("“甲”对“乙”有相互矛盾的判断（3 与 5）"):
        M.ahp_from_pairs(["甲", "乙"], [("甲", "乙", 3), ("甲", "乙", 5)])
    with raises("“甲”对“乙”有相互矛盾的判断（3 与 0.5）"):
        M.ahp_from_pairs(["甲", "乙"], [("甲", "乙", 3), ("乙", "甲", 2)])
    same = M.ahp_from_pairs(["甲", "乙"], [("甲", "乙", 3), ("乙", "甲", 1 / 3)])
    assert same.weights == pytest.approx([0.75, 0.25]) and same.completed == []


def test_it_names_the_disconnected_groups():
    with raises(r"以下几组元素之间没有任何比较.*\{甲、乙\}；\{丙、丁\}；\{戊\}") as caught:
        M.ahp_from_pairs(["甲", "乙", "丙", "丁", "戊"], [("甲", "乙", 2), ("丁", "丙", 3)])
    assert caught.value.field == "pairs"


@pytest.mark.parametrize(
    ("elements", "pairs", "message"),
    [
        (["甲", "乙"], [("甲", "丙", 2)], "第 1 条比较中的“丙”不在比较元素之列"),
        (["甲", "乙"], [("甲", "甲", 2)], "把“甲”与自身比较"),
        (["甲", "乙"], [("甲", "乙", 0)], "判断值必须为正数"),
        (["甲", "乙"], [("甲", "乙", math.nan)], "应为有限的数字"),
        (["甲", "乙"], [("甲", "乙")], "应为 \\(甲, 乙, 判断值\\) 三项"),
        (["甲", "甲"], [("甲", "甲", 1)], "比较元素“甲”重复出现"),
        ([], [], "比较元素不能为空"),
        ("甲乙", [], "比较元素应为名称列表"),
    ],
)
def test_it_refuses_bad_pairs(elements, pairs, message):
    with raises(message):
        M.ahp_from_pairs(elements, pairs)


def test_it_completes_a_spanning_tree_consistently():
    # A tree of judgments leaves no room for inconsistency: the optimal completion has λmax = n.
    w = [8, 4, 2, 1, 0.5]
    names = ["A", "B", "C", "D", "E"]
    tree = [("A", "B", 2), ("B", "C", 2), ("B", "D", 4), ("D", "E", 2)]
    result = M.ahp_from_pairs(names, tree)
    assert result.weights == pytest.approx(list(np.array(w) / sum(w)), abs=1e-9)
    assert result.cr == pytest.approx(0, abs=1e-9) and result.lambda_max == pytest.approx(5, abs=1e-9)
    completed = {(a, b): v for a, b, v in result.completed}
    assert len(completed) == 10 - 4 and completed[("A", "E")] == pytest.approx(16, rel=1e-8)


def test_it_completes_by_minimising_lambda_max():
    names = ["a", "b", "c", "d", "e"]
    pairs = [("a", "b", 3), ("b", "c", 2), ("a", "c", 9), ("c", "d", 1 / 2), ("d", "e", 4), ("b", "e", 1 / 3)]
    result = M.ahp_from_pairs(names, pairs)
    assert len(result.completed) == 4
    base = result.lambda_max
    # Any change of a completed cell raises λmax (it is the unique minimum, λmax being convex in logs).
    for a, b, value in result.completed:
        for factor in (0.97, 1.03):
            i, j = names.index(a), names.index(b)
            m = result.matrix.copy()
            m[i, j], m[j, i] = value * factor, 1 / (value * factor)
            assert np.max(np.linalg.eigvals(m).real) > base + 1e-9
    # Given cells are kept as given.
    assert result.matrix[0, 1] == 3 and result.matrix[1, 4] == pytest.approx(1 / 3)


# --- hierarchy and several experts ---------------------------------------------------------


def test_it_defines_total_cr_per_level_and_cumulative():
    criteria = [[1, 2, 4], [1 / 2, 1, 3], [1 / 4, 1 / 3, 1]]
    alts = [
        [[1, 3, 5], [1 / 3, 1, 2], [1 / 5, 1 / 2, 1]],
        [[1, 1 / 2, 2], [2, 1, 5], [1 / 2, 1 / 5, 1]],
        [[1, 4], [1 / 4, 1]],
    ]
    with raises("方案层判断矩阵有 2 个，应与准则数 3 一致"):
        M.ahp_hierarchy(criteria, alts[:2])
    with raises("第 3 个准则下的方案层判断矩阵为 2 阶，与第 1 个（3 阶）不一致"):
        M.ahp_hierarchy(criteria, alts)
    alts[2] = [[1, 4, 7], [1 / 4, 1, 2], [1 / 7, 1 / 2, 1]]
    per_level = M.ahp_hierarchy(criteria, alts)
    cumulative = M.ahp_hierarchy(criteria, alts, total_cr="cumulative")
    a = np.array(per_level.criteria.weights)
    ci = np.array([r.ci for r in per_level.alternatives])
    expected = float(a @ ci) / float(a @ np.array([0.58, 0.58, 0.58]))
    assert per_level.total_cr == pytest.approx(expected, rel=1e-12)
    assert cumulative.total_cr == pytest.approx(expected + per_level.criteria.cr, rel=1e-12)
    assert (per_level.total_cr_method, cumulative.total_cr_method) == ("per_level", "cumulative")
    assert per_level.total_weights == cumulative.total_weights
    # Alternatives compared in pairs only (order 2) have RI = 0: the level's CR is 0, not 0/0.
    two = M.ahp_hierarchy(criteria, [[[1, 2], [0.5, 1]]] * 3)
    assert two.total_cr == 0.0 and two.consistent


def test_it_aggregates_experts_by_the_weighted_geometric_mean():
    e1 = [[1, 3, 5], [1 / 3, 1, 2], [1 / 5, 1 / 2, 1]]
    e2 = [[1, 1 / 3, 1], [3, 1, 4], [1, 1 / 4, 1]]
    aij = M.aggregate_judgments([e1, e2])
    assert isinstance(aij, np.ndarray) and aij.shape == (3, 3)
    assert (
        aij[0, 1] == pytest.approx(1.0)
        and aij[0, 2] == pytest.approx(math.sqrt(5))
        and aij[1, 2] == pytest.approx(math.sqrt(8))
    )
    assert np.allclose(aij * aij.T, 1.0) and np.all(np.diag(aij) == 1.0)
    weighted = M.aggregate_judgments([e1, e2], weights=[3, 1])
    assert weighted[0, 2] == pytest.approx(5**0.75 * 1**0.25)
    # Each expert's CR and the aggregate's come from ahp() on the matrices.
    assert M.ahp(aij).cr <= max(M.ahp(e1).cr, M.ahp(e2).cr) + 1e-12
    with raises("第 2 位专家的判断矩阵第 1 行第 2 列的值 3 与第 2 行第 1 列的值 3 不互为倒数"):
        M.aggregate_judgments([e1, [[1, 3, 1], [3, 1, 1], [1, 1, 1]]])
    with raises("第 2 位专家的判断矩阵为 2 阶，与第 1 位（3 阶）不一致"):
        M.aggregate_judgments([e1, [[1, 2], [0.5, 1]]])
    with raises("专家权重有 1 项"):
        M.aggregate_judgments([e1, e2], weights=[1])
    with raises("请至少提供一位专家"):
        M.aggregate_judgments([])


# --- entropy --------------------------------------------------------------------------------


def test_it_gives_a_constant_column_weight_zero():
    result = M.entropy_weights([[1, 5, 3], [2, 5, 1], [4, 5, 2]])
    assert result.weights[1] == 0.0 and result.entropies[1] == 1.0 and result.constant_columns == [1]
    assert sum(result.weights) == pytest.approx(1.0)


def test_it_uses_zero_log_zero_as_zero():
    result = M.entropy_weights([[0, 1], [0, 2], [5, 3]])
    # Column 1 puts all its mass on one row: entropy 0, the largest weight.
    assert result.entropies[0] == 0.0
    assert result.weights[0] > result.weights[1] > 0


@pytest.mark.parametrize(
    ("matrix", "kwargs", "message"),
    [
        ([[1, -2], [3, 4]], {}, "第 1 行第 2 列为负数（-2）：原始熵权法要求非负数据"),
        ([[1, 0], [3, 0]], {}, "第 2 列全为 0"),
        ([[1, 2]], {}, "至少需要 2 个被评对象"),
        ([[1, 2], [1, 2]], {}, "所有指标在各被评对象间取值都相同"),
        ([[1, 2], [3, 4]], {"variant": "log"}, "熵权法的变体“log”不受支持"),
        ([[1, 2], [3, 4]], {"criteria_types": [1, 0]}, "指标类型第 2 项应为 1（效益型，越大越好）或 -1"),
        ([[1, 2], [3, 4]], {"criteria_types": [1]}, "指标类型有 1 项，应与指标数 2 一致"),
        ([[1, 2], [3, 4]], {"shift": -1}, "平移量不能为负数"),
        ([[1, math.inf], [3, 4]], {}, "第 1 行第 2 列的值不是有限的数字"),
    ],
)
def test_it_refuses_invalid_entropy_input(matrix, kwargs, message):
    with raises(message):
        M.entropy_weights(matrix, **kwargs)


def test_it_normalises_by_criterion_type_in_the_minmax_variant():
    x = [[1, 10, 7], [2, 30, 7], [4, 20, 7]]
    benefit = M.entropy_weights(x, variant="minmax", criteria_types=[1, 1, 1])
    cost = M.entropy_weights(x, variant="minmax", criteria_types=[-1, 1, 1])
    assert benefit.weights[2] == 0.0 and benefit.constant_columns == [2]

    # By hand: column 1 as benefit is (0, 1/3, 1); as cost (1, 2/3, 0).
    def weights_of(columns):
        e = []
        for col in columns:
            p = np.array(col) / sum(col)
            e.append(-sum(v * math.log(v) for v in p if v > 0) / math.log(3))
        d = 1 - np.array(e)
        return list(d / d.sum())

    assert benefit.weights[:2] == pytest.approx(weights_of([[0, 1 / 3, 1], [0, 1, 0.5]]))
    assert cost.weights[:2] == pytest.approx(weights_of([[1, 2 / 3, 0], [0, 1, 0.5]]))
    shifted = M.entropy_weights(x, variant="minmax", criteria_types=[-1, 1, 1], shift=0.01)
    assert shifted.shift == 0.01 and shifted.weights != cost.weights
    # A negative value is fine once min-max normalised.
    assert M.entropy_weights([[-1, 2], [3, 4], [0, 5]], variant="minmax").weights


# --- combined weights -------------------------------------------------------------------------


def test_it_combines_weights_by_each_named_method():
    s, o = [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]
    assert M.combine_weights(s, o) == pytest.approx([0.35, 0.25, 0.4])
    assert M.combine_weights(s, o, alpha=0.8) == pytest.approx([0.44, 0.28, 0.28])
    prod = np.array(s) * np.array(o)
    assert M.combine_weights(s, o, method="multiplicative") == pytest.approx(list(prod / prod.sum()))
    root = np.sqrt(prod)
    assert M.combine_weights(s, o, method="min_relative_entropy") == pytest.approx(list(root / root.sum()))
    # 博弈论: solve [[s·s, s·o], [o·s, o·o]] α = [s·s, o·o], normalise |α|.
    sv, ov = np.array(s), np.array(o)
    alpha = np.linalg.solve([[sv @ sv, sv @ ov], [ov @ sv, ov @ ov]], [sv @ sv, ov @ ov])
    alpha = np.abs(alpha) / np.abs(alpha).sum()
    assert M.combine_weights(s, o, method="game_theory") == pytest.approx(list(alpha[0] * sv + alpha[1] * ov))
    assert M.combine_weights(s, s, method="game_theory") == pytest.approx(s)
    # Inputs not summing to 1 are normalised first.
    assert M.combine_weights([5, 3, 2], [1, 1, 3]) == pytest.approx([0.35, 0.25, 0.4])


def test_it_refuses_invalid_combinations():
    with raises("线性组合系数 α 应在 0 到 1 之间"):
        M.combine_weights([0.5, 0.5], [0.5, 0.5], alpha=1.5)
    with raises("没有同时为正的指标"):
        M.combine_weights([1, 0], [0, 1], method="multiplicative")
    with raises("客观权重有 3 项，应与指标数 2 一致"):
        M.combine_weights([0.5, 0.5], [0.2, 0.3, 0.5])
    with raises("主观权重第 2 项为负数"):
        M.combine_weights([0.5, -0.5], [0.5, 0.5])
    with raises("组合赋权方法“mean”不受支持"):
        M.combine_weights([0.5, 0.5], [0.5, 0.5], method="mean")


# --- TOPSIS ---------------------------------------------------------------------------------


def test_it_shares_ranks_between_identical_alternatives():
    result = M.topsis([[3, 2], [3, 2], [1, 5], [0, 0]], [0.5, 0.5], [1, 1])
    assert result.closeness[0] == result.closeness[1] and result.ranking[0] == result.ranking[1]
    assert result.ranking == M.competition_ranking(result.closeness) and result.ranking[3] == 4
    assert M.competition_ranking([0.7, 0.7, 0.5]) == [1, 1, 3]
    assert M.competition_ranking([0.2, 0.9, 0.2, 0.9, 0.1]) == [3, 1, 3, 1, 5]
    assert M.competition_ranking([3, 1, 2], higher_is_better=False) == [3, 1, 2]
    assert M.competition_ranking([0.5, 0.5 + 1e-15, 0.4]) == [1, 1, 3]


def test_it_treats_a_zero_norm_column_as_carrying_no_information():
    x = [[5, 8, 0], [7, 6, 0], [8, 8, 0], [7, 4, 0]]
    with_zero = M.topsis(x, [0.3, 0.4, 0.3], [1, 1, -1])
    without = M.topsis([row[:2] for row in x], [0.3, 0.4], [1, 1])
    assert with_zero.ranking == without.ranking
    assert with_zero.closeness == pytest.approx(without.closeness, abs=1e-15)
    # The zero column keeps its share of the weights, so distances shrink but the order holds.
    assert with_zero.reference.scale[2] == 0.0


def test_it_refuses_alternatives_that_are_all_identical():
    with raises("所有被评对象在各（权重非零的）指标上的取值都相同"):
        M.topsis([[1, 2], [1, 2]], [0.5, 0.5], [1, -1])
    # Identical on the weighted columns is the same thing.
    with raises("取值都相同"):
        M.topsis([[1, 2], [1, 3]], [1, 0], [1, 1])
    with raises("取值都相同"):
        M.topsis([[1, 2, 3]], [1, 1, 1], [1, 1, 1])


def test_it_handles_cost_criteria_and_both_normalisations():
    x = [[250, 16, 12, 5], [200, 16, 8, 3], [300, 32, 16, 4], [275, 32, 8, 4], [225, 16, 16, 2]]
    types = [-1, 1, 1, 1]
    vector = M.topsis(x, [0.25] * 4, types)
    # Vector by hand.
    a = np.array(x, dtype=float)
    r = a / np.linalg.norm(a, axis=0)
    v = r * 0.25
    best = np.where(np.array(types) == 1, v.max(axis=0), v.min(axis=0))
    worst = np.where(np.array(types) == 1, v.min(axis=0), v.max(axis=0))
    dp, dm = np.linalg.norm(v - best, axis=1), np.linalg.norm(v - worst, axis=1)
    assert vector.closeness == pytest.approx(list(dm / (dp + dm)), abs=1e-14)
    assert vector.d_plus == pytest.approx(list(dp)) and vector.d_minus == pytest.approx(list(dm))
    minmax = M.topsis(x, [0.25] * 4, types, normalization="minmax")
    assert minmax.reference.ideal == [1.0] * 4 and minmax.reference.anti_ideal == [0.0] * 4
    with raises("规范化方法“sum”不受支持"):
        M.topsis(x, [0.25] * 4, types, normalization="sum")
    with raises("权重有 3 项，应与指标数 4 一致"):
        M.topsis(x, [0.25] * 3, types)
    with raises("指标类型第 1 项应为 1"):
        M.topsis(x, [0.25] * 4, [0, 1, 1, 1])


def test_it_freezes_the_reference_points_so_new_units_cannot_reverse_ranks():
    # A newcomer that itself ranks last changes the column norms and the ideal points: without a
    # frozen reference the order of the first two reverses (a known TOPSIS property).
    x = [[8, 7], [5, 10]]
    newcomer = [[18, 1]]
    weights, types = [0.5, 0.5], [1, 1]
    before = M.topsis(x, weights, types)
    assert before.ranking == [1, 2]
    moving = M.topsis(x + newcomer, weights, types)
    assert moving.ranking == [2, 1, 3]
    frozen = M.topsis(x + newcomer, weights, types, reference=before.reference)
    assert frozen.closeness[:2] == pytest.approx(before.closeness, abs=1e-15)
    assert frozen.ranking[0] < frozen.ranking[1]
    with raises("冻结的参照点与本次的指标类型不一致"):
        M.topsis(x, weights, [1, -1], reference=before.reference)
    with raises("冻结的参照点与本次的规范化方法或指标数不一致"):
        M.topsis(x, weights, types, normalization="minmax", reference=before.reference)


# --- fuzzy --------------------------------------------------------------------------------


def test_it_applies_each_fuzzy_operator():
    a = [0.1, 0.2, 0.3, 0.4]
    r = [[0.2, 0.5, 0.2, 0.1], [0.7, 0.2, 0.1, 0], [0, 0.4, 0.5, 0.1], [0.2, 0.3, 0.5, 0]]
    assert M.fuzzy_evaluate(a, r) == pytest.approx([0.24, 0.33, 0.39, 0.04])
    assert M.fuzzy_evaluate(a, r, operator="product_max") == pytest.approx([0.14, 0.12, 0.2, 0.03])
    assert M.fuzzy_evaluate(a, r, operator="bounded_sum") == pytest.approx([0.5, 0.9, 0.9, 0.2])
    assert M.fuzzy_evaluate([0.5, 0.5], [[1, 1], [1, 1]], operator="bounded_sum") == [1.0, 1.0]


def test_it_refuses_invalid_fuzzy_input():
    r = [[0.5, 0.5], [0.2, 0.8]]
    with raises("权重之和为 0.9，模糊综合评价要求权重之和为 1"):
        M.fuzzy_evaluate([0.4, 0.5], r)
    with raises("隶属度矩阵第 2 行第 2 列为 1.2，隶属度应在 0 到 1 之间"):
        M.fuzzy_evaluate([0.5, 0.5], [[0.5, 0.5], [0.2, 1.2]])
    with raises("隶属度矩阵有 2 行，应与因素数（权重项数）3 一致"):
        M.fuzzy_evaluate([0.2, 0.3, 0.5], r)
    with raises("模糊合成算子“max”不受支持"):
        M.fuzzy_evaluate([0.5, 0.5], r, operator="max")


def test_it_reports_grade_ties_and_the_score():
    grade = M.fuzzy_grade([0.4, 0.4, 0.2], ["好", "较好", "一般"], grade_values=[100, 80, 60])
    assert grade.grades == ["好", "较好"] and grade.score == pytest.approx(84.0)
    # min_max does not give a distribution: the score uses the normalised vector.
    g = M.fuzzy_grade(
        [0.2, 0.3, 0.4, 0.1], ["很欢迎", "较欢迎", "不太欢迎", "不欢迎"], grade_values=[100, 75, 50, 25]
    )
    assert g.normalized == pytest.approx([0.2, 0.3, 0.4, 0.1]) and g.score == pytest.approx(65.0)
    with raises("评价向量全为 0"):
        M.fuzzy_grade([0, 0], ["好", "差"])
    with raises("评语有 1 个，应与评价向量的 2 项一致"):
        M.fuzzy_grade([0.5, 0.5], ["好"])


# --- sensitivity ------------------------------------------------------------------------------


def test_it_measures_rank_ranges_and_grade_change_probability():
    x = np.array([[95, 96, 94], [85, 70, 92], [80, 90, 70], [40, 50, 45]], dtype=float)
    w = [0.5, 0.3, 0.2]
    options = {
        "method": "weighted_sum",
        "grade_edges": [60, 80, 90],
        "samples": 2000,
        "seed": 7,
        "concentration": 10,
    }
    result = M.sensitivity(x, w, None, **options)
    assert result.base_scores == pytest.approx([95.1, 81.9, 81.0, 44.0])
    # Bands: < 60 → 0, [60, 80) → 1, [80, 90) → 2, ≥ 90 → 3.
    assert result.base_ranking == [1, 2, 3, 4] and result.base_grades == [3, 2, 2, 0]
    # The clear leader and the clear laggard never move; the middle two swap sometimes.
    assert (result.rank_min[0], result.rank_max[0]) == (1, 1) and (
        result.rank_min[3],
        result.rank_max[3],
    ) == (4, 4)
    assert (result.rank_min[1], result.rank_max[1]) == (2, 3) and (
        result.rank_min[2],
        result.rank_max[2],
    ) == (2, 3)
    assert result.grade_change_probability[0] == 0.0 and result.grade_change_probability[3] == 0.0
    assert 0 < result.grade_change_probability[2] < 0.5  # 81.0 at the given weights, near the 80 edge
    assert all(
        lo <= m <= hi for lo, m, hi in zip(result.rank_min, result.rank_mean, result.rank_max, strict=True)
    )
    assert M.sensitivity(x, w, None, **options).to_dict() == result.to_dict()
    assert (result.samples, result.concentration, result.seed) == (2000, 10.0, 7)
    calm = M.sensitivity(x, w, None, **{**options, "samples": 200, "concentration": 1e9})
    assert calm.grade_change_probability == [0.0, 0.0, 0.0, 0.0] and calm.rank_min == calm.rank_max


def test_it_runs_sensitivity_on_topsis_in_chunks():
    rng = np.random.default_rng(3)
    x = rng.uniform(1, 100, size=(40, 6))
    types = [1, 1, -1, 1, -1, 1]
    w = [0.3, 0.2, 0.1, 0.2, 0.1, 0.1]
    result = M.sensitivity(x, w, types, samples=300, seed=1)
    base = M.topsis(x, w, types)
    assert result.base_scores == pytest.approx(base.closeness) and result.base_ranking == base.ranking
    assert result.grade_change_probability is None and result.method == "topsis"
    # One draw scored directly equals the vectorised score of the same draw.
    single = M.sensitivity(x, w, types, samples=1, seed=5)
    draw = np.random.default_rng(5).dirichlet(100.0 * 6 * np.array(w), size=1)[0]
    ranks = M.topsis(x, draw, types).ranking
    assert [min(a, b) for a, b in zip(ranks, base.ranking, strict=True)] == single.rank_min


def test_it_gives_the_same_sensitivity_whatever_the_chunk_size(monkeypatch):
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 100, size=(30, 5))
    args = (x, [0.2] * 5, None)
    whole = M.sensitivity(*args, samples=100, seed=2, grade_edges=[60, 80, 90], method="weighted_sum")
    monkeypatch.setattr(M, "CHUNK_CELLS", 30 * 7)  # chunks of 7 draws
    chunked = M.sensitivity(*args, samples=100, seed=2, grade_edges=[60, 80, 90], method="weighted_sum")
    assert chunked.to_dict() == whole.to_dict()


def test_it_refuses_invalid_sensitivity_options():
    x, w = [[1, 2], [3, 1]], [0.5, 0.5]
    with raises("抽样次数应为 1 到 100000 之间的整数"):
        M.sensitivity(x, w, [1, 1], samples=0)
    with raises("集中度应大于 0"):
        M.sensitivity(x, w, [1, 1], concentration=0)
    with raises("等次分界应严格递增"):
        M.sensitivity(x, w, [1, 1], grade_edges=[80, 60])
    with raises("加权求和法要求各指标已正向化"):
        M.sensitivity(x, w, [1, -1], method="weighted_sum")
    with raises("随机种子应为非负整数"):
        M.sensitivity(x, w, [1, 1], seed=-1)


# --- results ------------------------------------------------------------------------------


def test_it_returns_json_ready_records_without_nan():
    results = [
        M.ahp(consistent_matrix([1, 2, 3])),
        M.ahp_from_pairs(["a", "b", "c"], [("a", "b", 2), ("b", "c", 3)]),
        M.ahp_hierarchy([[1, 2], [0.5, 1]], [[[1, 3], [1 / 3, 1]], [[1, 1 / 2], [2, 1]]]),
        M.entropy_weights([[1, 2], [3, 4]]),
        M.topsis([[1, 2], [3, 4]], [0.5, 0.5], [1, -1]),
        M.fuzzy_grade([0.3, 0.7], ["好", "差"], grade_values=[100, 0]),
        M.sensitivity([[1, 2], [3, 1]], [0.5, 0.5], [1, 1], samples=10, grade_edges=[0.5]),
    ]
    for result in results:
        record = result.to_dict()
        assert json.loads(json.dumps(record, allow_nan=False)) == record
    first = results[0]
    assert isinstance(first.weights, list) and all(type(v) is float for v in first.weights)
    assert isinstance(first.matrix, np.ndarray) and isinstance(results[4].ranking[0], int)


def test_it_raises_method_errors_that_are_value_errors_in_chinese():
    assert issubclass(MethodError, ValueError)
    for call in (
        lambda: M.ahp("abc"),
        lambda: M.entropy_weights(None),
        lambda: M.topsis([[1]], [1], [1]),
        lambda: M.combine_weights([], []),
        lambda: M.fuzzy_evaluate([1], [[2]]),
    ):
        with pytest.raises(MethodError) as caught:
            call()
        assert CJK.search(str(caught.value))


def test_it_accepts_numpy_arrays_as_well_as_lists():
    stack = np.array([[[1, 2], [0.5, 1]], [[1, 3], [1 / 3, 1]]])
    assert M.aggregate_judgments(stack)[0, 1] == pytest.approx(math.sqrt(6))
    assert M.ahp_hierarchy(np.array([[1, 2], [0.5, 1]]), stack).total_weights == pytest.approx(
        [25 / 36, 11 / 36]
    )
    assert M.ahp_from_pairs(np.array(["a", "b"]), [("a", "b", 2)]).weights == pytest.approx([2 / 3, 1 / 3])
    assert M.topsis(np.array([[1, 2], [2, 1]]), np.array([0.7, 0.3]), np.array([1, 1])).ranking == [2, 1]
