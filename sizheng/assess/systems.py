"""Indicator systems: the shipped systems, versions, publication and the indicator tree's edits.

Every write goes through here, is audited and raises ``ValidationError`` with a Chinese sentence
(or a dict field → sentence) that says what to do. Systems carry a ``version`` (optimistic lock):
each write checks the version the form was filled on and bumps it, so two people editing the
same draft cannot overwrite each other (a stale form gets ``Conflict``, 409).

Rules of the tree (checked by :func:`save_indicator` and again before publication):

* local weights: the scored children of each parent (and the scored level-1 indicators) sum to 1;
* bonus (加分项) and veto (一票否决) indicators sit at the top level, outside the weights, and
  have no children;
* a leaf's ``rule`` matches its ``rule_kind`` (see :func:`validate_rule`);
* an automatic leaf (source ``metric``) names a metric that assessment may read
  (``core.metrics.for_consumer(Consumer.ASSESSMENT)``: T0 and T2-meta, never T3);
* caps name an existing indicator and a grade of the system's bands.

The shipped systems live in ``assess/data/<kind>.json`` as a 100-point table: each indicator has
``points`` (分值); local weights are derived from them (a level-1 indicator's points over the
total, a leaf's points over its parent's points), and a leaf's full marks (``max_score``) are its
points unless the file says otherwise.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max

from sizheng.assess.models import (
    Indicator,
    IndicatorKind,
    IndicatorSystem,
    MissingPolicy,
    RuleKind,
    SystemKind,
    SystemState,
    ValueSource,
    default_bands,
)
from sizheng.core import audit
from sizheng.core import metrics as core_metrics
from sizheng.org.access import check_version

DATA_DIR = Path(__file__).resolve().parent / "data"
BUILTIN_KINDS = (SystemKind.CLASSIFY, SystemKind.THOUGHT)
TOLERANCE = 1e-6
FIRST_YEAR, LAST_YEAR = 2000, 2100
CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._\-]{0,19}$")
MAX_BANDS = 20


# --- small helpers -------------------------------------------------------------------------------


def num(x: float | int | None) -> str:
    """A number for a sentence: at most 6 decimals, no trailing zeros ("0.95", "3", "33.333333")."""
    if x is None:
        return "—"
    text = f"{round(float(x), 6):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _label(ind) -> str:
    return f"“{ind.name}”（{ind.code}）"


def allowed_metrics() -> dict[str, core_metrics.Metric]:
    """Metrics an automatic indicator may read, by name (T0 and T2-meta; T3 never)."""
    return {m.name: m for m in core_metrics.for_consumer(core_metrics.Consumer.ASSESSMENT)}


def metric_choices() -> list[tuple[str, str]]:
    """(name, "label（name）") for the indicator form, sorted by name."""
    return [(n, f"{m.label}（{n}）") for n, m in sorted(allowed_metrics().items())]


def next_number(name: str, year: int) -> int:
    top = IndicatorSystem.objects.filter(name=name, year=year).aggregate(n=Max("number"))["n"]
    return (top or 0) + 1


def _check_year(year) -> int:
    if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError({"year": f"年度须在 {FIRST_YEAR} 至 {LAST_YEAR} 之间。"})
    return year


def _locked(system: IndicatorSystem, version: int | None) -> IndicatorSystem:
    """The system re-read under a row lock, with the form's version checked (409 when stale)."""
    fresh = IndicatorSystem.objects.select_for_update().get(pk=system.pk)
    check_version(fresh, version)
    return fresh


def _bump(system: IndicatorSystem, **fields) -> None:
    IndicatorSystem.objects.filter(pk=system.pk).update(version=F("version") + 1, **fields)
    system.refresh_from_db()


def _require_draft(system: IndicatorSystem) -> None:
    if system.state != SystemState.DRAFT:
        raise ValidationError(
            f"{system}已{system.get_state_display()}，不能再修改。请用“复制为新版本”建立草稿后修改。"
        )


# --- validation of rules, bands and caps ---------------------------------------------------------

# "unit" names what the value box of a linear or banded leaf holds when it is not a percentage
# (e.g. 工作经费's 0/1/2 levels); the entry form shows it instead of "比率（%，0—100）".
RULE_KEYS = {
    RuleKind.DIRECT: set(),
    RuleKind.LINEAR: {"zero_at", "full_at", "unit"},
    RuleKind.DEDUCTION: {"per_event", "max_deduction"},
    RuleKind.BANDS: {"bands", "unit"},
}


