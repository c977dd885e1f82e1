"""Results in use (结果运用): a round's summary, one unit's detail, rectification duties and the ledger.

Everything here reads what the computation stored (``Target`` result fields, ``ResultLine`` rows,
``Assessment.record``); nothing is recomputed. Pages, the Word documents and the API all build on
:func:`summary` and :func:`target_detail`, so they always agree.

Rectification (整改): when a round is published, :func:`open_rectification` opens one duty (责任清单
事项, source "考核指标整改") per unit and scored leaf whose score (0–100) is below the round's
``rectify_below``; the duty names the indicator, and its description the score, the round and the
threshold — T0 facts only, never a self-assessment note. It is idempotent: a line that already has
its duty is skipped. The next round of the same system name shows, per unit, whether those duties
closed (:func:`previous_rectification`).

Averages compare a unit with all units of the round that have data for the indicator. A level-1
indicator's subtotal is the sum of its leaves' points (score × global weight after redistribution);
its round average is the mean of that subtotal over the round's computed units.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, F, Q, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from sizheng.assess.models import (
    Assessment,
    Indicator,
    IndicatorKind,
    LineStatus,
    MissingPolicy,
    ResultLine,
    RoundState,
    Target,
    WeightMethod,
)
from sizheng.core import audit
from sizheng.core.xlsx import write_ledger

RECTIFY_DAYS = 90  # a rectification duty is due three months after publication (moved to a workday)
TOP_N = 3
MISSING_REDISTRIBUTED = "无数据，权重已按比例分配给同级指标"
MISSING_ZERO = "无数据，按零分计"
SUPPRESSED_PREFIX = "参评人数不足、结果未公开，"
NO_REASON = "按总分所在分数段评定"


# --- helpers ------------------------------------------------------------------------------------


def natural_code(code: str) -> tuple:
    """Sort key of an indicator code: "1.2" < "1.10", numbers before letters ("B1", "V1")."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in code.split("."))


def ranked(queryset):
    """Targets by rank (units without a rank last), then by the org tree."""
    return queryset.order_by(F("rank").asc(nulls_last=True), "org__path", "pk")


def _tree_key(indicator: Indicator, by_id: dict[int, Indicator]) -> tuple:
    """Tree order: the (order, code) of each ancestor from the top down."""
    path = []
    node: Indicator | None = indicator
    while node is not None:
        path.append((node.order, natural_code(node.code), node.pk))
        node = by_id.get(node.parent_id) if node.parent_id else None
    return tuple(reversed(path))


def _top_of(indicator: Indicator, by_id: dict[int, Indicator]) -> Indicator:
    node = indicator
    while node.parent_id and node.parent_id in by_id:
        node = by_id[node.parent_id]
    return node


def missing_text(assessment: Assessment, status: str = LineStatus.NO_DATA) -> str:
    """What a page or report says about an indicator without data, by the system's policy."""
    text = MISSING_ZERO if assessment.system.missing_policy == MissingPolicy.ZERO else MISSING_REDISTRIBUTED
    return SUPPRESSED_PREFIX + text if status == LineStatus.SUPPRESSED else text


# --- rectification -------------------------------------------------------------------------------


def _rectify_description(assessment: Assessment, indicator: Indicator, score: float) -> str:
    text = (
        f"在“{assessment.title}”中，本单位“{indicator.code} {indicator.name}”指标得分 {score:.1f}"
        f"（按满分 100 折算），低于本轮下发整改的标准 {assessment.rectify_below:g} 分。"
        "请对照评分要点查找差距、制定整改措施，在完成时限前整改到位并报送整改情况；"
        "整改情况将在下一轮考核结果中反馈。"
    )
    if indicator.key_points.strip():
        text += f"\n评分要点：{indicator.key_points.strip()}"
    return text


