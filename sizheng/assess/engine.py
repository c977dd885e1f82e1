"""The assessment engine: collect each target's raw values, score them, total, grade and rank a round.

The rules are ``scoring``'s (pure); this module reads the round from the database, fetches the
values by each indicator's source and writes the results:

* **Values** (:func:`collect`): ``self`` — the unit's self-assessment entry; ``assessor`` — the
  mean of the entries of the target's assigned assessors; ``self_assessor`` — self × self_share +
  assessor × (1 − self_share), one side alone when the other is missing; ``democratic`` —
  ``insight.democratic_rating_for`` over the round's span (only the round's chosen survey when
  set); ``metric`` — ``core.metrics.compute(..., consumer=ASSESSMENT)`` (T3 metrics are refused),
  per org or per unit by the metric's level. A metric whose period kind is shorter than the round
  is computed for every period of its kind inside the round and the available values are
  averaged; otherwise the period containing the round's last day is used. A ``Suppressed`` value
  is missing (status ``suppressed`` when the reason is the anonymity threshold, else ``no_data``)
  with its reason as the note.
* **Results** (:func:`compute_round`): scores (2 decimals), effective weights after the missing
  policy, base total / bonus / total (2 decimals), grade with caps and vetoes, competition rank,
  optional TOPSIS over the leaf score matrix and a weighted-sum sensitivity analysis.
* **Score matrix** (:func:`score_matrix`): leaf scores of a computed round with missing cells
  filled by ``scoring.filled_scores`` (the weighted mean of the present siblings), so that the
  matrix times the plain global weights gives each target's base total. The sensitivity analysis
  adds each target's bonus to its row, so its weighted sums are the totals; a target's caps limit
  which grade edges can change its grade, and a veto fixes it (probability 0).

The number of queries of a computation does not grow with the number of targets: every source
is read once for all targets (metrics once per metric and period) and results are bulk-written.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sizheng.assess import methods, scoring
from sizheng.assess.models import (
    Assessment,
    AssessorAssignment,
    Entry,
    Indicator,
    IndicatorKind,
    IndicatorSystem,
    LineStatus,
    MissingPolicy,
    ResultLine,
    RoundState,
    Target,
    ValueSource,
    WeightSet,
)
from sizheng.core import audit
from sizheng.core import metrics as registry
from sizheng.core.metrics import Consumer, Suppressed
from sizheng.core.rules import Period

REDISTRIBUTED = "无数据，权重已按比例分配给同级指标"
ZEROED = "无数据，按零分计"
SENSITIVITY_CONCENTRATION = 100.0
NOTE_MAX = 200


@dataclass(frozen=True)
class Raw:
    """One target's raw value of one indicator: ``value`` None = missing; ``status`` a LineStatus."""

    value: float | None
    status: str = LineStatus.OK
    note: str = ""


@dataclass(frozen=True)
class Span:
    """The round's span as a period-like object (``start``/``end``) for the democratic rating."""

    start: date
    end: date


# --- the tree ------------------------------------------------------------------------------------


def _code_key(code: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-]", code))


def _indicators(system: IndicatorSystem) -> list[Indicator]:
    return list(Indicator.objects.filter(system=system))


def _tree_order(indicators: list[Indicator]) -> list[Indicator]:
    """All indicators depth-first, siblings by (order, code)."""
    children: dict[int | None, list[Indicator]] = defaultdict(list)
    ids = {i.pk for i in indicators}
    for ind in indicators:
        children[ind.parent_id if ind.parent_id in ids else None].append(ind)
    out: list[Indicator] = []

    def walk(parent: int | None) -> None:
        for ind in sorted(children.get(parent, []), key=lambda i: (i.order, _code_key(i.code))):
            out.append(ind)
            walk(ind.pk)

    walk(None)
    return out


def _scored(indicators: list[Indicator]) -> list[Indicator]:
    return [i for i in _tree_order(indicators) if i.kind == IndicatorKind.SCORED]


def _leaves_of(indicators: list[Indicator]) -> list[Indicator]:
    scored = _scored(indicators)
    parents = {i.parent_id for i in scored}
    return [i for i in scored if i.pk not in parents]


def _parents(indicators: list[Indicator]) -> dict[int, int | None]:
    scored = _scored(indicators)
    ids = {i.pk for i in scored}
    return {i.pk: (i.parent_id if i.parent_id in ids else None) for i in scored}


