"""The assessment engine's numerical methods (issue 9 §1; ``../shared/domain/evaluation.md``).

Pure numpy/scipy, no Django: AHP (complete, incomplete and hierarchical judgments, several
experts), entropy weights, combined weights, TOPSIS, fuzzy comprehensive evaluation and a Monte
Carlo weight-sensitivity analysis.

Conventions of the whole module:

- every method choice is a named keyword, checked against a fixed set of values, and every result
  carries the choices it was computed with (``to_dict()`` gives a JSON-ready record of it);
- vectors in results are lists of Python floats (ints for rankings), in input order; matrices are
  2-D numpy arrays (as ``aggregate_judgments`` returns);
- invalid input raises :class:`MethodError` (a ``ValueError``) with one Chinese sentence naming the
  problem — the cell, the column, the elements — and ``field`` naming the offending parameter;
- no NaN or infinity ever leaves the module: inputs are checked, degenerate cases (constant
  columns, ties, all alternatives identical) have a defined answer or a clear error, and every
  result is checked finite before it is returned.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

__all__ = [
    "COMBINE_METHODS",
    "ENTROPY_VARIANTS",
    "FUZZY_OPERATORS",
    "NORMALIZATIONS",
    "PRIORITY_METHODS",
    "RI_TABLES",
    "SENSITIVITY_METHODS",
    "TOTAL_CR_METHODS",
    "AHPResult",
    "EntropyResult",
    "FuzzyGrade",
    "HierarchyResult",
    "MethodError",
    "SensitivityResult",
    "TopsisReference",
    "TopsisResult",
    "aggregate_judgments",
    "ahp",
    "ahp_from_pairs",
    "ahp_hierarchy",
    "combine_weights",
    "competition_ranking",
    "entropy_weights",
    "fuzzy_evaluate",
    "fuzzy_grade",
    "inconsistency_hint",
    "random_index",
    "sensitivity",
    "topsis",
]

Array = NDArray[np.float64]

PRIORITY_METHODS = ("eigenvector", "rgmm", "colnorm")
TOTAL_CR_METHODS = ("per_level", "cumulative")
ENTROPY_VARIANTS = ("raw", "minmax")
COMBINE_METHODS = ("linear", "multiplicative", "min_relative_entropy", "game_theory")
NORMALIZATIONS = ("vector", "minmax")
FUZZY_OPERATORS = ("weighted_average", "min_max", "product_max", "bounded_sum")
SENSITIVITY_METHODS = ("topsis", "weighted_sum")

#: Random consistency index RI(n) for n = 1…15, by table name (evaluation.md; each CR records its table).
#: saaty1980: Saaty, *The Analytic Hierarchy Process* (1980). saaty_cn: the values of Chinese textbooks
#: (姜启源《数学模型》, 司守奎《数学建模算法与应用》), Saaty's with 1.52/1.54/1.56/1.58 for n = 11…14.
#: saaty2005: Saaty, *Theory and Applications of the ANP* (2005) p. 31 (AHPy's "saaty"). gong_xu:
#: 龚木森、许树柏 (1986). donegan_dodd: Donegan & Dodd, Math. Comput. Modelling 15(10), 1991 (AHPy's
#: "dd"). tummala_ling: Tummala & Ling (1998). alonso_lamata: Alonso & Lamata (2006).
RI_TABLES: dict[str, tuple[float, ...]] = {
    "saaty1980": (0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59),
    "saaty_cn": (0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.52, 1.54, 1.56, 1.58, 1.59),
    "saaty2005": (0, 0, 0.52, 0.89, 1.11, 1.25, 1.35, 1.40, 1.45, 1.49, 1.52, 1.54, 1.56, 1.58, 1.59),
    "gong_xu": (0, 0, 0.52, 0.89, 1.12, 1.26, 1.36, 1.41, 1.46, 1.49, 1.52, 1.54, 1.56, 1.58, 1.59),
    "donegan_dodd": (
        0, 0, 0.4914, 0.8286, 1.0591, 1.1797, 1.2519, 1.3171, 1.3733, 1.4055, 1.4213, 1.4497, 1.4643,
        1.4822, 1.4969,
    ),
    "tummala_ling": (
        0, 0, 0.5799, 0.8921, 1.1159, 1.2358, 1.3322, 1.3952, 1.4537, 1.4882, 1.5117, 1.5356, 1.5571,
        1.5714, 1.5831,
    ),
    "alonso_lamata": (
        0, 0, 0.5245, 0.8815, 1.1086, 1.2479, 1.3417, 1.4056, 1.4499, 1.4854, 1.5141, 1.5365, 1.5551,
        1.5713, 1.5838,
    ),
}  # fmt: skip

#: Reciprocity and diagonal tolerance (relative): a_ij · a_ji must be 1 within this.
RECIPROCAL_RTOL = 1e-6
#: Judgments outside this range are refused (a computational bound, far beyond any real judgment);
#: values outside Saaty's [1/9, 9] are accepted with a warning (geometric means of experts are real).
JUDGMENT_RANGE = (1e-6, 1e6)
SAATY_SCALE = (1 / 9, 9.0)
#: Weight vectors may deviate from a sum of 1 by this much where a sum of 1 is required.
SUM_TOL = 1e-6
#: Scores closer than this (relative to max(1, |score|)) share a rank: float noise is not a difference.
TIE_RTOL = 1e-9
MAX_SAMPLES = 100_000
#: Sensitivity works through the draws in chunks of about this many (alternative × draw) cells.
CHUNK_CELLS = 500_000


class MethodError(ValueError):
    """Invalid input to an assessment method; the message is one Chinese sentence for the user."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- results ------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A result value as JSON-ready Python data."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


class _Record:
    """``to_dict()`` for the result dataclasses: every attribute, JSON-ready."""

    def to_dict(self) -> dict[str, Any]:
        """The result and the choices it was computed with, as JSON-ready data."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True, eq=False)
class AHPResult(_Record):
    """Priorities and consistency of one pairwise comparison matrix."""

    weights: list[float]
    lambda_max: float
    ci: float
    cr: float
    ri: float
    ri_table: str
    consistent: bool
    matrix: Array
    priority: str = "eigenvector"
    threshold: float = 0.1
    elements: list[str] | None = None
    #: Cells filled in by ``ahp_from_pairs`` (λmax-optimal completion): (row element, column element, value).
    completed: list[tuple[str, str, float]] = field(default_factory=list)
    #: Cells rebuilt by ``repair=True``: (row, column, old value, new value), 0-based; old may be NaN-free None.
    repaired: list[tuple[int, int, float | None, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class HierarchyResult(_Record):
    """A two-level hierarchy: criteria over alternatives, with the total (global) priorities."""

    criteria: AHPResult
    alternatives: list[AHPResult]
    total_weights: list[float]
    total_cr: float
    total_cr_method: str = "per_level"
    threshold: float = 0.1
    consistent: bool = True


@dataclass(frozen=True, eq=False)
class EntropyResult(_Record):
    """Entropy weights of the columns of a decision matrix."""

    weights: list[float]
    entropies: list[float]
    variant: str = "raw"
    shift: float = 0.0
    criteria_types: list[int] | None = None
    constant_columns: list[int] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class TopsisReference(_Record):
    """Frozen TOPSIS reference: how columns are normalised and where the ideal points lie.

    Normalised value r = sign · (x − offset) / scale (0 where scale is 0); ``ideal``/``anti_ideal`` are
    per column in that normalised space. Passing it back to :func:`topsis` (``reference=``) scores new
    alternatives against a published round's points, so adding units cannot reverse earlier ranks.
    """

    normalization: str
    criteria_types: list[int]
    offset: list[float]
    scale: list[float]
    ideal: list[float]
    anti_ideal: list[float]


@dataclass(frozen=True, eq=False)
class TopsisResult(_Record):
    """TOPSIS closeness, distances and competition ranking (1 = best)."""

    closeness: list[float]
    d_plus: list[float]
    d_minus: list[float]
    ranking: list[int]
    normalization: str = "vector"
    weights: list[float] = field(default_factory=list)
    reference: TopsisReference | None = None


@dataclass(frozen=True, eq=False)
class FuzzyGrade(_Record):
    """The reading of a fuzzy evaluation vector: maximum-membership grade(s) and a score."""

    grades: list[str]
    membership: list[float]
    normalized: list[float]
    score: float | None


@dataclass(frozen=True, eq=False)
class SensitivityResult(_Record):
    """Each alternative's rank range and grade-change probability under Dirichlet weight perturbation."""

    rank_min: list[int]
    rank_max: list[int]
    rank_mean: list[float]
    grade_change_probability: list[float] | None
    base_scores: list[float]
    base_ranking: list[int]
    base_grades: list[int] | None
    samples: int
    concentration: float
    seed: int | None
    method: str = "topsis"
    normalization: str = "vector"
    grade_edges: list[float] | None = None


