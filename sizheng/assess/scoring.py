"""The scoring model of an assessment round, as pure functions (no Django; type-checked by mypy).

Every rule below is the contract of ``notes/assess-contracts.md`` §"The scoring model":

* a scored leaf's raw value becomes a **score 0–100** by its rule (:func:`score_leaf`);
* a leaf's global weight is the product of the local weights down its path;
* a missing leaf (no entry, a suppressed metric, a survey group under k) is, by the system's
  missing policy, either ``redistribute``-d — its weight goes to its present siblings in
  proportion to their weights, recursively (a parent whose whole subtree is missing passes its
  weight to its own siblings) — or scored ``zero``;
* base total = Σ effective global weight × score; bonus points (:func:`bonus_points`) are added on
  top, their sum capped by the system's bonus cap, so a total may exceed 100;
* the grade is the first band whose minimum the total reaches (:func:`grade_of`); then caps and
  vetoes may only lower it (:func:`apply_caps`).

The tree is given as ``parents`` (node → parent, ``None`` at the top) and ``weights`` (node →
local weight) over the scored nodes only; node keys may be ids or codes (any hashable).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = [
    "POLICIES",
    "RULE_KINDS",
    "ScoringError",
    "Totals",
    "apply_caps",
    "bonus_points",
    "compute_totals",
    "filled_scores",
    "global_weights",
    "grade_index",
    "grade_of",
    "score_leaf",
]

K = TypeVar("K", bound=Hashable)

RULE_KINDS = ("direct", "linear", "deduction", "bands")
POLICIES = ("redistribute", "zero")


class ScoringError(ValueError):
    """A scoring rule that cannot be applied; the message is one Chinese sentence for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- one leaf --------------------------------------------------------------------------------


def _num(rule: Mapping[str, Any], key: str, default: float | None = None) -> float | None:
    value = rule.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScoringError(f"计分参数 {key} 应为数字。")
    number = float(value)
    if not math.isfinite(number):
        raise ScoringError(f"计分参数 {key} 应为有限的数字。")
    return number


def _clamp(score: float) -> float:
    return min(100.0, max(0.0, score))


def _check_raw(raw: float) -> float:
    value = float(raw)
    if not math.isfinite(value):
        raise ScoringError("取值应为有限的数字。")
    return value


def score_leaf(rule_kind: str, rule: Mapping[str, Any], max_score: float, raw: float) -> float:
    """The score 0–100 of a scored leaf from its raw value.

    ``direct``: raw / max_score × 100. ``linear`` {zero_at, full_at}: 0 at ``zero_at``, 100 at
    ``full_at``, linear between and clamped outside (``zero_at > full_at`` for lower-is-better).
    ``deduction`` {per_event (default 1), max_deduction}: raw = number of events (negative counts as
    0); max(0, max_score − per_event × raw, max_score − max_deduction) / max_score × 100.
    ``bands`` {bands: [{min, score}, …]}: the first band whose ``min`` ≤ raw (``min`` null = catch-all)
    gives the score; no band → 0. Always clamped to [0, 100].
    """
    value = _check_raw(raw)
    rule = rule or {}
    if rule_kind == "direct":
        if not max_score > 0:
            raise ScoringError("直接评分的满分应大于 0。")
        return _clamp(value / max_score * 100.0)
    if rule_kind == "linear":
        zero_at, full_at = _num(rule, "zero_at"), _num(rule, "full_at")
        if zero_at is None or full_at is None:
            raise ScoringError("线性折算需要设置 zero_at（得 0 分的值）和 full_at（得满分的值）。")
        if zero_at == full_at:
            raise ScoringError("线性折算的 zero_at 与 full_at 不能相等。")
        return _clamp((value - zero_at) / (full_at - zero_at) * 100.0)
    if rule_kind == "deduction":
        if not max_score > 0:
            raise ScoringError("按事项扣分的满分应大于 0。")
        per_event = _num(rule, "per_event", 1.0)
        assert per_event is not None
        if per_event < 0:
            raise ScoringError("每项扣分 per_event 不能为负数。")
        left = max_score - per_event * max(0.0, value)
        max_deduction = _num(rule, "max_deduction")
        if max_deduction is not None:
            left = max(left, max_score - max_deduction)
        return _clamp(max(0.0, left) / max_score * 100.0)
    if rule_kind == "bands":
        bands = rule.get("bands")
        if not isinstance(bands, list) or not bands:
            raise ScoringError("分档计分需要至少一个分档（bands）。")
        for band in bands:
            if not isinstance(band, Mapping):
                raise ScoringError("分档计分的每一档应包含 min 和 score。")
            low = _num(band, "min")
            if low is None or value >= low:
                score = _num(band, "score", 0.0)
                assert score is not None
                return _clamp(score)
        return 0.0
    raise ScoringError(f"计分方式“{rule_kind}”不受支持，可选：{'、'.join(RULE_KINDS)}。")