def _local(indicators: list[Indicator], weight_set: WeightSet | None) -> dict[int, float]:
    given = (weight_set.weights or {}) if weight_set is not None else {}
    out: dict[int, float] = {}
    for ind in indicators:
        if ind.kind != IndicatorKind.SCORED:
            continue
        value = given.get(str(ind.pk), ind.weight)
        try:
            out[ind.pk] = float(value)
        except (TypeError, ValueError):
            out[ind.pk] = float(ind.weight)
    return out


def local_weights(system: IndicatorSystem, weight_set: WeightSet | None = None) -> dict[int, float]:
    """Indicator id → local weight of every scored indicator: the weight set's value when it has
    one for the indicator, else ``Indicator.weight``."""
    return _local(_indicators(system), weight_set)


def global_weights(system: IndicatorSystem, weight_set: WeightSet | None = None) -> dict[int, float]:
    """Scored leaf id → product of the local weights down its path (before any redistribution)."""
    indicators = _indicators(system)
    return scoring.global_weights(
        _parents(indicators), _local(indicators, weight_set), [i.pk for i in _leaves_of(indicators)]
    )


def leaves(system: IndicatorSystem) -> list[Indicator]:
    """The scored leaves in tree order (depth-first, siblings by order then code)."""
    return _leaves_of(_indicators(system))


# --- collecting raw values -----------------------------------------------------------------------


def _periods(kind: str, start: date, end: date) -> list[Period]:
    """Periods of ``kind`` for a round [start, end]: when the kind is shorter than the round (in
    calendar months touched), every period of the kind lying inside the round (those overlapping it
    if none lies wholly inside) — their values are averaged; otherwise the period containing ``end``."""
    months = {"month": 1, "quarter": 3, "half": 6, "year": 12}[kind]
    span = (end.year - start.year) * 12 + end.month - start.month + 1
    if months >= span:
        return [Period.containing(kind, end)]  # type: ignore[arg-type]
    overlapping: list[Period] = []
    period = Period.containing(kind, start)  # type: ignore[arg-type]
    while period.start <= end:
        overlapping.append(period)
        period = Period.containing(kind, period.end + timedelta(days=1))  # type: ignore[arg-type]
    inside = [p for p in overlapping if p.start >= start and p.end <= end]
    return inside or overlapping


_KIND_NAMES = {"month": "个月", "quarter": "个季度", "half": "个半年", "year": "个年度"}


def _missing(reason: str) -> Raw:
    status = LineStatus.SUPPRESSED if "匿名" in reason else LineStatus.NO_DATA
    return Raw(None, status, reason)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None or isinstance(value, Suppressed):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _metric_for(ind: Indicator) -> registry.Metric:
    if not ind.metric_name:
        raise ValidationError(
            f"指标“{ind.code} {ind.name}”的取值来源是平台自动取数，但没有选择取数指标，请先在指标体系中设置。"
        )
    try:
        m = registry.get(ind.metric_name)
    except LookupError:
        raise ValidationError(
            f"指标“{ind.code} {ind.name}”使用的自动取数指标“{ind.metric_name}”不存在，请在指标体系中改选。"
        ) from None
    if not registry.allowed(m, Consumer.ASSESSMENT):
        raise ValidationError(
            f"指标“{ind.code} {ind.name}”使用的自动取数指标“{m.label}”属于敏感数据（{m.tier}），"
            "按规定不能用于考核，请在指标体系中改用其他指标。"
        )
    return m