def open_rectification(assessment: Assessment, *, actor) -> list:
    """Open a rectification duty for each scored leaf below ``rectify_below`` (once per line).

    Returns the duties opened by this call (none on a second call). Lines whose duty exists but
    is not linked (an interrupted earlier run) are linked, not opened again."""
    from sizheng.duties.models import Duty, SourceKind
    from sizheng.duties.services import duty_open

    if assessment.state not in (RoundState.COMPUTED, RoundState.PUBLISHED):
        raise ValidationError("本轮考核还没有计算结果，不能下发整改事项。请先锁定并计算本轮结果。")
    opened: list = []
    with transaction.atomic():
        # One publisher at a time per round (PostgreSQL row lock; SQLite serialises writers anyway).
        Assessment.objects.select_for_update().filter(pk=assessment.pk).exists()
        lines = list(
            ResultLine.objects.filter(
                target__assessment=assessment,
                indicator__kind=IndicatorKind.SCORED,
                status=LineStatus.OK,
                score__lt=assessment.rectify_below,
                duty__isnull=True,
            )
            .select_related("indicator", "target", "target__org")
            .order_by("target__org__path", "indicator__order", "pk")
        )
        if not lines:
            return opened
        existing = {
            d.source_id: d
            for d in Duty.objects.filter(
                source_kind=SourceKind.INDICATOR, source_id__in=[line.pk for line in lines]
            )
        }
        due_on = timezone.localdate() + timedelta(days=RECTIFY_DAYS)
        linked = 0
        for line in lines:
            duty = existing.get(line.pk)
            if duty is None:
                duty = duty_open(
                    org=line.target.org,
                    title=f"整改：{line.indicator.name}",
                    source=(SourceKind.INDICATOR, line.pk),
                    due_on=due_on,
                    actor=actor,
                    assigning_org=assessment.owner_org,
                    description=_rectify_description(assessment, line.indicator, line.score),
                    category="考核整改",
                )
                opened.append(duty)
            else:
                linked += 1
            ResultLine.objects.filter(pk=line.pk).update(duty=duty)
            line.duty = duty
        audit.record(
            actor,
            "assess_rectification_open",
            assessment,
            {
                "threshold": assessment.rectify_below,
                "opened": [d.pk for d in opened],
                "linked": linked,
            },
        )
    return opened


def previous_target(target: Target) -> Target | None:
    """The same org's target in the previous published round of the same system name."""
    a = target.assessment
    return (
        Target.objects.filter(
            org_id=target.org_id,
            assessment__state=RoundState.PUBLISHED,
            assessment__system__name=a.system.name,
        )
        .exclude(assessment_id=a.pk)
        .filter(
            Q(assessment__period_end__lt=a.period_end)
            | Q(assessment__period_end=a.period_end, assessment_id__lt=a.pk)
        )
        .select_related("assessment")
        .order_by("-assessment__period_end", "-assessment_id")
        .first()
    )


def previous_rectification(target: Target) -> list[dict]:
    """The rectification duties of the same org in the previous published round, with their state."""
    from sizheng.duties.models import State

    prev = previous_target(target)
    if prev is None:
        return []
    lines = ResultLine.objects.filter(target=prev, duty__isnull=False).select_related("indicator", "duty")
    out = []
    for line in sorted(lines, key=lambda x: natural_code(x.indicator.code)):
        duty = line.duty
        out.append(
            {
                "assessment": prev.assessment,
                "target": prev,
                "indicator": line.indicator,
                "score": line.score,
                "duty": duty,
                "state": duty.state,
                "state_label": duty.get_state_display(),
                "closed": duty.state == State.CLOSED,
                "cancelled": duty.state == State.CANCELLED,
                "closed_on": duty.closed_on,
                "due_on": duty.due_on,
            }
        )
    return out


# --- summary -------------------------------------------------------------------------------------