def validate_rule(kind: str, rule_kind: str, rule: Any) -> dict:
    """Check a leaf's scoring parameters against its rule kind; returns the cleaned rule.

    Bonus indicators take ``{"per_event": n}`` (optional, default 1: the raw value is points) and
    veto indicators no parameters, whatever their ``rule_kind``."""
    if rule in (None, ""):
        rule = {}
    if not isinstance(rule, dict):
        raise ValidationError({"rule": '计分参数应为 JSON 对象（形如 {"per_event": 3}），请检查格式。'})
    if kind == IndicatorKind.VETO:
        if rule:
            raise ValidationError({"rule": "一票否决项不需要计分参数（取值大于 0 即否决），请清空计分参数。"})
        return {}
    if kind == IndicatorKind.BONUS:
        extra = set(rule) - {"per_event"}
        if extra:
            raise ValidationError(
                {"rule": f"加分项只能设置“每项加分”（per_event），请删除：{'、'.join(sorted(extra))}。"}
            )
        if "per_event" in rule and not (_is_number(rule["per_event"]) and rule["per_event"] > 0):
            raise ValidationError({"rule": "加分项的“每项加分”须为大于 0 的数。"})
        return dict(rule)
    if rule_kind not in RULE_KEYS:
        raise ValidationError({"rule_kind": "请选择计分方式：直接评分、线性折算、按事项扣分或分档计分。"})
    extra = set(rule) - RULE_KEYS[rule_kind]
    if extra:
        label = RuleKind(rule_kind).label
        raise ValidationError({"rule": f"“{label}”不使用这些计分参数，请删除：{'、'.join(sorted(extra))}。"})
    if rule_kind == RuleKind.LINEAR:
        zero, full = rule.get("zero_at"), rule.get("full_at")
        if not (_is_number(zero) and _is_number(full)):
            raise ValidationError({"rule": "线性折算须填写“零分点”和“满分点”两个数。"})
        if zero == full:
            raise ValidationError({"rule": "线性折算的“零分点”和“满分点”不能相同。"})
        return {"zero_at": zero, "full_at": full}
    if rule_kind == RuleKind.DEDUCTION:
        per = rule.get("per_event")
        if not (_is_number(per) and per > 0):
            raise ValidationError({"rule": "按事项扣分须填写大于 0 的“每项扣分”。"})
        out: dict = {"per_event": per}
        if rule.get("max_deduction") is not None:
            cap = rule["max_deduction"]
            if not (_is_number(cap) and cap > 0):
                raise ValidationError({"rule": "“最多扣分”须为大于 0 的数；不限时请留空（扣完为止）。"})
            out["max_deduction"] = cap
        return out
    if rule_kind == RuleKind.BANDS:
        return {"bands": _validate_score_bands(rule.get("bands"))}
    return {}


def _validate_score_bands(bands: Any) -> list[dict]:
    if not isinstance(bands, list) or not bands:
        raise ValidationError({"rule": "分档计分至少要有一档：每档写明最低值和得分率（0—100）。"})
    if len(bands) > MAX_BANDS:
        raise ValidationError({"rule": f"分档不能超过 {MAX_BANDS} 档。"})
    out, previous = [], None
    for i, band in enumerate(bands, start=1):
        if not isinstance(band, dict) or set(band) - {"min", "score"} or "score" not in band:
            raise ValidationError({"rule": f'第 {i} 档应写成 {{"min": 最低值, "score": 得分率}}。'})
        low, score = band.get("min"), band["score"]
        last = i == len(bands)
        if low is None and not last:
            raise ValidationError(
                {"rule": f"只有最后一档可以不设最低值（表示“其余”），第 {i} 档请填写最低值。"}
            )
        if low is not None and not _is_number(low):
            raise ValidationError({"rule": f"第 {i} 档的最低值应为数字。"})
        if not (_is_number(score) and 0 <= score <= 100):
            raise ValidationError({"rule": f"第 {i} 档的得分率须在 0 到 100 之间。"})
        if low is not None and previous is not None and low >= previous:
            raise ValidationError(
                {"rule": f"分档须按最低值从高到低排列，第 {i} 档的最低值 {num(low)} 不小于上一档。"}
            )
        previous = low
        out.append({"min": low, "score": score})
    if out[-1]["min"] is not None:
        raise ValidationError(
            {"rule": "分档的最后一档须为“其余”（不设最低值），否则低于各档的取值无法计分。"}
        )
    return out


def validate_grade_bands(bands: Any) -> list[dict]:
    """Grade bands best first, minimums descending, the last one without a minimum."""
    if not isinstance(bands, list) or len(bands) < 2:
        raise ValidationError({"grade_bands": "等次划分至少要有两个等次，例如“好 90”和“较差”。"})
    out, seen, previous = [], set(), None
    for i, band in enumerate(bands, start=1):
        grade = str((band or {}).get("grade", "")).strip() if isinstance(band, dict) else ""
        low = band.get("min") if isinstance(band, dict) else None
        if not grade or len(grade) > 8:
            raise ValidationError({"grade_bands": f"第 {i} 个等次须有名称（不超过 8 个字）。"})
        if grade in seen:
            raise ValidationError({"grade_bands": f"等次“{grade}”重复了，请改名或删除一个。"})
        seen.add(grade)
        last = i == len(bands)
        if last and low is not None:
            raise ValidationError(
                {"grade_bands": f"最后一个等次“{grade}”不设分数线（低于上一等次的都归入它）。"}
            )
        if not last:
            if not (_is_number(low) and 0 <= low <= 200):
                raise ValidationError({"grade_bands": f"等次“{grade}”须填写 0 到 200 之间的分数线。"})
            if previous is not None and low >= previous:
                raise ValidationError(
                    {"grade_bands": f"等次须从高到低排列，“{grade}”的分数线 {num(low)} 不低于上一等次。"}
                )
            previous = low
        out.append({"grade": grade, "min": low})
    return out