def _metric_values(m: registry.Metric, targets: list[Target], start: date, end: date) -> dict[int, Raw]:
    """Target id → Raw of one metric: once per period for all targets."""
    keys = {t.pk: (t.org_id if m.level == "org" else t.unit_id) for t in targets}
    ids = [k for k in keys.values() if k is not None]
    periods = _periods(m.period_kind, start, end)
    per_period = []
    for period in periods:
        try:
            per_period.append(registry.compute(m.name, ids, period, consumer=Consumer.ASSESSMENT))
        except registry.MetricAccessError as exc:
            raise ValidationError(str(exc)) from None
    out: dict[int, Raw] = {}
    for target_id, key in keys.items():
        if key is None:
            out[target_id] = Raw(None, LineStatus.NO_DATA, "被考核党组织没有对应的单位，无法按单位取数。")
            continue
        values = [v for got in per_period if (v := _number(got.get(key))) is not None]
        if not values:
            reasons = [str(got.get(key).reason) for got in per_period if isinstance(got.get(key), Suppressed)]
            out[target_id] = _missing(reasons[-1] if reasons else "无数据")
            continue
        mean = sum(values) / len(values)
        if len(periods) > 1:
            unit = _KIND_NAMES.get(m.period_kind, "期")
            note = f"{len(values)}{unit}的平均值"
            if len(values) < len(periods):
                note += f"（{len(periods) - len(values)}{unit}无数据）"
        else:
            note = periods[0].label
        out[target_id] = Raw(mean, LineStatus.OK, f"{m.label}：{note}")
    return out


def _democratic_values(assessment: Assessment, targets: list[Target]) -> dict[int, Raw]:
    from sizheng.insight.metrics import democratic_rating_for

    survey_ids = [assessment.democratic_survey_id] if assessment.democratic_survey_id else None
    got = democratic_rating_for(
        list({t.org_id for t in targets}), Span(assessment.period_start, assessment.period_end), survey_ids
    )
    out: dict[int, Raw] = {}
    for t in targets:
        value = got.get(t.org_id)
        number = _number(value)
        if number is None:
            reason = value.reason if isinstance(value, Suppressed) else "无数据"
            out[t.pk] = Raw(None, LineStatus.SUPPRESSED, f"民主测评：{reason}")
        else:
            out[t.pk] = Raw(number, LineStatus.OK, "民主测评满意率")
    return out


def _pct(x: float) -> str:
    return f"{x * 100:g}%"


def _combine(self_v: float | None, assessor_v: float | None, share: float) -> Raw:
    if self_v is not None and assessor_v is not None:
        value = self_v * share + assessor_v * (1 - share)
        return Raw(
            value,
            LineStatus.OK,
            f"自评 {self_v:g} × {_pct(share)} + 考核组 {assessor_v:g} × {_pct(1 - share)}",
        )
    if self_v is not None:
        return Raw(self_v, LineStatus.OK, "考核组未评分，按自评计。")
    if assessor_v is not None:
        return Raw(assessor_v, LineStatus.OK, "单位未自评，按考核组评分计。")
    return Raw(None, LineStatus.NO_DATA, "自评和考核组评分均未填报。")


def _collect(
    assessment: Assessment, indicators: list[Indicator], targets: list[Target]
) -> dict[int, dict[int, Raw]]:
    leaf_ids = {i.pk for i in _leaves_of(indicators)}
    used = [i for i in _tree_order(indicators) if i.kind != IndicatorKind.SCORED or i.pk in leaf_ids]
    by_metric: dict[str, list[Indicator]] = defaultdict(list)
    for ind in used:
        if ind.source == ValueSource.METRIC:
            by_metric[_metric_for(ind).name].append(ind)
    target_ids = [t.pk for t in targets]
    assigned: dict[int, set[int]] = defaultdict(set)
    for target_id, user_id in AssessorAssignment.objects.filter(target_id__in=target_ids).values_list(
        "target_id", "user_id"
    ):
        assigned[target_id].add(user_id)
    self_values: dict[tuple[int, int], float] = {}
    scores: dict[tuple[int, int], list[float]] = defaultdict(list)
    entries = (
        Entry.objects.filter(target_id__in=target_ids, value__isnull=False)
        .order_by("updated_at", "pk")
        .values_list("target_id", "indicator_id", "side", "value", "entered_by_id")
    )
    for target_id, indicator_id, side, value, user_id in entries:
        if side == Entry.Side.SELF:
            self_values[(target_id, indicator_id)] = value  # the latest wins
        elif user_id in assigned[target_id]:
            scores[(target_id, indicator_id)].append(value)
    metric_raws = {
        name: _metric_values(registry.get(name), targets, assessment.period_start, assessment.period_end)
        for name in by_metric
    }
    democratic = (
        _democratic_values(assessment, targets)
        if any(i.source == ValueSource.DEMOCRATIC for i in used)
        else {}
    )
    share = float(assessment.system.self_share)
    out: dict[int, dict[int, Raw]] = {}
    for t in targets:
        row: dict[int, Raw] = {}
        for ind in used:
            key = (t.pk, ind.pk)
            sv = self_values.get(key)
            given = scores.get(key)
            av = sum(given) / len(given) if given else None
            if ind.source == ValueSource.SELF:
                row[ind.pk] = Raw(sv) if sv is not None else Raw(None, LineStatus.NO_DATA, "单位未自评。")
            elif ind.source == ValueSource.ASSESSOR:
                if av is None:
                    row[ind.pk] = Raw(None, LineStatus.NO_DATA, "考核组未评分。")
                else:
                    row[ind.pk] = Raw(
                        av, LineStatus.OK, f"考核组 {len(given)} 人评分的平均值" if len(given) > 1 else ""
                    )
            elif ind.source == ValueSource.SELF_ASSESSOR:
                row[ind.pk] = _combine(sv, av, share)
            elif ind.source == ValueSource.DEMOCRATIC:
                row[ind.pk] = democratic[t.pk]
            elif ind.source == ValueSource.METRIC:
                row[ind.pk] = metric_raws[ind.metric_name][t.pk]
            else:
                raise ValidationError(
                    f"指标“{ind.code} {ind.name}”的取值来源“{ind.source}”无效，请在指标体系中修正。"
                )
        out[t.pk] = row
    return out