def bonus_points(rule: Mapping[str, Any], max_score: float, raw: float) -> float:
    """Points of a bonus indicator: min(max_score, raw × rule.per_event (default 1)), never negative."""
    value = _check_raw(raw)
    per_event = _num(rule or {}, "per_event", 1.0)
    assert per_event is not None
    return max(0.0, min(float(max_score), max(0.0, value) * per_event))


# --- grades ----------------------------------------------------------------------------------


def _band_min(band: Mapping[str, Any]) -> float | None:
    low = band.get("min")
    return None if low is None else float(low)


def grade_index(total: float, bands: Sequence[Mapping[str, Any]]) -> int:
    """Index (0 = best) of the first band whose minimum ``total`` reaches (``min`` null = catch-all);
    the last band when none is reached."""
    if not bands:
        raise ScoringError("体系没有设置等次划分。")
    for i, band in enumerate(bands):
        low = _band_min(band)
        if low is None or total >= low:
            return i
    return len(bands) - 1


def grade_of(total: float, bands: Sequence[Mapping[str, Any]]) -> str:
    """The grade of a total: the first band (best first) with total ≥ min."""
    return str(bands[grade_index(total, bands)]["grade"])


def _fmt(x: float) -> str:
    return f"{x:g}"


def apply_caps(
    grade: str,
    bands: Sequence[Mapping[str, Any]],
    caps: Sequence[Mapping[str, Any]],
    raw_by_code: Mapping[str, float | None],
    vetoes: Sequence[tuple[str, str, float | None]] = (),
) -> tuple[str, str]:
    """Apply the caps, then the vetoes, to a grade: (final grade, reason in Chinese, "" if none).

    A cap {indicator, below, max_grade, label} applies when the indicator's raw value exists and is
    below ``below``: the grade may not be better than ``max_grade`` (the reason names the caps that
    lowered it). A veto (code, name, raw) with raw > 0 forces the lowest band. The grade is never
    made better.
    """
    names = [str(b["grade"]) for b in bands]
    if not names:
        raise ScoringError("体系没有设置等次划分。")
    index = names.index(grade) if grade in names else len(names) - 1
    reasons: list[str] = []
    for cap in caps:
        code = str(cap.get("indicator", ""))
        raw = raw_by_code.get(code)
        below = cap.get("below")
        if raw is None or below is None or not raw < float(below):
            continue
        max_grade = str(cap.get("max_grade", ""))
        if max_grade not in names:
            raise ScoringError(f"等次上限规则中的等次“{max_grade}”不在体系的等次划分中。")
        limit = names.index(max_grade)
        if limit > index:
            index = limit
            label = str(cap.get("label") or f"指标 {code} 低于 {_fmt(float(below))}")
            reasons.append(
                f"{label}（{code} 实际值 {_fmt(raw)}，低于 {_fmt(float(below))}），等次不高于“{max_grade}”"
            )
    lowest = len(names) - 1
    for code, name, raw in vetoes:
        if raw is not None and raw > 0:
            index = lowest
            reasons.append(f"一票否决：{name}（{code}），定为“{names[lowest]}”")
    return names[index], "；".join(reasons)


# --- the tree --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals(Generic[K]):
    """The weighted result of one target.

    ``weights``: each leaf's effective global weight (after redistribution; missing leaves 0 under
    ``redistribute``, their plain global weight under ``zero``); ``base_total``: Σ weight × score
    (missing scores 0); ``missing``: the missing leaves in the order of ``scores``.
    """

    weights: dict[K, float]
    base_total: float
    missing: list[K]


def _children(parents: Mapping[K, K | None]) -> dict[K | None, list[K]]:
    children: dict[K | None, list[K]] = {}
    for node, parent in parents.items():
        children.setdefault(parent, []).append(node)
    return children


def global_weights(
    parents: Mapping[K, K | None], weights: Mapping[K, float], leaves: Sequence[K] | None = None
) -> dict[K, float]:
    """Each leaf's global weight: the product of the local weights from the top down to it."""
    children = _children(parents)
    targets = list(leaves) if leaves is not None else [n for n in parents if n not in children]
    out: dict[K, float] = {}
    for leaf in targets:
        w, seen = 1.0, 0
        node: K | None = leaf
        while node is not None:
            w *= float(weights.get(node, 0.0))
            node = parents.get(node)
            seen += 1
            if seen > len(parents) + 1:
                raise ScoringError("指标体系的上下级关系有循环。")
        out[leaf] = w
    return out