def validate_caps(caps: Any, *, codes: set[str] | None, grades: list[str]) -> list[dict]:
    """Caps [{indicator, below, max_grade, label}]; ``codes`` None skips the indicator check."""
    if caps in (None, ""):
        return []
    if not isinstance(caps, list):
        raise ValidationError({"caps": "等次上限规则应为列表。"})
    out = []
    for i, cap in enumerate(caps, start=1):
        if not isinstance(cap, dict):
            raise ValidationError({"caps": f"第 {i} 条等次上限规则格式不对。"})
        code = str(cap.get("indicator", "")).strip()
        below, grade = cap.get("below"), str(cap.get("max_grade", "")).strip()
        if codes is not None and code not in codes:
            raise ValidationError(
                {"caps": f"第 {i} 条等次上限规则引用的指标编号“{code}”不存在，请改为体系中的指标编号。"}
            )
        if not _is_number(below):
            raise ValidationError({"caps": f"第 {i} 条等次上限规则须填写数值界限（低于它时限制等次）。"})
        if grade not in grades:
            raise ValidationError(
                {"caps": f"第 {i} 条等次上限规则的等次“{grade}”不在等次划分中（{'、'.join(grades)}）。"}
            )
        label = (
            str(cap.get("label", "")).strip()[:100] or f"指标 {code} 低于 {num(below)} 时等次不高于“{grade}”"
        )
        out.append({"indicator": code, "below": below, "max_grade": grade, "label": label})
    return out


def _settings(*, grade_bands, caps, bonus_cap, self_share, missing_policy, codes) -> dict:
    bands = validate_grade_bands(grade_bands)
    if not (_is_number(bonus_cap) and 0 <= bonus_cap <= 100):
        raise ValidationError({"bonus_cap": "加分上限须在 0 到 100 之间（不设加分填 0）。"})
    if not (_is_number(self_share) and 0 <= self_share <= 1):
        raise ValidationError({"self_share": "自评占比须在 0 到 1 之间，例如 0.4 表示自评占 40%。"})
    if missing_policy not in MissingPolicy.values:
        raise ValidationError({"missing_policy": "请选择缺数处理方式。"})
    return {
        "grade_bands": bands,
        "caps": validate_caps(caps, codes=codes, grades=[b["grade"] for b in bands]),
        "bonus_cap": float(bonus_cap),
        "self_share": float(self_share),
        "missing_policy": missing_policy,
    }


# --- weights and the tree ------------------------------------------------------------------------


def _weights_of(indicators, weights: dict | None) -> dict[int, float]:
    """Local weights: ``weights`` ({id or str(id): w}) where given, else each indicator's own."""
    given = {int(k): float(v) for k, v in (weights or {}).items()}
    return {i.pk: given.get(i.pk, i.weight) for i in indicators}


def weight_errors(system: IndicatorSystem, weights: dict | None = None, *, indicators=None) -> list[str]:
    """One Chinese sentence per parent whose scored children's local weights do not sum to 1 (± 1e-6).

    ``weights`` ({indicator id: local weight}, e.g. a weight set's) overrides the indicators' own
    weights where it names them. Bonus and veto indicators carry no weight and are left out."""
    inds = list(indicators if indicators is not None else system.indicators.all())
    scored = [i for i in inds if i.kind == IndicatorKind.SCORED]
    w = _weights_of(scored, weights)
    by_parent: dict[int | None, list[Indicator]] = defaultdict(list)
    for ind in scored:
        by_parent[ind.parent_id].append(ind)
    names = {i.pk: i for i in inds}
    errors = [
        f"指标{_label(ind)}的权重 {num(w[ind.pk])} 无效，权重须为 0 到 1 之间的数。"
        for ind in scored
        if w[ind.pk] < 0 or not math.isfinite(w[ind.pk])
    ]
    if not scored:
        errors.append("体系中还没有计分指标，请先添加一级指标和二级指标。")
        return errors
    for parent_id in [None, *[i.pk for i in sorted(scored, key=lambda i: (i.order, i.code))]]:
        children = by_parent.get(parent_id)
        if not children:
            continue
        total = sum(w[c.pk] for c in children)
        if abs(total - 1) > TOLERANCE:
            where = "一级指标" if parent_id is None else f"{_label(names[parent_id])}的下级指标"
            errors.append(
                f"{where}的权重之和为 {num(total)}，应为 1，请调整"
                f"（{'、'.join(f'{c.code} {num(w[c.pk])}' for c in children)}）。"
            )
    return errors