def _targets(assessment: Assessment) -> list[Target]:
    return list(
        Target.objects.filter(assessment=assessment).select_related("org").order_by("org__path", "pk")
    )


def collect(assessment: Assessment) -> dict[int, dict[int, Raw]]:
    """Target id → indicator id → :class:`Raw` for every scored leaf, bonus and veto indicator.

    Raises ValidationError when an automatic indicator has no metric, an unknown one, or one the
    assessment may not use (T3)."""
    return _collect(assessment, _indicators(assessment.system), _targets(assessment))


# --- computing a round ---------------------------------------------------------------------------


def _fail(ind: Indicator, exc: scoring.ScoringError) -> ValidationError:
    return ValidationError(f"指标“{ind.code} {ind.name}”的计分参数有误：{exc.message}请在指标体系中修正。")


def _note(*parts: str) -> str:
    text = "；".join(p.rstrip("。；") for p in parts if p)
    return text[:NOTE_MAX]


def _edges(bands: list[dict], start: int = 0) -> list[float] | None:
    edges = sorted({float(b["min"]) for b in bands[start:] if b.get("min") is not None})
    return edges or None


@dataclass
class _TargetResult:
    target: Target
    lines: list[ResultLine]
    scores: dict[int, float | None]
    base_total: float
    bonus: float
    total: float
    grade: str
    reason: str
    cap_index: int  # index of the best grade the caps and vetoes still allow (0 = no cap)
    vetoed: bool
    missing: list[str]


def compute_round(assessment: Assessment, *, actor, samples: int = 1000, seed: int = 0) -> None:
    """Compute a locked (or recompute a computed) round: result lines, target results, the record.

    Refuses other states (a published round is never recomputed). Idempotent: the lines are
    replaced. Audited as ``assess_compute`` with counts only."""
    with transaction.atomic():
        current = (
            Assessment.objects.select_for_update(of=("self",))
            .select_related("system", "weight_set")
            .get(pk=assessment.pk)
        )
        if current.state == RoundState.PUBLISHED:
            raise ValidationError("本轮考核结果已经发布，不能重新计算。")
        if current.state not in (RoundState.LOCKED, RoundState.COMPUTED):
            raise ValidationError("只有已锁定的考核轮次才能计算结果，请先锁定本轮的自评和评分。")
        system = current.system
        indicators = _indicators(system)
        leaf_list = _leaves_of(indicators)
        if not leaf_list:
            raise ValidationError("指标体系中没有计分指标，无法计算，请先完善指标体系。")
        bands = list(system.grade_bands or [])
        if not bands:
            raise ValidationError("指标体系没有设置等次划分，请先在指标体系中设置。")
        targets = _targets(current)
        if not targets:
            raise ValidationError("本轮没有被考核单位，请先添加被考核单位。")
        raws = _collect(current, indicators, targets)
        results, record = _compute(
            current, system, indicators, leaf_list, bands, targets, raws, samples, seed
        )
        _write(current, results, record)
        current.record = record
        current.computed_at = timezone.now()
        current.state = RoundState.COMPUTED
        current.version = F("version") + 1
        current.save(update_fields=["record", "computed_at", "state", "version"])
        current.refresh_from_db(fields=["version"])
        audit.record(
            actor,
            "assess_compute",
            current,
            {
                "targets": len(results),
                "lines": sum(len(r.lines) for r in results),
                "missing": sum(len(r.missing) for r in results),
                "capped": sum(1 for r in results if r.reason and not r.vetoed),
                "vetoed": sum(1 for r in results if r.vetoed),
            },
        )
    for attr in ("record", "computed_at", "state", "version"):
        setattr(assessment, attr, getattr(current, attr))