def distribution(assessment: Assessment, targets: list[Target]) -> list[dict]:
    """Count and share of units per grade, in the system's band order (best first)."""
    scored = [t for t in targets if t.grade]
    counts: dict[str, int] = defaultdict(int)
    for t in scored:
        counts[t.grade] += 1
    bands = list(assessment.system.grade_bands or [])
    rows = []
    seen = set()
    for i, band in enumerate(bands):
        grade = band["grade"]
        seen.add(grade)
        upper = bands[i - 1]["min"] if i > 0 else None
        rows.append({"grade": grade, "min": band.get("min"), "below": upper, "count": counts[grade]})
    rows += [{"grade": g, "min": None, "below": None, "count": n} for g, n in counts.items() if g not in seen]
    for row in rows:
        row["percent"] = 100.0 * row["count"] / len(scored) if scored else 0.0
        row["range"] = band_range(row["min"], row["below"])
    return rows


def band_range(low, below) -> str:
    if low is None and below is None:
        return "—"
    if low is None:
        return f"{below:g} 分以下"
    if below is None:
        return f"{low:g} 分及以上"
    return f"{low:g}—{below:g} 分（不含 {below:g}）"


def summary(assessment: Assessment, targets: list[Target] | None = None) -> dict:
    """The round at a glance: grade distribution, mean/median total, the targets by rank."""
    if targets is None:
        targets = list(ranked(Target.objects.filter(assessment=assessment).select_related("org", "unit")))
    totals = [t.total for t in targets if t.total is not None]
    return {
        "count": len(targets),
        "scored": len(totals),
        "mean": statistics.fmean(totals) if totals else None,
        "median": statistics.median(totals) if totals else None,
        "max": max(totals) if totals else None,
        "min": min(totals) if totals else None,
        "distribution": distribution(assessment, targets),
        "targets": targets,
        "uses_topsis": assessment.use_topsis or any(t.closeness is not None for t in targets),
        "has_sensitivity": any(t.rank_min is not None for t in targets),
        "record": assessment.record or {},
    }


# --- one unit ------------------------------------------------------------------------------------


def round_averages(assessment: Assessment) -> dict[int, dict]:
    """Per indicator: mean score over units with data, and the summed points (for subtotal means)."""
    rows = (
        ResultLine.objects.filter(target__assessment=assessment)
        .values("indicator_id")
        .annotate(avg=Avg("score", filter=Q(status=LineStatus.OK)), points=Sum("points"))
    )
    return {r["indicator_id"]: r for r in rows}