@dataclass
class Row:
    """One line of the tree table: the indicator, its depth and its weights."""

    indicator: Indicator
    depth: int
    is_leaf: bool
    local_weight: float
    global_weight: float  # product of local weights down the path (0 for bonus/veto)
    summary: str
    metric_label: str = ""

    @property
    def points(self) -> float:
        """分值 on the 100-point table: global weight × 100 (to 6 decimals, so 6.000000001 shows as 6)."""
        return round(self.global_weight * 100, 6)

    @property
    def indent(self) -> range:
        return range(self.depth)


def ordered(indicators) -> list[tuple[Indicator, int]]:
    """Depth-first tree order (siblings by order, then code), with each node's depth (0 = level 1).

    Scored roots first, then bonus, then veto indicators."""
    children: dict[int | None, list[Indicator]] = defaultdict(list)
    for ind in indicators:
        children[ind.parent_id].append(ind)
    rank = {IndicatorKind.SCORED: 0, IndicatorKind.BONUS: 1, IndicatorKind.VETO: 2}
    for kids in children.values():
        kids.sort(key=lambda i: (rank.get(i.kind, 3), i.order, _code_key(i.code)))
    out: list[tuple[Indicator, int]] = []
    seen: set[int] = set()

    def walk(parent_id, depth):
        for ind in children.get(parent_id, []):
            if ind.pk in seen:  # a cycle cannot be saved, but never loop forever
                continue
            seen.add(ind.pk)
            out.append((ind, depth))
            walk(ind.pk, depth + 1)

    walk(None, 0)
    return out


def _code_key(code: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-]", code))


def tree(system: IndicatorSystem, weights: dict | None = None, *, indicators=None) -> list[Row]:
    """The indicator tree as table rows (one query unless ``indicators`` is given)."""
    inds = list(indicators if indicators is not None else system.indicators.all())
    w = _weights_of(inds, weights)
    has_children = {i.parent_id for i in inds if i.parent_id}
    metrics = allowed_metrics()
    rows, global_w = [], {}
    for ind, depth in ordered(inds):
        if ind.kind != IndicatorKind.SCORED:
            g = 0.0
        else:
            g = w[ind.pk] * (global_w.get(ind.parent_id, 1.0) if ind.parent_id else 1.0)
        global_w[ind.pk] = g
        leaf = ind.pk not in has_children
        metric = metrics.get(ind.metric_name) if ind.source == ValueSource.METRIC else None
        rows.append(
            Row(
                indicator=ind,
                depth=depth,
                is_leaf=leaf,
                local_weight=w[ind.pk] if ind.kind == IndicatorKind.SCORED else 0.0,
                global_weight=g,
                summary=rule_summary(ind, metric) if leaf else "",
                metric_label=metric.label if metric else "",
            )
        )
    return rows


def rule_summary(ind: Indicator, metric: core_metrics.Metric | None = None) -> str:
    """How a leaf is scored, in words."""
    unit = metric.unit if metric else ""
    unit = "" if unit in ("是/否",) else unit
    rule = ind.rule or {}
    if ind.kind == IndicatorKind.VETO:
        return "发生（取值大于 0）即定为最低等次。"
    if ind.kind == IndicatorKind.BONUS:
        per = rule.get("per_event", 1)
        each = "取值即加分分值" if per == 1 else f"每项加 {num(per)} 分"
        return f"{each}，最多加 {num(ind.max_score)} 分（体系加分合计另有上限）。"
    kind = ind.rule_kind
    if kind == RuleKind.DIRECT:
        return f"按评分计分：取值 0—{num(ind.max_score)} 分，折算为得分率。"
    if kind == RuleKind.LINEAR:
        zero, full = rule.get("zero_at"), rule.get("full_at")
        if not (_is_number(zero) and _is_number(full)):
            return "线性折算（参数不完整）。"
        if full > zero:
            return f"{num(full)}{unit} 及以上得满分，{num(zero)}{unit} 及以下得 0 分，其间按比例计分。"
        return (
            f"{num(full)}{unit} 及以下得满分，{num(zero)}{unit} 及以上得 0 分，其间按比例计分（越低越好）。"
        )
    if kind == RuleKind.DEDUCTION:
        per = rule.get("per_event")
        cap = rule.get("max_deduction")
        limit = f"最多扣 {num(min(cap, ind.max_score))} 分" if cap is not None else "扣完为止"
        return f"满分 {num(ind.max_score)} 分，每项扣 {num(per)} 分，{limit}。"
    if kind == RuleKind.BANDS:
        parts = []
        for band in rule.get("bands") or []:
            low = band.get("min")
            cond = "其余" if low is None else f"≥ {num(low)}{unit} "
            parts.append(f"{cond}得 {num(band.get('score'))}%")
        return "分档计分：" + "；".join(parts) + "。"
    return ""


# --- systems -------------------------------------------------------------------------------------