class _Walk(Generic[K]):
    """Presence and subtree scores under redistribution, computed once per node."""

    def __init__(
        self, parents: Mapping[K, K | None], weights: Mapping[K, float], scores: Mapping[K, float | None]
    ):
        self.children = _children(parents)
        self.weights = weights
        self.scores = scores
        self._value: dict[K, float | None] = {}

    def kids(self, node: K | None) -> list[K]:
        return self.children.get(node, [])

    def w(self, node: K) -> float:
        return max(0.0, float(self.weights.get(node, 0.0)))

    def value(self, node: K) -> float | None:
        """The node's redistributed score 0–100, or None when nothing below it has data."""
        if node in self._value:
            return self._value[node]
        kids = self.kids(node)
        result: float | None
        if not kids:
            raw = self.scores.get(node)
            result = None if raw is None else float(raw)
        else:
            result = self.mean(kids)
        self._value[node] = result
        return result

    def mean(self, group: list[K]) -> float | None:
        """The weighted mean of the present members' values (equal shares if their weights are 0)."""
        present = [(self.w(n), v) for n in group if (v := self.value(n)) is not None]
        if not present:
            return None
        mass = sum(w for w, _ in present)
        if mass > 0:
            return sum(w * v for w, v in present) / mass
        return sum(v for _, v in present) / len(present)

    def shares(self, group: list[K]) -> dict[K, float]:
        """Each member's effective local weight: the group's mass spread over its present members."""
        total = sum(self.w(n) for n in group)
        present = [n for n in group if self.value(n) is not None]
        mass = sum(self.w(n) for n in present)
        out = dict.fromkeys(group, 0.0)
        for n in present:
            out[n] = total * self.w(n) / mass if mass > 0 else total / len(present)
        return out


def _check_policy(policy: str) -> None:
    if policy not in POLICIES:
        raise ScoringError(f"缺数处理方式“{policy}”不受支持，可选：{'、'.join(POLICIES)}。")


def compute_totals(
    parents: Mapping[K, K | None],
    weights: Mapping[K, float],
    scores: Mapping[K, float | None],
    *,
    policy: str = "redistribute",
) -> Totals[K]:
    """Effective global weights, base total and missing leaves of one target.

    ``parents``/``weights``: the scored tree (every node, inner and leaf); ``scores``: each leaf's
    score 0–100, None = missing. ``redistribute``: within every sibling group the weight of the
    missing members goes to the present ones in proportion to their weights (a group whose members
    all have zero weight splits equally), so over the present leaves the effective weights sum to
    the top level's weight sum (1 for a valid system); nothing present → all 0 and base 0.
    ``zero``: plain global weights, missing scores count as 0.
    """
    _check_policy(policy)
    missing = [leaf for leaf, s in scores.items() if s is None]
    if policy == "zero":
        plain = global_weights(parents, weights, list(scores))
        base = sum(plain[leaf] * float(s) for leaf, s in scores.items() if s is not None)
        return Totals(weights=plain, base_total=base, missing=missing)
    walk = _Walk(parents, weights, scores)
    effective: dict[K, float] = {}

    def descend(group: list[K], factor: float) -> None:
        for node, share in walk.shares(group).items():
            kids = walk.kids(node)
            if kids:
                descend(kids, factor * share)
            else:
                effective[node] = factor * share

    descend(walk.kids(None), 1.0)
    out = {leaf: effective.get(leaf, 0.0) for leaf in scores}
    base = sum(out[leaf] * float(s) for leaf, s in scores.items() if s is not None)
    return Totals(weights=out, base_total=base, missing=missing)


def filled_scores(
    parents: Mapping[K, K | None],
    weights: Mapping[K, float],
    scores: Mapping[K, float | None],
    *,
    policy: str = "redistribute",
) -> dict[K, float]:
    """Scores with every missing leaf filled in, for score matrices (TOPSIS, sensitivity, entropy).

    ``redistribute``: a missing leaf gets the weighted mean of its nearest present siblings' subtree
    scores (for a leaf under a wholly missing parent, the parent's siblings'), so that
    Σ global weight × filled score equals :func:`compute_totals`' base total exactly; nothing
    present → 0. ``zero``: missing → 0.
    """
    _check_policy(policy)
    if policy == "zero":
        return {leaf: 0.0 if s is None else float(s) for leaf, s in scores.items()}
    walk = _Walk(parents, weights, scores)
    out: dict[K, float] = {}

    def descend(group: list[K], fill: float) -> None:
        group_mean = walk.mean(group)
        for node in group:
            value = walk.value(node)
            kids = walk.kids(node)
            node_fill = fill if group_mean is None else (value if value is not None else group_mean)
            if kids:
                descend(kids, node_fill)
            else:
                out[node] = node_fill

    descend(walk.kids(None), 0.0)
    return {leaf: out.get(leaf, 0.0) if s is None else float(s) for leaf, s in scores.items()}