# --- input checks -------------------------------------------------------------------


def _choice(value: Any, allowed: Sequence[str], name: str, label: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise MethodError(f"{label}“{value}”不受支持，可选：{'、'.join(allowed)}。", field=name)
    return value


def _number(value: Any, name: str, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise MethodError(f"{label}应为数字。", field=name)
    number = float(value)
    if not math.isfinite(number):
        raise MethodError(f"{label}应为有限的数字。", field=name)
    return number


def _array(value: Any, name: str, label: str, ndim: int) -> Array:
    """``value`` as a float array of ``ndim`` dimensions, or a MethodError saying what is wrong."""
    if isinstance(value, str | bytes) or value is None:
        raise MethodError(f"{label}应为{'数值列表' if ndim == 1 else '由数值行组成的矩阵'}。", field=name)
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        shape_hint = "每行的长度应相同，且" if ndim == 2 else ""
        raise MethodError(f"{label}{shape_hint}只能包含数值。", field=name) from None
    if array.size == 0:
        raise MethodError(f"{label}不能为空。", field=name)
    if array.ndim != ndim:
        what = "一维的数值列表" if ndim == 1 else "二维矩阵（每行长度相同）"
        raise MethodError(f"{label}应为{what}。", field=name)
    return array


def _where(i: int, j: int | None = None, elements: Sequence[str] | None = None) -> str:
    """A cell or an entry, the way a user counts it (1-based, or by element names)."""
    if j is None:
        return f"第 {i + 1} 项"
    if elements is not None:
        return f"“{elements[i]}”对“{elements[j]}”"
    return f"第 {i + 1} 行第 {j + 1} 列"


def _check_finite(array: Array, name: str, label: str) -> None:
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        cell = tuple(int(k) for k in bad[0])
        where = _where(*cell) if len(cell) == 2 else _where(cell[0])
        raise MethodError(f"{label}{where}的值不是有限的数字（NaN 或无穷大）。", field=name)


def _weights(value: Any, n: int | None, name: str = "weights", label: str = "权重") -> Array:
    """A non-negative weight vector with a positive sum, normalised to sum 1."""
    w = _array(value, name, label, 1)
    _check_finite(w, name, label)
    if n is not None and w.size != n:
        raise MethodError(f"{label}有 {w.size} 项，应与指标数 {n} 一致。", field=name)
    negative = np.flatnonzero(w < 0)
    if negative.size:
        raise MethodError(
            f"{label}{_where(int(negative[0]))}为负数（{w[negative[0]]:g}），权重不能为负。", field=name
        )
    total = float(w.sum())
    if not total > 0:
        raise MethodError(f"{label}全为 0，至少应有一项为正。", field=name)
    return w / total


def _criteria_types(value: Any, n: int, name: str = "criteria_types") -> NDArray[np.int64]:
    if value is None:
        return np.ones(n, dtype=np.int64)
    t = _array(value, name, "指标类型", 1)
    if t.size != n:
        raise MethodError(f"指标类型有 {t.size} 项，应与指标数 {n} 一致。", field=name)
    bad = np.flatnonzero((t != 1) & (t != -1))
    if bad.size:
        raise MethodError(
            f"指标类型{_where(int(bad[0]))}应为 1（效益型，越大越好）或 -1（成本型，越小越好）。", field=name
        )
    return t.astype(np.int64)


def _finite_out(*arrays: Any) -> None:
    """The last guard: a result with NaN or infinity never leaves the module."""
    for a in arrays:
        if a is not None and not np.all(np.isfinite(np.asarray(a, dtype=np.float64))):
            raise MethodError("计算结果超出数值范围，请检查输入数据的数量级。")


def _floats(a: ArrayLike) -> list[float]:
    return [float(x) for x in np.asarray(a, dtype=np.float64).ravel()]


# --- ranking ------------------------------------------------------------------------


def _rank_sorted_groups(sorted_desc: Array, axis_len: int) -> NDArray[np.int64]:
    """Competition ranks along axis 0 of an array already sorted descending, ties by TIE_RTOL."""
    gaps = sorted_desc[:-1] - sorted_desc[1:]
    scale = np.maximum(1.0, np.abs(sorted_desc[:-1]))
    new_group = np.ones(sorted_desc.shape, dtype=bool)
    new_group[1:] = gaps > TIE_RTOL * scale
    positions = np.arange(1, axis_len + 1).reshape((-1,) + (1,) * (sorted_desc.ndim - 1))
    starts = np.where(new_group, positions, 0)
    return np.maximum.accumulate(starts, axis=0)


def competition_ranking(scores: ArrayLike, *, higher_is_better: bool = True) -> list[int]:
    """Standard competition ranking ("1224"): 1 = best; equal scores share the better rank.

    Scores closer than ``TIE_RTOL · max(1, |score|)`` count as equal (consecutive in sorted order),
    so float noise between identical alternatives never splits a tie.
    """
    s = _array(scores, "scores", "得分", 1)
    _check_finite(s, "scores", "得分")
    key = s if higher_is_better else -s
    order = np.argsort(-key, kind="stable")
    ranks_sorted = _rank_sorted_groups(key[order], s.size)
    ranks = np.empty(s.size, dtype=np.int64)
    ranks[order] = ranks_sorted
    return [int(r) for r in ranks]


def _rank_columns(scores: Array) -> NDArray[np.int64]:
    """Competition ranks (1 = highest) of every column of an m × S array at once."""
    m = scores.shape[0]
    order = np.argsort(-scores, axis=0, kind="stable")
    sorted_desc = np.take_along_axis(scores, order, axis=0)
    ranks_sorted = _rank_sorted_groups(sorted_desc, m)
    ranks = np.empty_like(ranks_sorted)
    np.put_along_axis(ranks, order, ranks_sorted, axis=0)
    return ranks


# --- AHP ----------------------------------------------------------------------------


def random_index(n: int, ri_table: str = "saaty_cn") -> float:
    """RI(n) from the named table; raises beyond the table (never extrapolates)."""
    table = RI_TABLES[_choice(ri_table, tuple(RI_TABLES), "ri_table", "随机一致性指标表")]
    if n < 1:
        raise MethodError("判断矩阵至少应有 1 个元素。", field="matrix")
    if n > len(table):
        raise MethodError(
            f"随机一致性指标表 {ri_table} 只列到 {len(table)} 阶，当前判断矩阵为 {n} 阶，"
            f"无法计算一致性比例；请把比较元素分组（每组不超过 {len(table)} 个）。",
            field="matrix",
        )
    return float(table[n - 1])


def _judgment_matrix(
    matrix: Any,
    *,
    repair: bool = False,
    elements: Sequence[str] | None = None,
    name: str = "matrix",
    label: str = "判断矩阵",
) -> tuple[Array, list[tuple[int, int, float | None, float]], list[str]]:
    """A validated positive reciprocal matrix, the repaired cells (repair mode) and warnings."""
    a = _array(matrix, name, label, 2)
    n, m = a.shape
    if n != m:
        raise MethodError(f"{label}应为方阵，现为 {n} 行 {m} 列。", field=name)
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    # In repair mode only the upper triangle is read: the lower may be blank (NaN, 0) in a form.
    checked = upper if repair else np.ones((n, n), dtype=bool)
    lo, hi = JUDGMENT_RANGE
    for i in range(n):
        for j in range(n):
            if not checked[i, j]:
                continue
            v = a[i, j]
            where = _where(i, j, elements)
            if not math.isfinite(v):
                raise MethodError(f"{label}{where}的值不是有限的数字（NaN 或无穷大）。", field=name)
            if v <= 0:
                raise MethodError(f"{label}{where}的值为 {v:g}，判断值必须为正数。", field=name)
            if i != j and not lo <= v <= hi:
                raise MethodError(
                    f"{label}{where}的值 {v:g} 超出可计算的范围（10⁻⁶ 至 10⁶），请检查是否录入有误。",
                    field=name,
                )
    repaired: list[tuple[int, int, float | None, float]] = []
    if repair:
        for i in range(n):
            old = a[i, i]
            if old != 1.0:
                repaired.append((i, i, float(old) if math.isfinite(old) else None, 1.0))
                a[i, i] = 1.0
            for j in range(i + 1, n):
                new = 1.0 / a[i, j]
                old = a[j, i]
                if not (math.isfinite(old) and abs(old * a[i, j] - 1.0) <= RECIPROCAL_RTOL and old > 0):
                    repaired.append((j, i, float(old) if math.isfinite(old) else None, new))
                a[j, i] = new
    else:
        for i in range(n):
            if abs(a[i, i] - 1.0) > RECIPROCAL_RTOL:
                raise MethodError(
                    f"{label}{_where(i, i, elements)}（对角线）的值为 {a[i, i]:g}，对角线上应为 1。",
                    field=name,
                )
        for i in range(n):
            for j in range(i + 1, n):
                if abs(a[i, j] * a[j, i] - 1.0) > RECIPROCAL_RTOL:
                    raise MethodError(
                        f"{label}{_where(i, j, elements)}的值 {a[i, j]:g} 与{_where(j, i, elements)}的值 "
                        f"{a[j, i]:g} 不互为倒数（{_where(j, i, elements)}应为 {1 / a[i, j]:.6g}）；"
                        "如只填写了上三角，请使用修复模式。",
                        field=name,
                    )
    warnings = []
    slo, shi = SAATY_SCALE
    outside = [(i, j) for i in range(n) for j in range(i + 1, n) if not slo - 1e-12 <= a[i, j] <= shi + 1e-12]
    if outside:
        i, j = outside[0]
        more = f"等 {len(outside)} 处" if len(outside) > 1 else ""
        warnings.append(f"{_where(i, j, elements)}的判断值 {a[i, j]:.4g}{more}超出 1–9 标度（1/9 至 9）。")
    return a, repaired, warnings


def _principal(a: Array) -> tuple[float, Array]:
    """Perron root and its right eigenvector (positive, sum 1) of a positive matrix."""
    values, vectors = np.linalg.eig(a)
    k = int(np.argmax(values.real))
    w = np.abs(vectors[:, k].real)
    return float(values[k].real), w / w.sum()


def _priority(a: Array, priority: str) -> tuple[Array, float]:
    """Weights (sum 1) and λmax of a positive reciprocal matrix by the named priority method."""
    n = a.shape[0]
    if n == 1:
        return np.ones(1), 1.0
    if priority == "eigenvector":
        lam, w = _principal(a)
    else:
        if priority == "rgmm":
            # Row geometric means through logs: no overflow for long rows of large judgments.
            w = np.exp(np.log(a).mean(axis=1))
        else:  # colnorm (和积法): mean of the column-normalised rows
            w = (a / a.sum(axis=0)).mean(axis=1)
        w = w / w.sum()
        # λmax of an approximate vector: mean((A·w)_i / w_i) (evaluation.md); always ≥ n.
        lam = float(np.mean((a @ w) / w))
    return w, lam


def _ahp_solve(
    a: Array,
    *,
    priority: str,
    ri_table: str,
    threshold: float,
    elements: list[str] | None = None,
    completed: list[tuple[str, str, float]] | None = None,
    repaired: list[tuple[int, int, float | None, float]] | None = None,
    warnings: list[str] | None = None,
) -> AHPResult:
    n = a.shape[0]
    ri = random_index(n, ri_table)
    w, lam = _priority(a, priority)
    if n <= 2:
        # A reciprocal matrix of order ≤ 2 is always consistent: CR = 0, never 0/0.
        lam, ci, cr = float(n), 0.0, 0.0
    else:
        # λmax ≥ n holds exactly for a positive reciprocal matrix; anything below is rounding noise.
        lam = max(lam, float(n))
        ci = (lam - n) / (n - 1)
        cr = ci / ri
    _finite_out(w, lam, ci, cr)
    return AHPResult(
        weights=_floats(w),
        lambda_max=float(lam),
        ci=float(ci),
        cr=float(cr),
        ri=ri,
        ri_table=ri_table,
        consistent=bool(cr < threshold),
        matrix=a,
        priority=priority,
        threshold=threshold,
        elements=elements,
        completed=completed or [],
        repaired=repaired or [],
        warnings=warnings or [],
    )


def _check_ahp_options(priority: Any, ri_table: Any, threshold: Any) -> float:
    _choice(priority, PRIORITY_METHODS, "priority", "权重计算方法")
    _choice(ri_table, tuple(RI_TABLES), "ri_table", "随机一致性指标表")
    t = _number(threshold, "threshold", "一致性比例阈值")
    if not 0 < t <= 1:
        raise MethodError("一致性比例阈值应大于 0 且不超过 1（通常为 0.1）。", field="threshold")
    return t


def ahp(
    matrix: ArrayLike,
    *,
    priority: str = "eigenvector",
    ri_table: str = "saaty_cn",
    threshold: float = 0.1,
    repair: bool = False,
) -> AHPResult:
    """Priorities, λmax, CI and CR of a positive reciprocal pairwise comparison matrix.

    Strict by default: non-square, non-positive, NaN/inf, a diagonal ≠ 1 or a non-reciprocal pair
    (relative tolerance 1e-6) raises, naming the cell. ``repair=True`` reads only the upper triangle,
    rebuilds the diagonal and the lower triangle from it and lists the rebuilt cells in ``repaired``.
    ``consistent`` compares the unrounded CR with ``threshold`` (CR < threshold).
    """
    t = _check_ahp_options(priority, ri_table, threshold)
    a, repaired, warnings = _judgment_matrix(matrix, repair=bool(repair))
    return _ahp_solve(
        a, priority=priority, ri_table=ri_table, threshold=t, repaired=repaired, warnings=warnings
    )


def _components(n: int, edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in edges:
        parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def _lambda_and_gradient(a: Array, cells: list[tuple[int, int]]) -> tuple[float, Array]:
    """λmax of ``a`` and its gradient with respect to y = ln a_ij of each free cell (i < j).

    ∂λ/∂a_kl = v_k·w_l / (v·w) with w, v the right and left Perron vectors (simple eigenvalue of a
    positive matrix); a_ij = e^y and a_ji = e^−y give ∂λ/∂y = (a_ij v_i w_j − a_ji v_j w_i) / (v·w).
    """
    lam, w = _principal(a)
    _, v = _principal(a.T)
    vw = float(v @ w)
    grad = np.array([(a[i, j] * v[i] * w[j] - a[j, i] * v[j] * w[i]) / vw for i, j in cells])
    return lam, grad


def _complete(a: Array, known: NDArray[np.bool_]) -> Array:
    """Fill the unknown cells with the λmax-minimising values (Bozóki, Fülöp & Rónyai 2010).

    λmax is a strictly convex function of the logarithms of the missing entries when the comparison
    graph is connected, so a quasi-Newton search from the logarithmic least-squares completion finds
    the unique optimum (AHPy uses a slower cyclic-coordinates search for the same optimum).
    """
    n = a.shape[0]
    cells = [(i, j) for i in range(n) for j in range(i + 1, n) if not known[i, j]]
    if not cells:
        return a
    # Start: logarithmic least squares over the known cells, u_i − u_j ≈ ln a_ij (u_0 = 0 fixes the scale);
    # for a spanning tree this is already the consistent (λmax = n) completion.
    rows, rhs = [], []
    for i in range(n):
        for j in range(i + 1, n):
            if known[i, j]:
                row = np.zeros(n)
                row[i], row[j] = 1.0, -1.0
                rows.append(row)
                rhs.append(math.log(a[i, j]))
    anchor = np.zeros(n)
    anchor[0] = 1.0
    u = np.linalg.lstsq(np.vstack([*rows, anchor]), np.array([*rhs, 0.0]), rcond=None)[0]
    y0 = np.array([u[i] - u[j] for i, j in cells])
    work = a.copy()

    def fill(y: Array) -> None:
        for (i, j), yk in zip(cells, y, strict=True):
            work[i, j] = math.exp(yk)
            work[j, i] = math.exp(-yk)

    def objective(y: Array) -> tuple[float, Array]:
        fill(y)
        return _lambda_and_gradient(work, cells)

    solution = optimize.minimize(
        objective, y0, jac=True, method="BFGS", options={"gtol": 1e-11, "maxiter": 2000}
    )
    y = solution.x if np.all(np.isfinite(solution.x)) else y0
    fill(y)
    return work


def ahp_from_pairs(
    elements: Sequence[str],
    pairs: Iterable[Sequence[Any]],
    *,
    priority: str = "eigenvector",
    ri_table: str = "saaty_cn",
    threshold: float = 0.1,
) -> AHPResult:
    """AHP from a list of judgments ``(a, b, value)`` meaning "a over b", possibly incomplete.

    Contradictory duplicates raise; the comparison graph must be connected (else the error names the
    separate groups). Missing cells are completed by minimising λmax; ``matrix`` is the completed
    matrix and ``completed`` lists the filled cells (row element, column element, value; upper triangle).
    """
    t = _check_ahp_options(priority, ri_table, threshold)
    if isinstance(elements, np.ndarray):
        elements = elements.tolist()
    if isinstance(elements, str) or not isinstance(elements, Sequence):
        raise MethodError("比较元素应为名称列表。", field="elements")
    names = [str(e) for e in elements]
    if not names:
        raise MethodError("比较元素不能为空。", field="elements")
    seen: set[str] = set()
    for name in names:
        if not name.strip():
            raise MethodError("比较元素的名称不能为空。", field="elements")
        if name in seen:
            raise MethodError(f"比较元素“{name}”重复出现。", field="elements")
        seen.add(name)
    index = {name: k for k, name in enumerate(names)}
    n = len(names)
    random_index(n, ri_table)  # refuse an order beyond the table before any work
    a = np.ones((n, n))
    known = np.eye(n, dtype=bool)
    source: dict[tuple[int, int], float] = {}
    lo, hi = JUDGMENT_RANGE
    if isinstance(pairs, str | bytes) or pairs is None:
        raise MethodError("两两比较应为 (甲, 乙, 判断值) 的列表。", field="pairs")
    for k, pair in enumerate(pairs):
        if isinstance(pair, str | bytes) or not isinstance(pair, Sequence) or len(pair) != 3:
            raise MethodError(f"第 {k + 1} 条比较应为 (甲, 乙, 判断值) 三项。", field="pairs")
        first, second, raw = pair
        for element in (first, second):
            if str(element) not in index:
                raise MethodError(f"第 {k + 1} 条比较中的“{element}”不在比较元素之列。", field="pairs")
        i, j = index[str(first)], index[str(second)]
        value = _number(raw, "pairs", f"第 {k + 1} 条比较（“{first}”对“{second}”）的判断值")
        if i == j:
            raise MethodError(f"第 {k + 1} 条比较把“{first}”与自身比较，请删除这一条。", field="pairs")
        if value <= 0:
            raise MethodError(f"“{first}”对“{second}”的判断值为 {value:g}，判断值必须为正数。", field="pairs")
        if not lo <= value <= hi:
            raise MethodError(
                f"“{first}”对“{second}”的判断值 {value:g} 超出可计算的范围（10⁻⁶ 至 10⁶），请检查是否录入有误。",
                field="pairs",
            )
        if i > j:
            i, j, value = j, i, 1.0 / value
        if (i, j) in source:
            previous = source[(i, j)]
            if abs(previous / value - 1.0) > RECIPROCAL_RTOL:
                raise MethodError(
                    f"“{names[i]}”对“{names[j]}”有相互矛盾的判断（{previous:.4g} 与 {value:.4g}），请只保留一个。",
                    field="pairs",
                )
            continue
        source[(i, j)] = value
        a[i, j], a[j, i] = value, 1.0 / value
        known[i, j] = known[j, i] = True
    groups = _components(n, source)
    if len(groups) > 1:
        described = "；".join("{" + "、".join(names[k] for k in g) + "}" for g in groups)
        raise MethodError(
            f"两两比较不连通，以下几组元素之间没有任何比较，无法确定相对权重：{described}。"
            "请在各组之间至少补充一条比较。",
            field="pairs",
        )
    full = _complete(a, known)
    completed = [
        (names[i], names[j], float(full[i, j])) for i in range(n) for j in range(i + 1, n) if not known[i, j]
    ]
    _finite_out(full)
    slo, shi = SAATY_SCALE
    outside = [(i, j) for i, j in source if not slo - 1e-12 <= full[i, j] <= shi + 1e-12]
    warnings = (
        [f"“{names[outside[0][0]]}”对“{names[outside[0][1]]}”的判断值超出 1–9 标度（1/9 至 9）。"]
        if outside
        else []
    )
    return _ahp_solve(
        full,
        priority=priority,
        ri_table=ri_table,
        threshold=t,
        elements=names,
        completed=completed,
        warnings=warnings,
    )


def ahp_hierarchy(
    criteria_matrix: ArrayLike,
    alternative_matrices: Sequence[ArrayLike],
    *,
    priority: str = "eigenvector",
    ri_table: str = "saaty_cn",
    total_cr: str = "per_level",
    threshold: float = 0.1,
) -> HierarchyResult:
    """Criteria over alternatives: local priorities, total weights Σ_j a_j·b_ij and the total CR.

    ``total_cr="per_level"``: the alternatives level's CR = Σ a_j·CI_j / Σ a_j·RI_j (层次总排序一致性,
    judged on its own; the criteria level has its own ``criteria.cr``). ``"cumulative"``: that plus the
    criteria level's CR (CR⁽ᵏ⁾ = CR⁽ᵏ⁻¹⁾ + ΣaCI/ΣaRI, 许树柏). Total weights are products at full precision.
    """
    t = _check_ahp_options(priority, ri_table, threshold)
    method = _choice(total_cr, TOTAL_CR_METHODS, "total_cr", "总排序一致性比例的算法")
    crit_matrix, _, warnings = _judgment_matrix(
        criteria_matrix, name="criteria_matrix", label="准则层判断矩阵"
    )
    criteria = _ahp_solve(crit_matrix, priority=priority, ri_table=ri_table, threshold=t, warnings=warnings)
    m = crit_matrix.shape[0]
    if isinstance(alternative_matrices, np.ndarray):
        alternative_matrices = list(alternative_matrices)
    if isinstance(alternative_matrices, str | bytes) or not isinstance(alternative_matrices, Sequence):
        raise MethodError("方案层判断矩阵应为矩阵列表（每个准则一个）。", field="alternative_matrices")
    if len(alternative_matrices) != m:
        raise MethodError(
            f"方案层判断矩阵有 {len(alternative_matrices)} 个，应与准则数 {m} 一致（每个准则一个）。",
            field="alternative_matrices",
        )
    alternatives: list[AHPResult] = []
    for k, raw in enumerate(alternative_matrices):
        label = f"第 {k + 1} 个准则下的方案层判断矩阵"
        alt, _, alt_warnings = _judgment_matrix(raw, name="alternative_matrices", label=label)
        if alternatives and alt.shape != alternatives[0].matrix.shape:
            raise MethodError(
                f"{label}为 {alt.shape[0]} 阶，与第 1 个（{alternatives[0].matrix.shape[0]} 阶）不一致：各准则下比较的方案应相同。",
                field="alternative_matrices",
            )
        alternatives.append(
            _ahp_solve(alt, priority=priority, ri_table=ri_table, threshold=t, warnings=alt_warnings)
        )
    a = np.array(criteria.weights)
    b = np.array([r.weights for r in alternatives])  # m × k
    total = a @ b
    total = total / total.sum()
    ci = np.array([r.ci for r in alternatives])
    ri = np.array([r.ri for r in alternatives])
    denominator = float(a @ ri)
    level_cr = float(a @ ci) / denominator if denominator > 0 else 0.0
    value = level_cr + criteria.cr if method == "cumulative" else level_cr
    _finite_out(total, value)
    return HierarchyResult(
        criteria=criteria,
        alternatives=alternatives,
        total_weights=_floats(total),
        total_cr=float(value),
        total_cr_method=method,
        threshold=t,
        consistent=bool(value < t and criteria.consistent and all(r.consistent for r in alternatives)),
    )


def aggregate_judgments(matrices: Sequence[ArrayLike], weights: ArrayLike | None = None) -> Array:
    """AIJ: the element-wise weighted geometric mean of several experts' reciprocal matrices.

    The only aggregation that keeps reciprocity (never the arithmetic mean). ``weights`` (one per
    expert, non-negative, normalised) default to equal. Each matrix is validated like :func:`ahp`.
    """
    if isinstance(matrices, np.ndarray):
        matrices = list(matrices)
    if isinstance(matrices, str | bytes) or not isinstance(matrices, Sequence) or not len(matrices):
        raise MethodError("请至少提供一位专家的判断矩阵。", field="matrices")
    checked: list[Array] = []
    for k, raw in enumerate(matrices):
        a, _, _ = _judgment_matrix(raw, name="matrices", label=f"第 {k + 1} 位专家的判断矩阵")
        if checked and a.shape != checked[0].shape:
            raise MethodError(
                f"第 {k + 1} 位专家的判断矩阵为 {a.shape[0]} 阶，与第 1 位（{checked[0].shape[0]} 阶）不一致。",
                field="matrices",
            )
        checked.append(a)
    w = (
        np.full(len(checked), 1.0 / len(checked))
        if weights is None
        else _weights(weights, len(checked), "weights", "专家权重")
    )
    logs = np.log(np.stack(checked))
    upper = np.tensordot(w, logs, axes=1)
    # Symmetrise in log space so the result is exactly reciprocal and its diagonal exactly 1.
    upper = np.triu(upper, 1)
    aij = np.exp(upper - upper.T)
    _finite_out(aij)
    return aij


# --- entropy weights -----------------------------------------------------------------


def entropy_weights(
    matrix: ArrayLike,
    *,
    variant: str = "raw",
    criteria_types: ArrayLike | None = None,
    shift: float = 0.0,
) -> EntropyResult:
    """Entropy weights of the columns (criteria) of an m × n decision matrix (rows = alternatives).

    ``raw``: p_ij = x_ij / Σ_i x_ij (after adding ``shift``), e_j = −Σ p ln p / ln m with 0·ln 0 = 0,
    w = (1 − e) / Σ(1 − e); ignores ``criteria_types``. ``minmax``: each column first min-max
    normalised by its type (benefit (x − min)/(max − min), cost (max − x)/(max − min)), ``shift``
    added, then as raw. A constant column gets entropy 1 and weight 0. Negative values (raw), an
    all-zero column (raw), m < 2 or every column constant raise.
    """
    variant = _choice(variant, ENTROPY_VARIANTS, "variant", "熵权法的变体")
    x = _array(matrix, "matrix", "决策矩阵", 2)
    m, n = x.shape
    _check_finite(x, "matrix", "决策矩阵")
    types = _criteria_types(criteria_types, n)
    s = _number(shift, "shift", "平移量")
    if s < 0:
        raise MethodError("平移量不能为负数。", field="shift")
    if m < 2:
        raise MethodError("熵权法至少需要 2 个被评对象（行）。", field="matrix")
    # Everything per column is scale-free, so divide by the column's largest magnitude first:
    # no sum or difference can overflow for huge values.
    magnitude = np.abs(x).max(axis=0)
    xs = x / np.where(magnitude > 0, magnitude, 1.0)
    constant = (xs.max(axis=0) - xs.min(axis=0)) <= 1e-12
    if variant == "raw":
        negative = np.argwhere(x + s < 0)
        if negative.size:
            i, j = (int(k) for k in negative[0])
            raise MethodError(
                f"决策矩阵{_where(i, j)}为负数（{x[i, j]:g}）：原始熵权法要求非负数据，"
                "请改用 minmax 变体或设置平移量。",
                field="matrix",
            )
        y = x + s
        peak = y.max(axis=0)
        zero = np.flatnonzero(peak <= 0)
        if zero.size:
            raise MethodError(
                f"决策矩阵第 {int(zero[0]) + 1} 列全为 0，无法计算其熵值；请删除该指标或设置平移量。",
                field="matrix",
            )
        y = y / peak
    else:
        low, high = xs.min(axis=0), xs.max(axis=0)
        span = np.where(constant, 1.0, high - low)
        y = np.where(types == 1, (xs - low) / span, (high - xs) / span)
        y = np.where(constant, 0.0, y) + s
    if bool(np.all(constant)):
        raise MethodError("所有指标在各被评对象间取值都相同，熵权法无法区分它们的重要性。", field="matrix")
    totals = y.sum(axis=0)
    entropies = np.ones(n)
    d = np.zeros(n)
    live = ~constant & (totals > 0)
    p = y[:, live] / totals[live]
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = -plogp.sum(axis=0) / math.log(m)
    # Entropy lies in [0, 1]; clip rounding noise so no weight is negative.
    e = np.clip(e, 0.0, 1.0)
    entropies[live] = e
    d[live] = 1.0 - e
    if not d.sum() > 0:
        raise MethodError("各指标的信息熵都等于 1，熵权法无法区分它们的重要性。", field="matrix")
    w = d / d.sum()
    _finite_out(w, entropies)
    return EntropyResult(
        weights=_floats(w),
        entropies=_floats(entropies),
        variant=variant,
        shift=s,
        criteria_types=None if criteria_types is None else [int(t) for t in types],
        constant_columns=[int(j) for j in np.flatnonzero(constant)],
    )


# --- combined weights -----------------------------------------------------------------


def combine_weights(
    subjective: ArrayLike, objective: ArrayLike, *, method: str = "linear", alpha: float = 0.5
) -> list[float]:
    """Combine subjective (e.g. AHP) and objective (e.g. entropy) weights into one vector summing to 1.

    Both inputs are normalised to sum 1 first. ``linear``: α·s + (1 − α)·o (α in [0, 1]);
    ``multiplicative``: s·o / Σ s·o; ``min_relative_entropy``: √(s·o) / Σ √(s·o); ``game_theory``
    (博弈论组合赋权): the coefficients minimising ‖α₁s + α₂o − s‖ and ‖α₁s + α₂o − o‖, i.e.
    [[s·s, s·o], [o·s, o·o]] α = [s·s, o·o], normalised as |α_k| / Σ|α| (``alpha`` is not used).
    """
    method = _choice(method, COMBINE_METHODS, "method", "组合赋权方法")
    s = _weights(subjective, None, "subjective", "主观权重")
    o = _weights(objective, s.size, "objective", "客观权重")
    if method == "linear":
        a = _number(alpha, "alpha", "线性组合系数 α")
        if not 0 <= a <= 1:
            raise MethodError("线性组合系数 α 应在 0 到 1 之间。", field="alpha")
        w = a * s + (1 - a) * o
    elif method in ("multiplicative", "min_relative_entropy"):
        w = s * o if method == "multiplicative" else np.sqrt(s * o)
        if not w.sum() > 0:
            raise MethodError(
                "主观权重与客观权重没有同时为正的指标，乘法类组合无法计算；请改用线性组合。",
                field="objective",
            )
    else:
        ss, so, oo = float(s @ s), float(s @ o), float(o @ o)
        det = ss * oo - so * so
        if det <= 1e-12 * ss * oo:
            # Both vectors sum to 1, so collinear means equal: either one is the answer.
            coefficients = np.array([0.5, 0.5])
        else:
            coefficients = np.abs(np.array([oo * (ss - so), ss * (oo - so)]) / det)
            if not coefficients.sum() > 0:
                coefficients = np.array([0.5, 0.5])
        coefficients = coefficients / coefficients.sum()
        w = coefficients[0] * s + coefficients[1] * o
    w = w / w.sum()
    _finite_out(w)
    return _floats(w)


# --- TOPSIS --------------------------------------------------------------------------


def _normalisation(x: Array, types: NDArray[np.int64], normalization: str) -> tuple[Array, Array, Array]:
    """(sign, offset, scale) per column so that r = sign·(x − offset)/scale (scale 0 → r = 0)."""
    n = x.shape[1]
    if normalization == "vector":
        # Norm through the column's largest magnitude: no overflow for huge values.
        magnitude = np.abs(x).max(axis=0)
        safe = np.where(magnitude > 0, magnitude, 1.0)
        scale = np.linalg.norm(x / safe, axis=0) * magnitude
        return np.ones(n), np.zeros(n), scale
    low, high = x.min(axis=0), x.max(axis=0)
    sign = np.where(types == 1, 1.0, -1.0)
    offset = np.where(types == 1, low, high)
    # Half-differences cannot overflow where high − low would.
    scale = 2.0 * (high / 2.0 - low / 2.0)
    return sign, offset, scale


def _apply(x: Array, sign: Array, offset: Array, scale: Array) -> Array:
    # Everything divided by a power of two near the column's largest magnitude first: x − offset
    # can neither overflow near the float limit nor vanish among subnormals, and the scaling is
    # exact (min-max still maps the best value to exactly 1). "+ 0.0" turns −0.0 into 0.0.
    c = np.maximum(np.maximum(np.abs(x).max(axis=0), np.abs(offset)), scale)
    c = np.where((c > 0) & np.isfinite(c), np.ldexp(1.0, np.frexp(c)[1]), 1.0)
    relative = scale / c
    safe = np.where(relative > 0, relative, 1.0)
    return np.where(relative > 0, sign * ((x / c - offset / c) / safe), 0.0) + 0.0


def _ideals(r: Array, types: NDArray[np.int64], normalization: str) -> tuple[Array, Array]:
    if normalization == "minmax":
        # Min-max already turned every column into "higher is better" on [0, 1].
        ideal, anti = r.max(axis=0), r.min(axis=0)
    else:
        ideal = np.where(types == 1, r.max(axis=0), r.min(axis=0))
        anti = np.where(types == 1, r.min(axis=0), r.max(axis=0))
    return ideal, anti


def topsis(
    matrix: ArrayLike,
    weights: ArrayLike,
    criteria_types: ArrayLike,
    *,
    normalization: str = "vector",
    reference: TopsisReference | None = None,
) -> TopsisResult:
    """TOPSIS: closeness C = d⁻ / (d⁺ + d⁻) to the ideal point, and a competition ranking (1 = best).

    ``normalization``: ``vector`` (x / ‖x‖, Hwang & Yoon; default) or ``minmax`` (by criterion type).
    ``criteria_types``: +1 benefit, −1 cost. Weights are normalised to sum 1. A zero-norm (or, for
    minmax, constant) column carries no information (r = 0). If the alternatives do not differ on
    any weighted column, closeness is undefined and a MethodError is raised. ``reference`` (from an
    earlier result's ``reference``) freezes the normalisation and the ideal points.
    """
    normalization = _choice(normalization, NORMALIZATIONS, "normalization", "规范化方法")
    x = _array(matrix, "matrix", "决策矩阵", 2)
    _check_finite(x, "matrix", "决策矩阵")
    m, n = x.shape
    w = _weights(weights, n)
    types = _criteria_types(criteria_types, n)
    if reference is not None:
        if not isinstance(reference, TopsisReference):
            raise MethodError("参照点应为此前 TOPSIS 结果中的 reference。", field="reference")
        if reference.normalization != normalization or len(reference.scale) != n:
            raise MethodError("冻结的参照点与本次的规范化方法或指标数不一致。", field="reference")
        if list(reference.criteria_types) != [int(t) for t in types]:
            raise MethodError("冻结的参照点与本次的指标类型不一致。", field="reference")
        sign = np.where(np.array(reference.criteria_types) == -1, -1.0, 1.0)
        if normalization == "vector":
            sign = np.ones(n)
        offset, scale = np.array(reference.offset), np.array(reference.scale)
        r = _apply(x, sign, offset, scale)
        ideal, anti = np.array(reference.ideal), np.array(reference.anti_ideal)
    else:
        sign, offset, scale = _normalisation(x, types, normalization)
        r = _apply(x, sign, offset, scale)
        ideal, anti = _ideals(r, types, normalization)
    v = r * w
    v_ideal, v_anti = ideal * w, anti * w
    d_plus = np.sqrt(((v - v_ideal) ** 2).sum(axis=1))
    d_minus = np.sqrt(((v - v_anti) ** 2).sum(axis=1))
    total = d_plus + d_minus
    if reference is None and not np.any(np.ptp(v, axis=0) > 0):
        raise MethodError(
            "所有被评对象在各（权重非零的）指标上的取值都相同，TOPSIS 无法区分优劣。", field="matrix"
        )
    if np.any(total <= 0):
        raise MethodError("冻结的参照点中理想点与负理想点在各指标上相同，无法计算贴近度。", field="reference")
    closeness = d_minus / total
    _finite_out(closeness, d_plus, d_minus)
    ref = reference or TopsisReference(
        normalization=normalization,
        criteria_types=[int(t) for t in types],
        offset=_floats(offset),
        scale=_floats(scale),
        ideal=_floats(ideal),
        anti_ideal=_floats(anti),
    )
    return TopsisResult(
        closeness=_floats(closeness),
        d_plus=_floats(d_plus),
        d_minus=_floats(d_minus),
        ranking=competition_ranking(closeness),
        normalization=normalization,
        weights=_floats(w),
        reference=ref,
    )


# --- fuzzy comprehensive evaluation --------------------------------------------------------


def fuzzy_evaluate(
    weights: ArrayLike, membership: ArrayLike, *, operator: str = "weighted_average"
) -> list[float]:
    """B = A ∘ R: the raw evaluation vector of the named operator (not renormalised).

    ``weights`` A: n factors, each in [0, 1], summing to 1. ``membership`` R: n × k, entries in [0, 1].
    ``weighted_average`` M(·,+): b_j = Σ a_i r_ij; ``min_max`` M(∧,∨): max_i min(a_i, r_ij);
    ``product_max`` M(·,∨): max_i a_i r_ij; ``bounded_sum`` M(∧,⊕): min(1, Σ_i min(a_i, r_ij)).
    For several levels, evaluate bottom-up and stack the B vectors as the next R.
    """
    operator = _choice(operator, FUZZY_OPERATORS, "operator", "模糊合成算子")
    a = _array(weights, "weights", "权重", 1)
    _check_finite(a, "weights", "权重")
    r = _array(membership, "membership", "隶属度矩阵", 2)
    _check_finite(r, "membership", "隶属度矩阵")
    if r.shape[0] != a.size:
        raise MethodError(
            f"隶属度矩阵有 {r.shape[0]} 行，应与因素数（权重项数）{a.size} 一致。", field="membership"
        )
    bad = np.flatnonzero((a < 0) | (a > 1))
    if bad.size:
        raise MethodError(f"权重{_where(int(bad[0]))}为 {a[bad[0]]:g}，应在 0 到 1 之间。", field="weights")
    if abs(float(a.sum()) - 1.0) > SUM_TOL:
        raise MethodError(f"权重之和为 {a.sum():.6g}，模糊综合评价要求权重之和为 1。", field="weights")
    cell = np.argwhere((r < 0) | (r > 1))
    if cell.size:
        i, j = (int(k) for k in cell[0])
        raise MethodError(
            f"隶属度矩阵{_where(i, j)}为 {r[i, j]:g}，隶属度应在 0 到 1 之间。", field="membership"
        )
    col = a[:, None]
    if operator == "weighted_average":
        b = a @ r
    elif operator == "min_max":
        b = np.minimum(col, r).max(axis=0)
    elif operator == "product_max":
        b = (col * r).max(axis=0)
    else:
        b = np.minimum(1.0, np.minimum(col, r).sum(axis=0))
    # Float sums may pass 1 by an ulp; memberships stay in [0, 1].
    b = np.clip(b, 0.0, 1.0)
    _finite_out(b)
    return _floats(b)


def fuzzy_grade(b: ArrayLike, grades: Sequence[str], *, grade_values: ArrayLike | None = None) -> FuzzyGrade:
    """Read an evaluation vector: the maximum-membership grade(s) (ties reported as ties) and a score.

    ``normalized`` is B / ΣB (for operators that do not give a distribution); ``score`` is
    normalized · grade_values when values are given (e.g. 100/80/60/40/20), else None.
    """
    v = _array(b, "b", "评价向量", 1)
    _check_finite(v, "b", "评价向量")
    if isinstance(grades, str) or len(grades) != v.size:
        raise MethodError(f"评语有 {len(grades)} 个，应与评价向量的 {v.size} 项一致。", field="grades")
    if np.any(v < 0):
        raise MethodError("评价向量不能有负数。", field="b")
    total = float(v.sum())
    if not total > 0:
        raise MethodError("评价向量全为 0，无法确定评语。", field="b")
    top = float(v.max())
    chosen = [str(g) for g, x in zip(grades, v, strict=True) if top - x <= TIE_RTOL * max(1.0, top)]
    normalized = v / total
    score = None
    if grade_values is not None:
        values = _array(grade_values, "grade_values", "评语分值", 1)
        _check_finite(values, "grade_values", "评语分值")
        if values.size != v.size:
            raise MethodError(
                f"评语分值有 {values.size} 项，应与评语数 {v.size} 一致。", field="grade_values"
            )
        score = float(normalized @ values)
    _finite_out(normalized, score)
    return FuzzyGrade(grades=chosen, membership=_floats(v), normalized=_floats(normalized), score=score)


# --- sensitivity ------------------------------------------------------------------------


def sensitivity(
    matrix: ArrayLike,
    weights: ArrayLike,
    criteria_types: ArrayLike | None,
    *,
    samples: int = 1000,
    concentration: float = 100.0,
    seed: int | None = 0,
    grade_edges: ArrayLike | None = None,
    method: str = "topsis",
    normalization: str = "vector",
) -> SensitivityResult:
    """Monte Carlo weight sensitivity: rank range and grade-change probability of each alternative.

    Weight vectors are drawn from a Dirichlet distribution centred on ``weights``:
    α_j = concentration · n⁺ · w_j (n⁺ = number of positive weights; zero weights stay 0), so a weight's
    relative standard deviation is about √((1 − w_j) / (w_j·(concentration·n⁺ + 1))) — ≈ 10 % for equal
    weights at the default 100. Each draw is scored by ``method`` — ``topsis`` (closeness, with the
    normalised matrix fixed: d² = Σ w_j² (r_ij − r*_j)², one matrix product for all draws) or
    ``weighted_sum`` (matrix · w, e.g. 0–100 indicator scores → total) — and ranked (competition
    ranking). ``grade_edges`` (ascending, e.g. [60, 80, 90]) bands the scores (score ≥ edge → the
    higher band); ``grade_change_probability`` is the share of draws whose band differs from the
    band at the given weights (None without edges). Rank ranges include the unperturbed ranking.
    ``seed`` makes it reproducible (recorded). Memory stays O(m · chunk) whatever ``samples`` is.
    """
    method = _choice(method, SENSITIVITY_METHODS, "method", "敏感性分析的评分方法")
    normalization = _choice(normalization, NORMALIZATIONS, "normalization", "规范化方法")
    x = _array(matrix, "matrix", "决策矩阵", 2)
    _check_finite(x, "matrix", "决策矩阵")
    m, n = x.shape
    w = _weights(weights, n)
    types = _criteria_types(criteria_types, n)
    if (
        isinstance(samples, bool)
        or not isinstance(samples, int | np.integer)
        or not 1 <= samples <= MAX_SAMPLES
    ):
        raise MethodError(f"抽样次数应为 1 到 {MAX_SAMPLES} 之间的整数。", field="samples")
    kappa = _number(concentration, "concentration", "集中度")
    if kappa <= 0:
        raise MethodError("集中度应大于 0。", field="concentration")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0):
        raise MethodError("随机种子应为非负整数。", field="seed")
    edges = None
    if grade_edges is not None:
        edges = _array(grade_edges, "grade_edges", "等次分界", 1)
        _check_finite(edges, "grade_edges", "等次分界")
        if np.any(np.diff(edges) <= 0):
            raise MethodError("等次分界应严格递增（如 60, 80, 90）。", field="grade_edges")
    if method == "weighted_sum":
        if np.any(types == -1):
            raise MethodError("加权求和法要求各指标已正向化（指标类型全为 1）。", field="criteria_types")
        base = x @ w

        def score(draws: Array) -> Array:  # draws: n × S
            return x @ draws
    else:
        base_result = topsis(x, w, types, normalization=normalization)
        base = np.array(base_result.closeness)
        ref = base_result.reference
        assert ref is not None
        sign = np.where(types == -1, -1.0, 1.0) if normalization == "minmax" else np.ones(n)
        r = _apply(x, sign, np.array(ref.offset), np.array(ref.scale))
        plus_sq = (r - np.array(ref.ideal)) ** 2
        minus_sq = (r - np.array(ref.anti_ideal)) ** 2

        def score(draws: Array) -> Array:
            squared = draws**2
            dp = np.sqrt(plus_sq @ squared)
            dm = np.sqrt(minus_sq @ squared)
            den = dp + dm
            # A draw can put (underflowed) zero weight on every column that differs: then all tie.
            return np.where(den > 0, dm / np.where(den > 0, den, 1.0), 0.5)

    base_ranks = _rank_columns(base[:, None])[:, 0]
    rank_min = base_ranks.copy()
    rank_max = base_ranks.copy()
    rank_sum = np.zeros(m)
    band_base = changes = None
    if edges is not None:
        band_base = np.searchsorted(edges, base + TIE_RTOL * np.maximum(1.0, np.abs(base)), side="right")
        changes = np.zeros(m)
    positive = np.flatnonzero(w > 0)
    alpha = kappa * positive.size * w[positive]
    rng = np.random.default_rng(None if seed is None else int(seed))
    chunk = max(1, min(int(samples), CHUNK_CELLS // max(m, 1)))
    done = 0
    while done < samples:
        size = min(chunk, samples - done)
        draws = np.zeros((n, size))
        draws[positive] = rng.dirichlet(alpha, size=size).T
        s = score(draws)
        ranks = _rank_columns(s)
        np.minimum(rank_min, ranks.min(axis=1), out=rank_min)
        np.maximum(rank_max, ranks.max(axis=1), out=rank_max)
        rank_sum += ranks.sum(axis=1)
        if edges is not None and band_base is not None and changes is not None:
            bands = np.searchsorted(edges, (s + TIE_RTOL * np.maximum(1.0, np.abs(s))).ravel(), side="right")
            changes += (bands.reshape(s.shape) != band_base[:, None]).sum(axis=1)
        done += size
    probability = None if changes is None else changes / samples
    rank_mean = rank_sum / samples
    _finite_out(base, rank_mean, probability)
    return SensitivityResult(
        rank_min=[int(v) for v in rank_min],
        rank_max=[int(v) for v in rank_max],
        rank_mean=_floats(rank_mean),
        grade_change_probability=None if probability is None else _floats(probability),
        base_scores=_floats(base),
        base_ranking=[int(v) for v in base_ranks],
        base_grades=None if band_base is None else [int(v) for v in band_base],
        samples=int(samples),
        concentration=kappa,
        seed=None if seed is None else int(seed),
        method=method,
        normalization=normalization,
        grade_edges=None if edges is None else _floats(edges),
    )


# --- consistency hint (weighting forms) ------------------------------------------------


def _scale_values(scale: tuple[float, float]) -> list[float]:
    """Saaty's 1–9 values and their reciprocals inside ``scale`` (low, high), ascending."""
    low, high = scale
    values = {float(k) for k in range(1, 10)} | {1.0 / k for k in range(2, 10)}
    return sorted(v for v in values if low - 1e-12 <= v <= high + 1e-12)


def inconsistency_hint(
    matrix: ArrayLike,
    weights: ArrayLike,
    *,
    scale: tuple[float, float] = SAATY_SCALE,
    cells: Iterable[tuple[int, int]] | None = None,
) -> tuple[int, int, float, float] | None:
    """The comparison that contributes most to a matrix's inconsistency, and a value to try instead.

    The cell (i, j), i < j, maximising |ln(a_ij · w_j / w_i)| — how far the judgment is from the
    ratio its own priorities imply — with ``current`` = a_ij and ``suggested`` = w_i / w_j snapped
    (in log space) to the nearest value of the 1–9 scale or its reciprocal within ``scale``. When
    the snapped value equals the current one, the suggestion moves one step of the scale towards
    w_i / w_j (a cell already at the end of the scale gives way to the next-worst one), so
    following a hint always changes the matrix. ``cells`` limits the search (e.g. to the judgments
    an expert actually gave, not the completed ones). None for n ≤ 2, no candidate cell, or a
    matrix whose judgments all equal their implied ratios.
    """
    a = _array(matrix, "matrix", "判断矩阵", 2)
    w = _array(weights, "weights", "权重", 1)
    n = a.shape[0]
    if a.shape != (n, n) or w.shape != (n,):
        raise MethodError("判断矩阵应为方阵，且权重个数应与其阶数相同。", field="matrix")
    if n <= 2:
        return None
    if not (np.all(np.isfinite(a)) and np.all(a > 0) and np.all(np.isfinite(w)) and np.all(w > 0)):
        raise MethodError("判断矩阵和权重都应为有限的正数。", field="matrix")
    values = _scale_values(scale)
    if not values:
        raise MethodError("标度范围内没有任何 1–9 标度的值。", field="scale")
    candidates = (
        [(i, j) for i in range(n) for j in range(i + 1, n)]
        if cells is None
        else sorted({(min(i, j), max(i, j)) for i, j in cells if i != j})
    )
    ranked: list[tuple[float, int, int]] = []
    for i, j in candidates:
        if not (0 <= i < n and 0 <= j < n):
            raise MethodError(f"比较位置第 {i + 1} 行第 {j + 1} 列超出判断矩阵的范围。", field="cells")
        ranked.append((abs(math.log(a[i, j] * w[j] / w[i])), i, j))
    # Largest deviation first; ties keep the reading order (row by row).
    ranked.sort(key=lambda t: -t[0])
    logs = [math.log(v) for v in values]
    for deviation, i, j in ranked:
        if deviation <= 1e-9:
            break
        current = float(a[i, j])
        ratio = math.log(float(w[i] / w[j]))
        k = min(range(len(values)), key=lambda m: abs(logs[m] - ratio))
        if abs(logs[k] - math.log(current)) < 1e-9:
            k = min(max(k + (1 if ratio > math.log(current) else -1), 0), len(values) - 1)
        if abs(logs[k] - math.log(current)) >= 1e-9:
            return i, j, current, float(values[k])
    return None