def load_data(kind: str) -> dict:
    """The shipped system of ``kind`` as stored in ``assess/data/<kind>.json``."""
    if kind not in BUILTIN_KINDS:
        raise ValidationError(
            {"kind": "内置体系只有“基层党组织分类定级”和“思想政治工作测评”两种，请从中选择。"}
        )
    return json.loads((DATA_DIR / f"{kind}.json").read_text(encoding="utf-8"))


def plan_from_points(items: list[dict]) -> list[dict]:
    """Flatten a points tree (``{"code", "points", "children": […]}``) into indicator rows with local weights.

    A scored level-1 indicator's weight is its points over the scored total; a child's is its
    points over its parent's (the sum of the children's points). Bonus and veto rows get weight 0
    and ``max_score`` = their points (bonus) or 1 (veto)."""
    scored = [i for i in items if i.get("kind", IndicatorKind.SCORED) == IndicatorKind.SCORED]
    total = sum(_points(i) for i in scored)
    out: list[dict] = []

    def add(item: dict, parent_code: str | None, parent_points: float, order: int) -> None:
        kind = item.get("kind", IndicatorKind.SCORED)
        pts = _points(item)
        children = item.get("children") or []
        row = {
            "code": item["code"],
            "name": item["name"],
            "parent": parent_code,
            "kind": kind,
            "order": order,
            "weight": (pts / parent_points if parent_points else 0.0)
            if kind == IndicatorKind.SCORED
            else 0.0,
            "key_points": item.get("key_points", ""),
            "method_text": item.get("method_text", ""),
            "source": item.get("source", ValueSource.ASSESSOR),
            "metric_name": item.get("metric_name", ""),
            "rule_kind": item.get("rule_kind", RuleKind.DIRECT),
            "rule": item.get("rule", {}),
            "max_score": item.get("max_score", 1 if kind == IndicatorKind.VETO else pts),
            "evidence_required": bool(item.get("evidence_required", False)),
        }
        if kind != IndicatorKind.SCORED:
            row["weight"] = 0.0
        out.append(row)
        for n, child in enumerate(children, start=1):
            add(child, item["code"], pts, n)

    for n, item in enumerate(items, start=1):
        add(item, None, total, n)
    return out


def _points(item: dict) -> float:
    children = item.get("children") or []
    if children:
        return float(sum(_points(c) for c in children))
    return float(item.get("points", 0) or 0)


def _create_tree(system: IndicatorSystem, rows: list[dict]) -> list[Indicator]:
    """Insert planned rows (parents before children) after checking each one; returns the indicators."""
    allowed = allowed_metrics()
    codes: set[str] = set()
    kinds: dict[str, str] = {}
    for row in rows:
        _check_fields(row, allowed=allowed)
        if row["code"] in codes:
            raise ValidationError({"code": f"编号“{row['code']}”重复了，请为每个指标设置不同的编号。"})
        codes.add(row["code"])
        parent = row.get("parent")
        if parent is not None and kinds.get(parent) != IndicatorKind.SCORED:
            raise ValidationError(
                {"parent": f"指标“{row['name']}”的上级指标“{parent}”不存在或不是计分指标。"}
            )
        if parent is not None and row["kind"] != IndicatorKind.SCORED:
            raise ValidationError({"kind": f"加分项和一票否决项只能放在第一层（“{row['name']}”）。"})
        kinds[row["code"]] = row["kind"]
    by_code: dict[str, Indicator] = {}
    created = []
    for row in rows:
        fields = {k: v for k, v in row.items() if k != "parent"}
        ind = Indicator(system=system, parent=by_code.get(row.get("parent") or ""), **fields)
        ind.save()
        by_code[ind.code] = ind
        created.append(ind)
    return created


@transaction.atomic
def builtin(kind: str, year: int, *, actor, owner_org=None, publish: bool = True) -> IndicatorSystem:
    """Create the shipped ``classify`` or ``thought`` system for ``year`` (published unless told not to).

    Each call makes a new version (number) of the system for that year."""
    data = load_data(kind)
    _check_year(year)
    rows = plan_from_points(data["indicators"])
    codes = {r["code"] for r in rows}
    settings = _settings(
        grade_bands=data.get("grade_bands") or default_bands(),
        caps=data.get("caps", []),
        bonus_cap=data.get("bonus_cap", 5),
        self_share=data.get("self_share", 0.4),
        missing_policy=data.get("missing_policy", MissingPolicy.REDISTRIBUTE),
        codes=codes,
    )
    system = IndicatorSystem.objects.create(
        name=data["name"],
        kind=kind,
        year=year,
        number=next_number(data["name"], year),
        description=data.get("description", ""),
        owner_org=owner_org,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **settings,
    )
    inds = _create_tree(system, rows)
    problems = publication_problems(system, indicators=inds)
    if problems:  # the shipped data is wrong: never ship a broken system
        raise ValidationError(problems)
    if publish:
        system.state = SystemState.PUBLISHED
        system.save(update_fields=["state"])
    audit.record(
        actor, "assess_system_builtin", system, {"kind": kind, "year": year, "indicators": len(inds)}
    )
    return system