def _score_target(
    target: Target,
    raws: dict[int, Raw],
    indicators: list[Indicator],
    leaf_list: list[Indicator],
    parents: dict[int, int | None],
    local: dict[int, float],
    system: IndicatorSystem,
    bands: list[dict],
) -> _TargetResult:
    policy = system.missing_policy
    scores: dict[int, float | None] = {}
    for ind in leaf_list:
        raw = raws[ind.pk]
        if raw.value is None:
            scores[ind.pk] = None
            continue
        try:
            scores[ind.pk] = round(
                scoring.score_leaf(ind.rule_kind, ind.rule or {}, ind.max_score, raw.value), 2
            )
        except scoring.ScoringError as exc:
            raise _fail(ind, exc) from None
    totals = scoring.compute_totals(parents, local, scores, policy=policy)
    lines: list[ResultLine] = []
    for ind in leaf_list:
        raw, score, weight = raws[ind.pk], scores[ind.pk], totals.weights[ind.pk]
        if score is None:
            extra = REDISTRIBUTED if policy == MissingPolicy.REDISTRIBUTE else ZEROED
            shown = 0.0 if policy == MissingPolicy.ZERO else None
            lines.append(
                ResultLine(target=target, indicator=ind, raw=None, score=shown, global_weight=weight,
                           points=None if shown is None else 0.0, status=raw.status, note=_note(raw.note, extra))
            )  # fmt: skip
        else:
            lines.append(
                ResultLine(target=target, indicator=ind, raw=raw.value, score=score, global_weight=weight,
                           points=round(score * weight, 2), status=LineStatus.OK, note=_note(raw.note))
            )  # fmt: skip
    bonus_sum = 0.0
    vetoes: list[tuple[str, str, float | None]] = []
    for ind in _tree_order(indicators):
        if ind.kind == IndicatorKind.SCORED:
            continue
        raw = raws[ind.pk]
        if ind.kind == IndicatorKind.BONUS:
            points = 0.0
            if raw.value is not None:
                try:
                    points = round(scoring.bonus_points(ind.rule or {}, ind.max_score, raw.value), 2)
                except scoring.ScoringError as exc:
                    raise _fail(ind, exc) from None
            bonus_sum += points
            note = raw.note if raw.value is not None else _note(raw.note, "未填报，不加分")
            lines.append(
                ResultLine(target=target, indicator=ind, raw=raw.value, score=points, global_weight=0,
                           points=points, status=raw.status, note=_note(note))
            )  # fmt: skip
        else:
            vetoes.append((ind.code, ind.name, raw.value))
            happened = raw.value is not None and raw.value > 0
            note = (
                "发生，一票否决"
                if happened
                else ("未发生" if raw.value is not None else "未填报，视为未发生")
            )
            lines.append(
                ResultLine(target=target, indicator=ind, raw=raw.value, score=None, global_weight=0,
                           points=None, status=raw.status, note=_note(raw.note, note))
            )  # fmt: skip
    base_total = round(totals.base_total, 2)
    bonus = round(min(float(system.bonus_cap), bonus_sum), 2)
    total = round(base_total + bonus, 2)
    by_code = {ind.code: raws[ind.pk].value for ind in indicators if ind.pk in raws}
    try:
        first = scoring.grade_of(total, bands)
        grade, reason = scoring.apply_caps(first, bands, system.caps or [], by_code, vetoes)
        cap_grade, _ = scoring.apply_caps(bands[0]["grade"], bands, system.caps or [], by_code, vetoes)
    except scoring.ScoringError as exc:
        raise ValidationError(f"指标体系的等次设置有误：{exc.message}请在指标体系中修正。") from None
    names = [str(b["grade"]) for b in bands]
    vetoed = any(v is not None and v > 0 for _, _, v in vetoes)
    if all(s is None for s in scores.values()):
        reason = _note("所有计分指标均无数据", reason)
    code_of = {ind.pk: ind.code for ind in leaf_list}
    return _TargetResult(
        target=target, lines=lines, scores=scores, base_total=base_total, bonus=bonus, total=total,
        grade=grade, reason=reason, cap_index=names.index(cap_grade), vetoed=vetoed,
        missing=[code_of[pk] for pk in totals.missing],
    )  # fmt: skip