def target_detail(target: Target) -> dict:
    """One unit's results: level-1 groups with subtotals, each leaf vs the round average, the
    strongest and weakest leaves, indicators without data, bonus/veto, this round's duties and
    the previous round's rectification."""
    assessment = target.assessment
    indicators = list(Indicator.objects.filter(system_id=assessment.system_id))
    by_id = {i.pk: i for i in indicators}
    lines = {
        line.indicator_id: line for line in ResultLine.objects.filter(target=target).select_related("duty")
    }
    averages = round_averages(assessment)
    computed = Target.objects.filter(assessment=assessment, total__isnull=False).count()

    groups: dict[int, dict] = {}
    rows, bonus, veto = [], [], []
    for ind in sorted(indicators, key=lambda i: _tree_key(i, by_id)):
        line = lines.get(ind.pk)
        if ind.kind == IndicatorKind.BONUS:
            if line is not None:
                bonus.append({"indicator": ind, "raw": line.raw, "points": line.score, "line": line})
            continue
        if ind.kind == IndicatorKind.VETO:
            if line is not None:
                veto.append({"indicator": ind, "raw": line.raw, "triggered": bool(line.raw and line.raw > 0)})
            continue
        if line is None:
            continue  # an inner node (leaves carry the lines)
        top = _top_of(ind, by_id)
        group = groups.get(top.pk)
        if group is None:
            group = groups[top.pk] = {
                "indicator": top, "rows": [], "weight": 0.0, "subtotal": 0.0, "average": 0.0,
                "has_average": computed > 0,
            }  # fmt: skip
        avg = averages.get(ind.pk, {})
        average = avg.get("avg")
        ok = line.status == LineStatus.OK and line.score is not None
        row = {
            "indicator": ind,
            "line": line,
            "top": top,
            "raw": line.raw,
            "score": line.score,
            "average": average,
            "diff": (line.score - average) if ok and average is not None else None,
            "status": line.status,
            "status_label": line.get_status_display(),
            "ok": ok,
            "note": line.note,
            "global_weight": line.global_weight,
            "points": line.points,
            "duty": line.duty,
            "missing_text": "" if ok else missing_text(assessment, line.status),
        }
        rows.append(row)
        group["rows"].append(row)
        group["weight"] += line.global_weight or 0.0
        group["subtotal"] += line.points or 0.0
        if computed:
            group["average"] += (avg.get("points") or 0.0) / computed

    compared = [r for r in rows if r["diff"] is not None]
    k = min(TOP_N, max(1, len(compared) // 2)) if compared else 0
    strongest = sorted(compared, key=lambda r: (-r["diff"], natural_code(r["indicator"].code)))[:k]
    chosen = {id(r) for r in strongest}
    weakest = [
        r for r in sorted(compared, key=lambda r: (r["diff"], natural_code(r["indicator"].code)))
        if id(r) not in chosen
    ][:k]  # fmt: skip

    missing = [r for r in rows if not r["ok"]]
    listed = {r["indicator"].code for r in missing}
    for code in target.missing or []:
        ind = next((i for i in indicators if i.code == code), None)
        if ind is not None and code not in listed:
            missing.append({"indicator": ind, "status": LineStatus.NO_DATA,
                            "missing_text": missing_text(assessment)})  # fmt: skip

    return {
        "target": target,
        "assessment": assessment,
        "groups": list(groups.values()),
        "rows": rows,
        "strongest": strongest,
        "weakest": weakest,
        "missing": missing,
        "bonus": bonus,
        "veto": veto,
        "grade_reason": target.grade_reason or NO_REASON,
        "capped": bool(target.grade_reason),
        "rank_of": computed,
        "duties": [r for r in rows if r["duty"] is not None],
        # Scored leaves under the rectification line (their duties open at publication).
        "below": [r for r in rows if r["ok"] and r["score"] < assessment.rectify_below],
        "previous": previous_rectification(target),
        "rectify_below": assessment.rectify_below,
    }


# --- the record of the computation ---------------------------------------------------------------

RECORD_LABELS = {
    "methods": "计算方法",
    "weight_set": "权重方案",
    "missing_policy": "缺数处理",
    "missing": "无数据的指标（单位数）",
    "self_share": "自评占比",
    "metrics": "自动取数指标",
    "grade_bands": "等次划分",
    "caps": "等次上限规则",
    "bonus_cap": "加分上限",
    "topsis": "TOPSIS 参数",
    "topsis_reference": "TOPSIS 参照点",
    "sensitivity": "敏感性分析",
    "computed_at": "计算时间",
}
_KEY_LABELS = {
    "samples": "模拟次数",
    "seed": "随机种子",
    "concentration": "扰动集中度",
    "method": "方法",
    "normalization": "规范化",
    "criteria": "指标类型",
    "frozen_reference": "使用冻结参照点",
    "error": "未能计算",
    "scoring": "计分",
    "weighting": "赋权",
    "ranking": "排名",
    "topsis": "TOPSIS",
    "sensitivity": "敏感性分析",
    "grade_edges": "等次分界",
}
_VALUE_LABELS = {
    "weighted_sum": "加权求和",
    "competition": "竞争排名（同分同名次）",
    "vector": "向量规范化",
    "minmax": "极差规范化",
    "benefit": "效益型",
    "topsis": "TOPSIS",
    "direct": "直接赋权",
}
# Long vectors that mean nothing to a reader (kept in the record for the audit of the computation).
_HIDDEN = {"weights", "reference"}


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return _VALUE_LABELS.get(value, value)
    if isinstance(value, dict):
        return "；".join(
            f"{_KEY_LABELS.get(str(k), k)}：{_fmt(v)}"
            for k, v in value.items()
            if v is not None and k not in _HIDDEN
        )
    if isinstance(value, list | tuple):
        return "、".join(_fmt(v) for v in value)
    return str(value)


def _metric_label(name: str) -> str:
    """A metric's Chinese name with its code, e.g. "责任事项按时完成率（duties.on_time_rate）"."""
    from sizheng.core import metrics

    try:
        return f"{metrics.get(name).label}（{name}）"
    except LookupError:
        return str(name)


def record_rows(assessment: Assessment) -> list[dict]:
    """The methods and parameters the computation recorded, as (label, text) rows for a page.

    Global weights are returned separately by :func:`record_weights`; the TOPSIS reference vectors
    are only named (they mean nothing to a reader); keys this page does not know are shown as they are.
    """
    record = assessment.record or {}
    order = list(RECORD_LABELS)
    keys = sorted(record, key=lambda k: order.index(k) if k in order else len(order))
    rows = []
    for key in keys:
        value = record[key]
        if key == "weights" or (value is None and key != "weight_set") or (key == "missing" and not value):
            continue
        label = RECORD_LABELS.get(key, key)
        if key == "topsis_reference":
            text = "已在发布时冻结（之后补评的单位按同一参照点计算，不改变已发布的排序）"
        elif key == "weight_set":
            text = _weight_set_text(assessment, value)
        elif key == "missing_policy":
            text = str(MissingPolicy(value).label) if value in MissingPolicy.values else _fmt(value)
        elif key == "self_share" and isinstance(value, int | float):
            text = f"自评 {value * 100:g}%，考核组评分 {(1 - value) * 100:g}%（两者合成的指标）"
        elif key == "metrics" and isinstance(value, dict):
            text = "；".join(
                f"{k}：{_metric_label(v)}"
                for k, v in sorted(value.items(), key=lambda kv: natural_code(kv[0]))
            )
        elif key == "missing" and isinstance(value, dict):
            text = "；".join(
                f"{k}：{v}" for k, v in sorted(value.items(), key=lambda kv: natural_code(kv[0]))
            )
        elif key == "computed_at" and isinstance(value, str):
            moment = parse_datetime(value)
            text = f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment and moment.tzinfo else value[:16]
        elif key == "grade_bands" and isinstance(value, list):
            text = "；".join(
                f"{b.get('grade')} {'≥ ' + format(b['min'], 'g') if b.get('min') is not None else '其余'}"
                for b in value
                if isinstance(b, dict)
            )
        elif key == "caps" and isinstance(value, list):
            text = (
                "；".join(
                    str(
                        c.get("label")
                        or f"{c.get('indicator')} 低于 {c.get('below')} 时不高于{c.get('max_grade')}"
                    )
                    for c in value
                    if isinstance(c, dict)
                )
                or "无"
            )
        else:
            text = _fmt(value)
        rows.append({"key": key, "label": label, "text": text})
    return rows


def _weight_set_text(assessment: Assessment, value) -> str:
    ws = assessment.weight_set
    if value is None and ws is None:
        return "体系内设定的直接权重"
    if ws is not None:
        return str(ws)
    return f"权重方案 {value}"


def record_weights(assessment: Assessment) -> list[tuple[str, float]]:
    """(code, global weight) in code order, from the record."""
    weights = (assessment.record or {}).get("weights") or {}
    if not isinstance(weights, dict):
        return []
    return sorted(((str(k), float(v)) for k, v in weights.items()), key=lambda kv: natural_code(kv[0]))


def methods_sentence(assessment: Assessment) -> str:
    """The methods used, in one paragraph (the bulletin's 考核方法)."""
    ws = assessment.weight_set
    if ws is None:
        weighting = "各指标权重采用体系设定的直接权重"
    else:
        weighting = f"各指标权重采用“{ws.name}”（{WeightMethod(ws.method).label}）"
    record = assessment.record or {}
    parts = [
        f"本次考核依据“{assessment.system}”进行，{weighting}，各末级指标按评分办法折算为百分制得分后按全局权重加权汇总，"
        f"加分项另计（上限 {assessment.system.bonus_cap:g} 分），一票否决和等次上限规则按体系规定执行"
    ]
    policy = record.get("missing_policy", assessment.system.missing_policy)
    if policy == MissingPolicy.ZERO:
        parts.append("无数据的指标按零分计")
    else:
        parts.append("无数据的指标标记为“无数据”，其权重按比例分配给同级指标")
    if assessment.use_topsis:
        parts.append("同时采用逼近理想解排序法（TOPSIS）给出参考排序，参照点在发布时冻结")
    sens = record.get("sensitivity") or {}
    if sens:
        samples = sens.get("samples", 1000)
        parts.append(f"并对权重作 {samples} 次随机扰动的敏感性分析，给出各单位的名次区间和等次变化的可能性")
    return "，".join(parts) + "。"


# --- the Excel ledger ----------------------------------------------------------------------------


def ledger_xlsx(assessment: Assessment, targets: list[Target], *, exported_by: str = "") -> bytes:
    """One row per unit: level-1 subtotals, bonus, total, grade, rank, TOPSIS and the rank range."""
    indicators = list(Indicator.objects.filter(system_id=assessment.system_id))
    by_id = {i.pk: i for i in indicators}
    tops = sorted(
        (i for i in indicators if i.parent_id is None and i.kind == IndicatorKind.SCORED),
        key=lambda i: _tree_key(i, by_id),
    )
    subtotals: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    lines = ResultLine.objects.filter(
        target__in=[t.pk for t in targets], indicator__kind=IndicatorKind.SCORED
    ).values_list("target_id", "indicator_id", "points")
    for target_id, indicator_id, points in lines:
        ind = by_id.get(indicator_id)
        if ind is not None:
            subtotals[target_id][_top_of(ind, by_id).pk] += points or 0.0
    use_topsis = assessment.use_topsis or any(t.closeness is not None for t in targets)
    headers = [
        "名次",
        "党组织",
        "单位",
        *[f"{t.code} {t.name}" for t in tops],
        "加分",
        "总分",
        "等次",
        "等次说明",
    ]
    if use_topsis:
        headers += ["TOPSIS 贴近度", "TOPSIS 名次"]
    headers += ["名次区间", "等次变化概率（%）", "无数据指标"]

    def rows():
        for t in targets:
            row = [t.rank, t.org.name, t.unit.name if t.unit_id else ""]
            row += [round(subtotals[t.pk][top.pk], 2) if t.total is not None else None for top in tops]
            row += [_r(t.bonus), _r(t.total), t.grade, t.grade_reason]
            if use_topsis:
                row += [_r(t.closeness, 4), t.topsis_rank]
            span = f"{t.rank_min}—{t.rank_max}" if t.rank_min is not None else ""
            prob = _r(t.grade_change_probability * 100, 1) if t.grade_change_probability is not None else None
            row += [span, prob, "、".join(t.missing or [])]
            yield row

    note = f"导出时间：{timezone.localtime():%Y年%m月%d日 %H:%M}"
    if exported_by:
        note += f"；导出人：{exported_by}"
    note += f"；共 {len(targets)} 个单位。分项为各一级指标的得分（末级指标得分 × 全局权重之和）。"
    return write_ledger(
        title=f"{assessment.title}结果台账", headers=headers, rows=rows(), sheet_name="考核结果", note=note
    )


def _r(value, places: int = 2):
    return None if value is None else round(value, places)