@transaction.atomic
def create_system(
    *,
    actor,
    name: str,
    year: int,
    kind: str = SystemKind.CUSTOM,
    description: str = "",
    grade_bands=None,
    caps=None,
    bonus_cap: float = 5,
    self_share: float = 0.4,
    missing_policy: str = MissingPolicy.REDISTRIBUTE,
    owner_org=None,
) -> IndicatorSystem:
    """A new, empty draft system (its indicators are added one by one or imported)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写体系名称。"})
    if kind not in SystemKind.values:
        raise ValidationError({"kind": "请选择体系类型。"})
    _check_year(year)
    settings = _settings(
        grade_bands=grade_bands or default_bands(),
        caps=caps or [],
        bonus_cap=bonus_cap,
        self_share=self_share,
        missing_policy=missing_policy,
        codes=set(),
    )
    system = IndicatorSystem.objects.create(
        name=name[:100],
        kind=kind,
        year=year,
        number=next_number(name, year),
        description=description or "",
        owner_org=owner_org,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **settings,
    )
    audit.record(actor, "assess_system_create", system, {"year": year, "kind": kind})
    return system


SYSTEM_FIELDS = ("name", "description", "grade_bands", "caps", "bonus_cap", "self_share", "missing_policy")


@transaction.atomic
def update_system(system: IndicatorSystem, *, actor, version: int | None, **fields) -> IndicatorSystem:
    """Change a draft system's name, description, grade bands, caps, bonus cap, self share or missing policy."""
    unknown = set(fields) - set(SYSTEM_FIELDS)
    if unknown:
        raise ValidationError(f"不能修改这些项：{'、'.join(sorted(unknown))}。")
    fresh = _locked(system, version)
    _require_draft(fresh)
    name = str(fields.get("name", fresh.name) or "").strip()
    if not name:
        raise ValidationError({"name": "请填写体系名称。"})
    if (
        name != fresh.name
        and IndicatorSystem.objects.filter(name=name, year=fresh.year, number=fresh.number).exists()
    ):
        raise ValidationError({"name": f"{fresh.year} 年已有同名体系的第 {fresh.number} 版，请换一个名称。"})
    codes = set(fresh.indicators.values_list("code", flat=True))
    settings = _settings(
        grade_bands=fields.get("grade_bands", fresh.grade_bands),
        caps=fields.get("caps", fresh.caps),
        bonus_cap=fields.get("bonus_cap", fresh.bonus_cap),
        self_share=fields.get("self_share", fresh.self_share),
        missing_policy=fields.get("missing_policy", fresh.missing_policy),
        codes=codes,
    )
    changed = [k for k in SYSTEM_FIELDS if k in fields and fields[k] != getattr(fresh, k)]
    _bump(fresh, name=name[:100], description=fields.get("description", fresh.description) or "", **settings)
    audit.record(actor, "assess_system_update", fresh, {"fields": changed})
    system.refresh_from_db()
    return fresh