def _compute(
    assessment: Assessment,
    system: IndicatorSystem,
    indicators: list[Indicator],
    leaf_list: list[Indicator],
    bands: list[dict],
    targets: list[Target],
    raws: dict[int, dict[int, Raw]],
    samples: int,
    seed: int,
) -> tuple[list[_TargetResult], dict]:
    parents = _parents(indicators)
    local = _local(indicators, assessment.weight_set)
    plain = scoring.global_weights(parents, local, [i.pk for i in leaf_list])
    results = [
        _score_target(t, raws[t.pk], indicators, leaf_list, parents, local, system, bands) for t in targets
    ]
    ranks = methods.competition_ranking([r.total for r in results])
    for r, rank in zip(results, ranks, strict=True):
        r.target.base_total, r.target.bonus, r.target.total = r.base_total, r.bonus, r.total
        r.target.grade, r.target.grade_reason = r.grade, r.reason[:200]
        r.target.rank, r.target.missing = rank, r.missing
        r.target.closeness = r.target.topsis_rank = None
        r.target.rank_min = r.target.rank_max = r.target.grade_change_probability = None

    matrix = _matrix(results, leaf_list, parents, local, system.missing_policy)
    weights = np.array([plain[i.pk] for i in leaf_list])
    old = assessment.record or {}
    record: dict[str, Any] = {
        "methods": {
            "scoring": "weighted_sum",
            "ranking": "competition",
            "topsis": "vector" if assessment.use_topsis else None,
            "sensitivity": "weighted_sum",
        },
        "weights": {i.code: plain[i.pk] for i in leaf_list},
        "weight_set": assessment.weight_set_id,
        "missing_policy": system.missing_policy,
        "grade_bands": bands,
        "caps": list(system.caps or []),
        "bonus_cap": system.bonus_cap,
        "self_share": system.self_share,
        "metrics": {i.code: i.metric_name for i in indicators if i.source == ValueSource.METRIC},
        "missing": {
            code: n for code in (i.code for i in leaf_list) if (n := sum(code in r.missing for r in results))
        },
        "computed_at": timezone.now().isoformat(),
        "sensitivity": {
            "samples": samples,
            "seed": seed,
            "concentration": SENSITIVITY_CONCENTRATION,
            "method": "weighted_sum",
        },
        "topsis": None,
    }
    if "topsis_reference" in old:
        record["topsis_reference"] = old["topsis_reference"]
    if assessment.use_topsis:
        record["topsis"] = _topsis(results, matrix, weights, old.get("topsis_reference"))
    record["sensitivity"].update(_sensitivity(results, matrix, weights, bands, samples, seed))
    return results, record


def _matrix(
    results: list[_TargetResult],
    leaf_list: list[Indicator],
    parents: dict[int, int | None],
    local: dict[int, float],
    policy: str,
) -> np.ndarray:
    rows = []
    for r in results:
        filled = scoring.filled_scores(parents, local, r.scores, policy=policy)
        rows.append([filled[i.pk] for i in leaf_list])
    return np.array(rows, dtype=np.float64).reshape(len(results), len(leaf_list))


def _topsis(
    results: list[_TargetResult], matrix: np.ndarray, weights: np.ndarray, frozen: dict | None
) -> dict:
    reference = None
    if frozen:
        try:
            reference = methods.TopsisReference(**frozen)
        except TypeError:
            return {"normalization": "vector", "error": "冻结的 TOPSIS 参照点格式有误，未计算 TOPSIS 排序。"}
    try:
        res = methods.topsis(matrix, weights, [1] * matrix.shape[1], reference=reference)
    except methods.MethodError as exc:
        return {"normalization": "vector", "error": exc.message}
    for r, closeness, rank in zip(results, res.closeness, res.ranking, strict=True):
        r.target.closeness, r.target.topsis_rank = round(closeness, 4), rank
    return {
        "normalization": res.normalization,
        "criteria": "benefit",
        "weights": res.weights,
        "frozen_reference": reference is not None,
        "reference": res.reference.to_dict() if res.reference is not None else None,
    }