@transaction.atomic
def copy_as_new_version(system: IndicatorSystem, *, actor, year: int | None = None) -> IndicatorSystem:
    """A draft copy of ``system`` (its indicators, rules, bands and caps) for ``year`` (default: the
    same year), numbered after the versions that year already has; ``based_on`` the original.

    Weight sets are not copied: they belong to the version they were made for."""
    year = system.year if year is None else year
    _check_year(year)
    copy = IndicatorSystem.objects.create(
        name=system.name,
        kind=system.kind,
        year=year,
        number=next_number(system.name, year),
        description=system.description,
        grade_bands=system.grade_bands,
        caps=system.caps,
        bonus_cap=system.bonus_cap,
        self_share=system.self_share,
        missing_policy=system.missing_policy,
        based_on=system,
        owner_org=system.owner_org,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    new_ids: dict[int, Indicator] = {}
    for ind, _depth in ordered(system.indicators.all()):
        clone = Indicator(
            system=copy,
            parent=new_ids.get(ind.parent_id) if ind.parent_id else None,
            **{f: getattr(ind, f) for f in INDICATOR_FIELDS},
        )
        clone.save()
        new_ids[ind.pk] = clone
    audit.record(
        actor, "assess_system_copy", copy, {"from": system.pk, "year": year, "indicators": len(new_ids)}
    )
    return copy


def publication_problems(system: IndicatorSystem, *, indicators=None) -> list[str]:
    """Everything that keeps a system from being published, as sentences (empty = ready)."""
    inds = list(indicators if indicators is not None else system.indicators.all())
    problems = weight_errors(system, indicators=inds)
    allowed = allowed_metrics()
    parents = {i.parent_id for i in inds if i.parent_id}
    for ind in inds:
        if ind.pk in parents:
            continue
        if ind.source == ValueSource.METRIC and ind.metric_name not in allowed:
            problems.append(
                f"指标{_label(ind)}的自动取数指标“{ind.metric_name}”不存在或不能用于考核，请重新选择。"
            )
        try:
            validate_rule(ind.kind, ind.rule_kind, ind.rule)
        except ValidationError as exc:
            problems.append(f"指标{_label(ind)}：{'；'.join(exc.messages)}")
    try:
        validate_caps(
            system.caps,
            codes={i.code for i in inds},
            grades=[b.get("grade") for b in system.grade_bands or []],
        )
    except ValidationError as exc:
        problems.extend(exc.messages)
    return problems


@transaction.atomic
def publish(system: IndicatorSystem, *, actor, version: int | None) -> IndicatorSystem:
    """Draft → published; refused while :func:`publication_problems` finds anything (weights first)."""
    fresh = _locked(system, version)
    if fresh.state != SystemState.DRAFT:
        raise ValidationError(f"{fresh}已{fresh.get_state_display()}，只有草稿可以发布。")
    problems = publication_problems(fresh)
    if problems:
        raise ValidationError(["体系还不能发布：", *problems])
    _bump(fresh, state=SystemState.PUBLISHED)
    audit.record(actor, "assess_system_publish", fresh, {})
    system.refresh_from_db()
    return fresh


@transaction.atomic
def archive(system: IndicatorSystem, *, actor, version: int | None) -> IndicatorSystem:
    """Published → archived (停用): no new rounds use it; existing rounds keep it."""
    fresh = _locked(system, version)
    if fresh.state != SystemState.PUBLISHED:
        raise ValidationError("只有已发布的体系可以停用。")
    _bump(fresh, state=SystemState.ARCHIVED)
    audit.record(actor, "assess_system_archive", fresh, {})
    system.refresh_from_db()
    return fresh


# --- indicators ----------------------------------------------------------------------------------

INDICATOR_FIELDS = (
    "code",
    "name",
    "kind",
    "order",
    "weight",
    "key_points",
    "method_text",
    "source",
    "metric_name",
    "rule_kind",
    "rule",
    "max_score",
    "evidence_required",
)


def _check_fields(f: dict, *, allowed: dict) -> dict:
    """Validate (and clean, in place) one indicator's fields; raises with a field → message dict."""
    code = str(f.get("code", "")).strip()
    if not CODE_RE.match(code):
        raise ValidationError(
            {"code": "编号由字母、数字、点或短横线组成，不超过 20 个字符，例如 1、1.2、B1、V1。"}
        )
    f["code"] = code
    name = str(f.get("name", "")).strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": "请填写指标名称（不超过 100 个字）。"})
    f["name"] = name
    kind = f.get("kind") or IndicatorKind.SCORED
    if kind not in IndicatorKind.values:
        raise ValidationError({"kind": "请选择类别：计分指标、加分项或一票否决项。"})
    f["kind"] = kind
    weight = f.get("weight", 0)
    if kind == IndicatorKind.SCORED:
        if not (_is_number(weight) and 0 <= weight <= 1):
            raise ValidationError({"weight": "权重须在 0 到 1 之间（同一上级的各指标权重之和为 1）。"})
        f["weight"] = float(weight)
    else:
        f["weight"] = 0.0
    source = f.get("source") or ValueSource.ASSESSOR
    if source not in ValueSource.values:
        raise ValidationError({"source": "请选择取值来源。"})
    f["source"] = source
    metric_name = str(f.get("metric_name") or "").strip()
    if source == ValueSource.METRIC:
        if kind == IndicatorKind.VETO:
            raise ValidationError({"source": "一票否决项须由考核组认定，不能自动取数。"})
        if not metric_name:
            raise ValidationError({"metric_name": "自动取数的指标须选择平台中的统计指标。"})
        if metric_name not in allowed:
            raise ValidationError(
                {
                    "metric_name": f"统计指标“{metric_name}”不存在或其数据敏感级别不允许用于考核，请从列表中选择。"
                }
            )
    else:
        metric_name = ""
    f["metric_name"] = metric_name
    rule_kind = f.get("rule_kind") or RuleKind.DIRECT
    if rule_kind not in RuleKind.values:
        raise ValidationError({"rule_kind": "请选择计分方式：直接评分、线性折算、按事项扣分或分档计分。"})
    f["rule_kind"] = rule_kind
    f["rule"] = validate_rule(kind, rule_kind, f.get("rule"))
    max_score = f.get("max_score", 100)
    if not (_is_number(max_score) and 0 < max_score <= 1000):
        raise ValidationError({"max_score": "满分须为大于 0 的数（不超过 1000）。"})
    f["max_score"] = float(max_score)
    order = f.get("order", 0)
    if not isinstance(order, int) or isinstance(order, bool) or not 0 <= order <= 32767:
        raise ValidationError({"order": "排序须为 0 到 32767 之间的整数。"})
    f["evidence_required"] = bool(f.get("evidence_required", False))
    f["key_points"] = str(f.get("key_points") or "")
    f["method_text"] = str(f.get("method_text") or "")
    return f


def _descendant_ids(indicator: Indicator) -> set[int]:
    pairs = list(Indicator.objects.filter(system_id=indicator.system_id).values_list("pk", "parent_id"))
    kids: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent in pairs:
        kids[parent].append(pk)
    out, stack = set(), [indicator.pk]
    while stack:
        for child in kids.get(stack.pop(), []):
            if child not in out:
                out.add(child)
                stack.append(child)
    return out


@transaction.atomic
def save_indicator(
    system: IndicatorSystem,
    *,
    actor,
    version: int | None,
    indicator: Indicator | None = None,
    parent: Indicator | None = None,
    **fields,
) -> Indicator:
    """Add (``indicator`` None) or change an indicator of a draft system.

    ``fields`` are the Indicator fields (``INDICATOR_FIELDS``); omitted ones keep their value
    (or the model default). Checks the rule against its kind, the metric against the list
    assessment may read, the code's uniqueness and the tree's shape; a changed code is renamed in
    the system's caps as well. Bumps the system's version."""
    unknown = set(fields) - set(INDICATOR_FIELDS)
    if unknown:
        raise ValidationError(f"未知的指标字段：{'、'.join(sorted(unknown))}。")
    fresh = _locked(system, version)
    _require_draft(fresh)
    if indicator is not None and indicator.system_id != fresh.pk:
        raise ValidationError("该指标不属于这个体系。")
    base = {f: getattr(indicator, f) for f in INDICATOR_FIELDS} if indicator is not None else {}
    data = {**base, **fields}
    _check_fields(data, allowed=allowed_metrics())
    kind = data["kind"]
    if parent is not None:
        if parent.system_id != fresh.pk:
            raise ValidationError({"parent": "上级指标须是本体系的指标。"})
        if parent.kind != IndicatorKind.SCORED:
            raise ValidationError({"parent": "加分项和一票否决项下面不能再设指标，请选择计分指标作为上级。"})
        if kind != IndicatorKind.SCORED:
            raise ValidationError(
                {"kind": "加分项和一票否决项只能放在第一层，请把上级指标选为“无（一级指标）”。"}
            )
        if indicator is not None and (parent.pk == indicator.pk or parent.pk in _descendant_ids(indicator)):
            raise ValidationError({"parent": "不能把指标放到它自己或它的下级指标下面。"})
    if indicator is not None and kind != IndicatorKind.SCORED and indicator.children.exists():
        raise ValidationError(
            {"kind": "这个指标有下级指标，不能改为加分项或一票否决项；请先删除或移走下级指标。"}
        )
    clash = Indicator.objects.filter(system=fresh, code=data["code"])
    if indicator is not None:
        clash = clash.exclude(pk=indicator.pk)
    taken = clash.first()
    if taken is not None:
        raise ValidationError({"code": f"编号“{data['code']}”已被指标“{taken.name}”使用，请换一个编号。"})
    if indicator is None and "order" not in fields:
        top = Indicator.objects.filter(system=fresh, parent=parent).aggregate(n=Max("order"))["n"]
        data["order"] = (top or 0) + 1
    old_code = indicator.code if indicator is not None else None
    target = indicator or Indicator(system=fresh)
    for name, value in data.items():
        setattr(target, name, value)
    target.parent = parent
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:
        raise ValidationError({"code": f"编号“{data['code']}”已被使用，请换一个编号。"}) from None
    extra: dict[str, Any] = {}
    if old_code is not None and old_code != target.code and fresh.caps:
        caps = [{**c, "indicator": target.code} if c.get("indicator") == old_code else c for c in fresh.caps]
        extra["caps"] = caps
    _bump(fresh, **extra)
    changed = sorted(k for k in fields if base.get(k) != data.get(k)) if indicator is not None else []
    audit.record(
        actor,
        "assess_indicator_update" if indicator is not None else "assess_indicator_create",
        target,
        {"system": fresh.pk, "fields": changed},
    )
    system.refresh_from_db()
    return target


@transaction.atomic
def delete_indicator(indicator: Indicator, *, actor, version: int | None) -> list[str]:
    """Delete an indicator of a draft system with all its sub-indicators; returns the deleted codes.

    Caps naming a deleted indicator are dropped from the system as well."""
    fresh = _locked(indicator.system, version)
    _require_draft(fresh)
    ids = {indicator.pk, *_descendant_ids(indicator)}
    codes = list(
        Indicator.objects.filter(pk__in=ids).order_by("order", "code").values_list("code", flat=True)
    )
    Indicator.objects.filter(pk__in=ids).delete()
    caps = [c for c in fresh.caps or [] if c.get("indicator") not in codes]
    _bump(fresh, caps=caps)
    audit.record(
        actor,
        "assess_indicator_delete",
        ("assess.indicator", indicator.pk),
        {"system": fresh.pk, "codes": codes},
    )
    indicator.system.refresh_from_db()
    return codes