def _sensitivity(
    results: list[_TargetResult],
    matrix: np.ndarray,
    weights: np.ndarray,
    bands: list[dict],
    samples: int,
    seed: int,
) -> dict:
    """Rank range and grade-change probability of the totals (bonus added to every cell of its row).

    The draws depend only on the weights and the seed, so each distinct cap level is run with the
    same draws and only the grade edges that cap still lets change the grade."""
    shifted = matrix + np.array([r.bonus for r in results])[:, None]
    try:
        base = methods.sensitivity(
            shifted, weights, None, method="weighted_sum", samples=samples, seed=seed,
            concentration=SENSITIVITY_CONCENTRATION, grade_edges=_edges(bands),
        )  # fmt: skip
        probability: list[float | None] = list(base.grade_change_probability or [None] * len(results))
        for cap in sorted({r.cap_index for r in results if r.cap_index > 0}):
            edges = _edges(bands, cap)
            capped = [k for k, r in enumerate(results) if r.cap_index == cap]
            if edges is None:
                for k in capped:
                    probability[k] = 0.0
                continue
            again = methods.sensitivity(
                shifted, weights, None, method="weighted_sum", samples=samples, seed=seed,
                concentration=SENSITIVITY_CONCENTRATION, grade_edges=edges,
            )  # fmt: skip
            for k in capped:
                probability[k] = (again.grade_change_probability or probability)[k]
    except methods.MethodError as exc:
        return {"error": exc.message}
    for k, r in enumerate(results):
        rank = r.target.rank or 1
        r.target.rank_min = min(base.rank_min[k], rank)
        r.target.rank_max = max(base.rank_max[k], rank)
        p = probability[k]
        r.target.grade_change_probability = None if p is None else round(float(p), 4)
    return {"grade_edges": _edges(bands)}


def _write(assessment: Assessment, results: list[_TargetResult], record: dict) -> None:
    ResultLine.objects.filter(target__assessment=assessment).delete()
    ResultLine.objects.bulk_create([line for r in results for line in r.lines], batch_size=500)
    Target.objects.bulk_update(
        [r.target for r in results],
        ["base_total", "bonus", "total", "grade", "grade_reason", "rank", "closeness", "topsis_rank",
         "rank_min", "rank_max", "grade_change_probability", "missing"],
        batch_size=200,
    )  # fmt: skip


# --- the score matrix of a computed round ---------------------------------------------------------


def score_matrix(assessment: Assessment) -> tuple[list[Target], list[Indicator], np.ndarray]:
    """Leaf scores 0–100 of a computed (or published) round, targets × leaves in tree order; missing
    cells filled as the computation did (``scoring.filled_scores``), e.g. for entropy weighting."""
    if assessment.state not in (RoundState.COMPUTED, RoundState.PUBLISHED):
        raise ValidationError("本轮考核尚未计算结果，请先计算。")
    system = assessment.system
    indicators = _indicators(system)
    leaf_list = _leaves_of(indicators)
    parents = _parents(indicators)
    local = _local(indicators, assessment.weight_set)
    targets = _targets(assessment)
    stored: dict[tuple[int, int], float | None] = {}
    for target_id, indicator_id, score, status in ResultLine.objects.filter(
        target__assessment=assessment, indicator__kind=IndicatorKind.SCORED
    ).values_list("target_id", "indicator_id", "score", "status"):
        stored[(target_id, indicator_id)] = score if status == LineStatus.OK else None
    rows = []
    for t in targets:
        scores = {i.pk: stored.get((t.pk, i.pk)) for i in leaf_list}
        filled = scoring.filled_scores(parents, local, scores, policy=system.missing_policy)
        rows.append([filled[i.pk] for i in leaf_list])
    matrix = np.array(rows, dtype=np.float64).reshape(len(targets), len(leaf_list))
    return targets, leaf_list, matrix
