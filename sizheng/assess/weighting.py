"""Weight sets of an indicator system: direct weights, expert pairwise judgments (AHP), entropy
weights from a computed round, and combinations of two sets (测评体系 · 赋权).

A weight set holds the **local** weight of every scored indicator ({str(id): w}, each parent's
children summing to 1); the global weight of a leaf is the product down its path. Only scored
indicators take part: bonus and veto indicators sit outside the weights.

Expert weighting: a committee admin opens a session for a system and invites experts (users holding
the expert role; they may have no roster ``Person``). There is one comparison form per *parent*
(:func:`parents`): the top level, then every inner indicator with at least 2 scored children.
An expert answers the n(n−1)/2 pairs of a form on Saaty's 1–9 scale, may save incomplete forms
(the missing cells are completed by λmax minimisation, ``methods.ahp_from_pairs``) and resume, and
hands a form in once every pair is answered and CR < the session's threshold — or with an explicit
"仍然提交", which is recorded (``Judgment.consistent`` stays False). :func:`check` is the live
feedback of the form: CR, λmax, weights and, when inconsistent, the judgment to reconsider
(``methods.inconsistency_hint``). :func:`aggregate` combines the submitted forms per parent by AIJ
(element-wise geometric mean), runs AHP on the result and closes the session.

Every write is audited; every refusal is a ``ValidationError`` with one Chinese sentence.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from sizheng.assess import methods, systems
from sizheng.assess.models import (
    Assessment,
    Indicator,
    IndicatorKind,
    IndicatorSystem,
    Judgment,
    RoundState,
    SessionState,
    SystemState,
    WeightingSession,
    WeightMethod,
    WeightSet,
)
from sizheng.core import audit, notify
from sizheng.core.models import Role, RoleGrant, User

SUM_TOL = 1e-6
#: Forms of more elements than the RI tables cover cannot be checked for consistency.
MAX_CHILDREN = 15

# --- Saaty's scale in words ---------------------------------------------------------------------

#: (value, word) for the values ≥ 1, strongest first; the reciprocals mean "B over A".
SCALE_WORDS: tuple[tuple[int, str], ...] = (
    (9, "极端重要"),
    (8, "介于强烈重要与极端重要之间"),
    (7, "强烈重要"),
    (6, "介于明显重要与强烈重要之间"),
    (5, "明显重要"),
    (4, "介于稍微重要与明显重要之间"),
    (3, "稍微重要"),
    (2, "介于同等重要与稍微重要之间"),
    (1, "同等重要"),
)
#: The 17 codes of the scale, from "A 极端重要" (9) to "B 极端重要" (1/9).
SCALE_CODES: tuple[str, ...] = (
    *(str(v) for v, _ in SCALE_WORDS),
    *(f"1/{v}" for v, _ in reversed(SCALE_WORDS[:-1])),
)

RI_TABLE_LABELS = {
    "saaty_cn": "国内教材通用表（默认）",
    "saaty1980": "Saaty（1980）",
    "saaty2005": "Saaty（2005）",
    "gong_xu": "龚木森、许树柏（1986）",
    "donegan_dodd": "Donegan 与 Dodd（1991）",
    "tummala_ling": "Tummala 与 Ling（1998）",
    "alonso_lamata": "Alonso 与 Lamata（2006）",
}
PRIORITY_LABELS = {
    "eigenvector": "特征向量法（默认）",
    "rgmm": "方根法（行几何平均）",
    "colnorm": "和积法（列归一化平均）",
}
COMBINE_LABELS = {
    "linear": "线性加权：α × 主观 +（1 − α）× 客观",
    "multiplicative": "乘法合成：主观 × 客观后归一化",
    "min_relative_entropy": "最小相对信息熵：√(主观 × 客观) 后归一化",
    "game_theory": "博弈论组合赋权（自动求组合系数）",
}
VARIANT_LABELS = {"minmax": "先按极差标准化（默认）", "raw": "直接使用得分"}


def parse_scale(code: str) -> float:
    """The value of a scale code ("3", "1/5"); ValidationError for anything off the scale."""
    code = str(code).strip()
    if code not in SCALE_CODES:
        raise ValidationError(f"“{code}”不是 1–9 标度上的值，请从下拉列表中选择。")
    if code.startswith("1/"):
        return 1.0 / int(code[2:])
    return float(code)


def scale_code(value: float) -> str:
    """The code of a value on the scale (the nearest one in log space)."""
    best = min(SCALE_CODES, key=lambda c: abs(math.log(parse_scale(c)) - math.log(value)))
    return best


def scale_label(value: float | str, a: str, b: str) -> str:
    """A value in words: "A 稍微重要（3）", "同等重要（1）", "B 明显重要（1/5）"."""
    code = value if isinstance(value, str) else scale_code(value)
    if code == "1":
        return "同等重要（1）"
    k = int(code[2:]) if code.startswith("1/") else int(code)
    word = dict(SCALE_WORDS)[k]
    return f"{b} {word}（{code}）" if code.startswith("1/") else f"{a} {word}（{code}）"


# --- the tree ----------------------------------------------------------------------------------


def scored(system: IndicatorSystem) -> list[Indicator]:
    """The scored indicators of a system in tree order (each parent's children by order, then id)."""
    rows = list(system.indicators.filter(kind=IndicatorKind.SCORED).order_by("order", "id"))
    by_parent: dict[int | None, list[Indicator]] = {}
    for ind in rows:
        by_parent.setdefault(ind.parent_id, []).append(ind)
    out: list[Indicator] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for ind in by_parent.get(parent_id, []):
            ind.depth = depth  # type: ignore[attr-defined]
            out.append(ind)
            walk(ind.pk, depth + 1)

    walk(None, 0)
    return out


def children_map(indicators: Iterable[Indicator]) -> dict[int | None, list[Indicator]]:
    """Scored children by parent id (None = the top level), in the given (tree) order."""
    out: dict[int | None, list[Indicator]] = {}
    for ind in indicators:
        out.setdefault(ind.parent_id, []).append(ind)
    return out


def parents(system: IndicatorSystem) -> list[Indicator | None]:
    """The comparison forms of a system: None (the top level) then every inner indicator with at
    least 2 scored children, in tree order. A level with a single indicator needs no comparison
    (its local weight is 1), so it has no form — not even the top level."""
    tree = scored(system)
    kids = children_map(tree)
    out: list[Indicator | None] = []
    if len(kids.get(None, [])) >= 2:
        out.append(None)
    out.extend(ind for ind in tree if len(kids.get(ind.pk, [])) >= 2)
    return out


def parent_name(parent: Indicator | None) -> str:
    return "一级指标" if parent is None else f"{parent.code} {parent.name}"


def _weight_errors(system: IndicatorSystem, weights: dict[int, float]) -> list[str]:
    """Each parent's scored children must sum to 1 (± 1e-6): the systems area's rule."""
    return list(systems.weight_errors(system, weights))


def global_weights(system: IndicatorSystem, local: dict[int, float]) -> dict[int, float]:
    """Every scored indicator's global weight: the product of the local weights down its path."""
    out: dict[int, float] = {}
    for ind in scored(system):
        base = 1.0 if ind.parent_id is None else out.get(ind.parent_id, 0.0)
        out[ind.pk] = base * local.get(ind.pk, 0.0)
    return out


def local_of(weight_set: WeightSet) -> dict[int, float]:
    return {int(k): float(v) for k, v in weight_set.weights.items()}


def weight_table(weight_set: WeightSet) -> list[dict[str, Any]]:
    """The rows of a weight set's page: every scored indicator, its depth, local and global weight."""
    system = weight_set.system
    local = local_of(weight_set)
    glob = global_weights(system, local)
    kids = children_map(scored(system))
    return [
        {
            "indicator": ind,
            "depth": ind.depth,  # type: ignore[attr-defined]
            "local": local.get(ind.pk),
            "global": glob.get(ind.pk),
            "points": glob.get(ind.pk, 0.0) * 100,
            "leaf": ind.pk not in kids,
        }
        for ind in scored(system)
    ]


def _next_number(system: IndicatorSystem) -> int:
    top = WeightSet.objects.filter(system=system).aggregate(m=Max("number"))["m"]
    return (top or 0) + 1


def _create_set(
    system: IndicatorSystem,
    *,
    actor,
    name: str,
    method: str,
    weights: dict[int, float],
    params: dict | None = None,
    details: dict | None = None,
    sources: Sequence[WeightSet] = (),
) -> WeightSet:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写权重方案的名称。"})
    errors = _weight_errors(system, weights)
    if errors:
        raise ValidationError(errors)
    ws = WeightSet.objects.create(
        system=system,
        number=_next_number(system),
        name=name[:100],
        method=method,
        params=params or {},
        weights={str(k): float(v) for k, v in weights.items()},
        details=details or {},
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if sources:
        ws.sources.set(sources)
    audit.record(
        actor, "assess_weightset_create", ws, {"method": method, "number": ws.number, "system": system.pk}
    )
    return ws


def _refuse_archived(system: IndicatorSystem) -> None:
    if system.state == SystemState.ARCHIVED:
        raise ValidationError("该指标体系已停用，不能再为它新建权重方案或专家赋权。")


# --- direct weights ----------------------------------------------------------------------------


@transaction.atomic
def save_direct(system: IndicatorSystem, weights: dict[int, float], *, actor, name: str) -> WeightSet:
    """A weight set typed in directly: a local weight for every scored indicator."""
    _refuse_archived(system)
    tree = scored(system)
    if not tree:
        raise ValidationError("该指标体系还没有计分指标，请先添加指标。")
    clean: dict[int, float] = {}
    for ind in tree:
        value = weights.get(ind.pk)
        if value is None:
            raise ValidationError(f"请填写「{ind.code} {ind.name}」的权重。")
        value = float(value)
        if not math.isfinite(value) or value < 0 or value > 1:
            raise ValidationError(f"「{ind.code} {ind.name}」的权重应在 0 到 1 之间。")
        clean[ind.pk] = value
    return _create_set(system, actor=actor, name=name, method=WeightMethod.DIRECT, weights=clean)


# --- expert sessions ---------------------------------------------------------------------------


def experts_qs():
    """Users who hold the expert role today (any scope)."""
    today = timezone.localdate()
    ids = RoleGrant.objects.in_force(today).filter(role=Role.EXPERT).values("user_id")
    return User.objects.filter(pk__in=ids, is_active=True).order_by("display_name", "username")


def _check_options(ri_table: str, priority: str, threshold: float) -> None:
    if ri_table not in methods.RI_TABLES:
        raise ValidationError({"ri_table": "请选择列表中的 RI 表。"})
    if priority not in methods.PRIORITY_METHODS:
        raise ValidationError({"priority": "请选择列表中的排序向量算法。"})
    if not (isinstance(threshold, int | float) and 0 < float(threshold) <= 1):
        raise ValidationError({"threshold": "一致性比率阈值应大于 0 且不超过 1（通常为 0.1）。"})


@transaction.atomic
def create_session(
    system: IndicatorSystem,
    *,
    actor,
    title: str,
    experts: list[User],
    due_on=None,
    ri_table: str = "saaty_cn",
    priority: str = "eigenvector",
    threshold: float = 0.1,
    instructions: str = "",
) -> WeightingSession:
    """Open a weighting session and invite the experts (each is notified)."""
    _refuse_archived(system)
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "请填写专家赋权的名称。"})
    _check_options(ri_table, priority, threshold)
    experts = list(dict.fromkeys(experts))
    if not experts:
        raise ValidationError({"experts": "请至少邀请一位专家。"})
    allowed = set(experts_qs().filter(pk__in=[u.pk for u in experts]).values_list("pk", flat=True))
    strangers = [str(u) for u in experts if u.pk not in allowed]
    if strangers:
        raise ValidationError(
            {"experts": f"{'、'.join(strangers)} 没有专家角色，不能邀请；请先由安全管理员授予专家角色。"}
        )
    if due_on is not None and due_on < timezone.localdate():
        raise ValidationError({"due_on": "截止日期不能早于今天。"})
    forms = parents(system)
    if not forms:
        raise ValidationError(
            "该指标体系没有需要两两比较的指标（同一级至少要有 2 个计分指标），无需专家赋权。"
        )
    kids = children_map(scored(system))
    too_many = [p for p in forms if len(kids[p.pk if p else None]) > MAX_CHILDREN]
    if too_many:
        raise ValidationError(
            f"「{parent_name(too_many[0])}」下有超过 {MAX_CHILDREN} 个指标，无法检验一致性；请先把它们分组。"
        )
    session = WeightingSession.objects.create(
        system=system,
        title=title[:100],
        instructions=instructions or "",
        due_on=due_on,
        ri_table=ri_table,
        priority=priority,
        threshold=float(threshold),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    session.experts.set(experts)
    audit.record(actor, "assess_session_create", session,
                 {"system": system.pk, "experts": len(experts), "forms": len(forms)})  # fmt: skip
    from django.urls import reverse

    due = f"，请于 {due_on:%Y年%m月%d日} 前完成" if due_on else ""
    notify.notify(
        experts,
        title=f"邀请您参加专家赋权：{title}",
        body=f"请对「{system}」的指标两两比较重要性，共 {len(forms)} 张表{due}。",
        url=reverse("assess:session", args=[session.pk]),
    )
    return session


def _parent_of(session: WeightingSession, parent: Indicator | None) -> Indicator | None:
    ids = [p.pk if p else None for p in parents(session.system)]
    key = parent.pk if parent is not None else None
    if key not in ids:
        raise ValidationError("该指标不需要两两比较，或不属于本次专家赋权的指标体系。")
    return parent


def elements_of(session_or_system, parent: Indicator | None) -> list[Indicator]:
    system = (
        session_or_system.system if isinstance(session_or_system, WeightingSession) else session_or_system
    )
    return children_map(scored(system)).get(parent.pk if parent else None, [])


def all_pairs(elements: Sequence[Indicator]) -> list[tuple[Indicator, Indicator]]:
    """The n(n−1)/2 pairs of a form, in reading order (A with each later one)."""
    return [(a, b) for k, a in enumerate(elements) for b in elements[k + 1 :]]


def _clean_pairs(elements: Sequence[Indicator], pairs: Iterable[Sequence[Any]]) -> list[list]:
    """[[a_id, b_id, value], …] with ids among ``elements``, values on the scale, one per pair."""
    ids = {e.pk for e in elements}
    seen: set[frozenset[int]] = set()
    out: list[list] = []
    for pair in pairs:
        a, b, value = int(pair[0]), int(pair[1]), pair[2]
        if a not in ids or b not in ids or a == b:
            raise ValidationError("比较中含有不属于这张表的指标，请刷新页面后重新填写。")
        v = parse_scale(value) if isinstance(value, str) else float(value)
        if not any(abs(v - parse_scale(c)) <= 1e-9 * max(1, v) for c in SCALE_CODES):
            raise ValidationError(f"判断值 {v:g} 不在 1–9 标度上，请从下拉列表中选择。")
        key = frozenset((a, b))
        if key in seen:
            raise ValidationError("同一对指标只能比较一次，请刷新页面后重新填写。")
        seen.add(key)
        out.append([a, b, v])
    return out


def check(
    elements: Sequence[Any],
    pairs: Iterable[Sequence[Any]],
    *,
    ri_table: str = "saaty_cn",
    priority: str = "eigenvector",
    threshold: float = 0.1,
    labels: dict[Any, str] | None = None,
) -> dict[str, Any]:
    """The live feedback of a comparison form (nothing is stored).

    ``elements`` are keys, ``pairs`` (a, b, value) "a over b" by those keys (possibly incomplete).
    Returns answered/total/complete, ``cr``, ``lambda_max``, ``consistent`` (CR < threshold),
    ``weights`` {key: w} (None until the answered pairs connect every element), ``hint``
    {a, b, current, suggested} when inconsistent — the given judgment that deviates most from the
    ratio of the priorities, with the ratio snapped to the scale — and ``error``, a sentence saying
    what to do when no CR can be computed yet.
    """
    keys = [str(e) for e in elements]
    given = [(str(a), str(b), float(v)) for a, b, v in pairs]
    n = len(keys)
    total = n * (n - 1) // 2
    out: dict[str, Any] = {
        "answered": len(given),
        "total": total,
        "complete": len(given) >= total,
        "cr": None,
        "lambda_max": None,
        "consistent": False,
        "weights": None,
        "hint": None,
        "error": None,
        "threshold": threshold,
    }
    if not given:
        out["error"] = "尚未填写任何比较。请从第一行开始，逐项选择两个指标哪个更重要、重要多少。"
        return out
    try:
        result = methods.ahp_from_pairs(
            keys, given, priority=priority, ri_table=ri_table, threshold=threshold
        )
    except methods.MethodError as exc:
        if "不连通" in exc.message:
            names = labels or {}
            linked = {a for a, _, _ in given} | {b for _, b, _ in given}
            lonely = [names.get(k, k) for k in keys if k not in linked]
            tail = f"（还没有与任何指标比较过的：{'、'.join(lonely)}）" if lonely else ""
            out["error"] = (
                f"已填的比较还不能把所有指标联系起来，暂时算不出权重{tail}。请继续填写，"
                "每个指标至少要与其他指标比较一次。"
            )
        else:
            out["error"] = exc.message
        return out
    out.update(
        cr=result.cr,
        lambda_max=result.lambda_max,
        consistent=result.consistent,
        weights=dict(zip(keys, result.weights, strict=True)),
    )
    if not result.consistent:
        index = {k: i for i, k in enumerate(keys)}
        cells = [(index[a], index[b]) for a, b, _ in given]
        hint = methods.inconsistency_hint(result.matrix, result.weights, cells=cells)
        if hint is not None:
            i, j, current, suggested = hint
            out["hint"] = {"a": keys[i], "b": keys[j], "current": current, "suggested": suggested}
    return out


def check_form(session: WeightingSession, parent: Indicator | None, pairs: Iterable[Sequence[Any]]) -> dict:
    """:func:`check` for a session's form, keyed by indicator id, with the words of the hint."""
    elements = elements_of(session, parent)
    names = {str(e.pk): e.name for e in elements}
    result = check(
        [e.pk for e in elements],
        pairs,
        ri_table=session.ri_table,
        priority=session.priority,
        threshold=session.threshold,
        labels=names,
    )
    if result["weights"] is not None:
        result["bars"] = [
            {"indicator": e, "weight": w, "percent": 100 * w}
            for e in elements
            for w in [result["weights"][str(e.pk)]]
        ]
    hint = result["hint"]
    if hint is not None:
        a, b = names[hint["a"]], names[hint["b"]]
        hint.update(
            a_name=a,
            b_name=b,
            field=f"p_{hint['a']}_{hint['b']}",
            current_code=scale_code(hint["current"]),
            suggested_code=scale_code(hint["suggested"]),
            current_label=scale_label(hint["current"], a, b),
            suggested_label=scale_label(hint["suggested"], a, b),
        )
    return result


@transaction.atomic
def save_judgment(
    session: WeightingSession,
    *,
    expert,
    parent: Indicator | None,
    pairs: Iterable[Sequence[Any]],
    submit: bool,
    accept_inconsistent: bool = False,
) -> Judgment:
    """Save (``submit=False``: a draft that may be incomplete) or hand in an expert's form.

    Handing in needs every pair answered and CR < the session's threshold, unless
    ``accept_inconsistent`` (the expert ticked "仍然提交"): then ``consistent`` stays False on the
    record. Saving a draft of a handed-in form takes it back (it must be handed in again)."""
    session = WeightingSession.objects.select_for_update().get(pk=session.pk)
    if session.state != SessionState.OPEN:
        raise ValidationError("本次专家赋权已经结束，不能再修改判断。")
    if not session.experts.filter(pk=expert.pk).exists():
        raise ValidationError("您没有受邀参加本次专家赋权。")
    parent = _parent_of(session, parent)
    elements = elements_of(session, parent)
    clean = _clean_pairs(elements, pairs)
    result = check_form(session, parent, clean)
    if submit:
        answered = {frozenset((a, b)) for a, b, _ in clean}
        missing = [(a, b) for a, b in all_pairs(elements) if frozenset((a.pk, b.pk)) not in answered]
        if missing:
            first = "、".join(f"「{a.name} 与 {b.name}」" for a, b in missing[:3])
            more = f"等 {len(missing)} 项" if len(missing) > 3 else ""
            raise ValidationError(
                f"还有 {first}{more}比较未填写，全部填写后才能提交；也可以先保存，稍后继续。"
            )
        if not result["consistent"] and not accept_inconsistent:
            raise ValidationError(
                f"一致性比率 CR = {result['cr']:.4f}，未达到小于 {session.threshold:g} 的要求。"
                "请按提示调整判断后再提交；如确认判断无误，请勾选“仍然提交”。"
            )
    judgment, _ = Judgment.objects.get_or_create(session=session, expert=expert, parent=parent)
    judgment.pairs = clean
    judgment.cr = result["cr"]
    judgment.consistent = bool(result["consistent"])
    judgment.submitted_at = timezone.now() if submit else None
    judgment.save()
    audit.record(
        expert,
        "assess_judgment_submit" if submit else "assess_judgment_save",
        judgment,
        {"session": session.pk, "parent": parent.pk if parent else None, "answered": len(clean),
         "cr": result["cr"], "consistent": judgment.consistent},
    )  # fmt: skip
    return judgment


# --- aggregation -------------------------------------------------------------------------------


@dataclass
class ParentAggregate:
    """One form's aggregation: each submitted expert's CR and the AIJ matrix's AHP result."""

    parent: Indicator | None
    elements: list[Indicator]
    experts: list[dict[str, Any]] = field(default_factory=list)  # {"expert": User, "cr", "consistent"}
    result: methods.AHPResult | None = None

    @property
    def name(self) -> str:
        return parent_name(self.parent)

    @property
    def weighted(self) -> list[tuple[Indicator, float]]:
        """(indicator, aggregate weight) pairs, empty before any expert submitted."""
        return list(zip(self.elements, self.result.weights, strict=True)) if self.result else []


def _pairs_by_key(pairs: Iterable[Sequence[Any]]) -> list[tuple[str, str, float]]:
    return [(str(a), str(b), float(v)) for a, b, v in pairs]


def preview(
    session: WeightingSession, *, expert_weights: dict[int, float] | None = None
) -> tuple[list[ParentAggregate], list[str]]:
    """The aggregation of the submitted forms, per parent, and the names of parents without any."""
    invited = set(session.experts.values_list("pk", flat=True))
    judgments = list(
        Judgment.objects.filter(session=session, submitted_at__isnull=False, expert_id__in=invited)
        .select_related("expert")
        .order_by("expert__display_name", "expert__username", "pk")
    )
    rows: list[ParentAggregate] = []
    missing: list[str] = []
    for parent in parents(session.system):
        elements = elements_of(session, parent)
        keys = [str(e.pk) for e in elements]
        row = ParentAggregate(parent=parent, elements=elements)
        matrices, weights = [], []
        for j in judgments:
            if j.parent_id != (parent.pk if parent else None):
                continue
            try:
                r = methods.ahp_from_pairs(
                    keys, _pairs_by_key(j.pairs), priority=session.priority, ri_table=session.ri_table,
                    threshold=session.threshold,
                )  # fmt: skip
            except methods.MethodError:
                continue  # the form no longer matches the tree (an indicator was removed)
            row.experts.append({"expert": j.expert, "cr": r.cr, "consistent": r.consistent})
            matrices.append(r.matrix)
            weights.append((expert_weights or {}).get(j.expert_id, 1.0))
        if matrices:
            aij = methods.aggregate_judgments(matrices, weights if expert_weights else None)
            row.result = methods.ahp(
                aij, priority=session.priority, ri_table=session.ri_table, threshold=session.threshold
            )
        else:
            missing.append(row.name)
        rows.append(row)
    return rows, missing


@transaction.atomic
def aggregate(
    session: WeightingSession,
    *,
    actor,
    expert_weights: dict[int, float] | None = None,
    name: str | None = None,
    version: int | None = None,
) -> WeightSet:
    """Aggregate the submitted forms (AIJ per parent, then AHP) into a weight set; close the session."""
    from sizheng.org.access import check_version

    session = WeightingSession.objects.select_for_update().select_related("system").get(pk=session.pk)
    check_version(session, version)
    if session.state != SessionState.OPEN:
        raise ValidationError("本次专家赋权已经汇总过，不能重复汇总。")
    rows, missing = preview(session, expert_weights=expert_weights)
    if missing:
        raise ValidationError(
            f"以下指标组还没有专家提交判断：{'、'.join(f'「{m}」' for m in missing)}。请等专家提交后再汇总。"
        )
    local: dict[int, float] = {ind.pk: 1.0 for ind in scored(session.system)}
    details = []
    experts: set[int] = set()
    for row in rows:
        assert row.result is not None
        for e, w in zip(row.elements, row.result.weights, strict=True):
            local[e.pk] = w
        experts.update(x["expert"].pk for x in row.experts)
        details.append({
            "parent": row.parent.pk if row.parent else None,
            "name": row.name,
            "cr": row.result.cr,
            "lambda_max": row.result.lambda_max,
            "consistent": row.result.consistent,
            "experts": [{"expert": x["expert"].pk, "cr": x["cr"], "consistent": x["consistent"]} for x in row.experts],
        })  # fmt: skip
    ws = _create_set(
        session.system,
        actor=actor,
        name=name or f"{session.title}（专家汇总）",
        method=WeightMethod.AHP,
        weights=local,
        params={
            "session": session.pk,
            "ri_table": session.ri_table,
            "priority": session.priority,
            "threshold": session.threshold,
            "experts": len(experts),
            "aggregation": "AIJ（加权几何平均）" if expert_weights else "AIJ（几何平均）",
        },
        details={"parents": details},
    )
    session.state = SessionState.CLOSED
    session.result = ws
    session.version += 1
    session.save(update_fields=["state", "result", "version"])
    audit.record(actor, "assess_session_aggregate", session, {"weight_set": ws.pk, "experts": len(experts)})
    return ws


# --- entropy from a round, combination ---------------------------------------------------------


def _score_matrix(assessment: Assessment):
    """``engine.score_matrix`` (targets, leaves, leaf scores 0–100), imported when needed."""
    from sizheng.assess import engine

    return engine.score_matrix(assessment)


@transaction.atomic
def entropy_from_round(
    assessment: Assessment, *, actor, variant: str = "minmax", name: str | None = None
) -> WeightSet:
    """Entropy weights from a computed round's leaf scores, parent by parent, bottom-up.

    A leaf's column is its score over the targets; an inner indicator's column is the sum of its
    children's scores weighted by the entropy weights just found for them. Where every column of a
    parent is the same for all targets (nothing to tell them apart), that parent keeps the weights
    the round used, and the record says so."""
    import numpy as np

    if assessment.state not in (RoundState.COMPUTED, RoundState.PUBLISHED):
        raise ValidationError("只能用已计算或已发布的考核轮次计算熵权，请先完成该轮次的计算。")
    if variant not in methods.ENTROPY_VARIANTS:
        raise ValidationError({"variant": "请选择列表中的熵权法变体。"})
    system = assessment.system
    _refuse_archived(system)
    targets, leaves, matrix = _score_matrix(assessment)
    matrix = np.asarray(matrix, dtype=float)
    if len(targets) < 2:
        raise ValidationError("该轮次的被考核单位少于 2 个，熵权法无法区分指标，请选择单位更多的轮次。")
    used = (
        local_of(assessment.weight_set)
        if assessment.weight_set_id
        else {i.pk: i.weight for i in scored(system)}
    )
    column = {leaf.pk: matrix[:, k] for k, leaf in enumerate(leaves)}
    tree = scored(system)
    kids = children_map(tree)
    local: dict[int, float] = {}
    details = []

    def solve(parent: Indicator | None) -> None:
        group = kids.get(parent.pk if parent else None, [])
        for child in group:
            if child.pk in kids:
                solve(child)
        if not group:
            return
        present = [c for c in group if c.pk in column]
        entry: dict[str, Any] = {"parent": parent.pk if parent else None, "name": parent_name(parent)}
        if len(group) == 1:
            local[group[0].pk] = 1.0
        else:
            x = np.column_stack([column.get(c.pk, np.zeros(len(targets))) for c in group])
            try:
                if len(present) < len(group):
                    raise methods.MethodError("部分指标在该轮次中没有得分。")
                r = methods.entropy_weights(x, variant=variant)
                ws = r.weights
                entry.update(entropies={str(c.pk): e for c, e in zip(group, r.entropies, strict=True)},
                             constant=[group[k].pk for k in r.constant_columns])  # fmt: skip
            except methods.MethodError as exc:
                total = sum(used.get(c.pk, 0.0) for c in group)
                ws = [used.get(c.pk, 0.0) / total if total > 0 else 1 / len(group) for c in group]
                entry.update(fallback=True, note=f"{exc.message} 该组沿用轮次所用的权重。")
            for c, w in zip(group, ws, strict=True):
                local[c.pk] = float(w)
            details.append(entry)
        if parent is not None:
            column[parent.pk] = sum(
                (local[c.pk] * column.get(c.pk, np.zeros(len(targets))) for c in group),
                np.zeros(len(targets)),
            )

    solve(None)
    return _create_set(
        system,
        actor=actor,
        name=name or f"{assessment.title}（熵权）",
        method=WeightMethod.ENTROPY,
        weights=local,
        params={"round": assessment.pk, "round_title": assessment.title, "variant": variant,
                "targets": len(targets)},
        details={"parents": details},
    )  # fmt: skip


@transaction.atomic
def combine(
    subjective: WeightSet,
    objective: WeightSet,
    *,
    actor,
    method: str = "linear",
    alpha: float = 0.5,
    name: str | None = None,
) -> WeightSet:
    """Combine two weight sets of the same system parent by parent (``methods.combine_weights``)."""
    if subjective.system_id != objective.system_id:
        raise ValidationError("只能组合同一指标体系的两个权重方案。")
    if subjective.pk == objective.pk:
        raise ValidationError({"objective": "主观权重和客观权重不能是同一个方案，请另选一个。"})
    if method not in methods.COMBINE_METHODS:
        raise ValidationError({"method": "请选择列表中的组合方法。"})
    system = subjective.system
    _refuse_archived(system)
    s_local, o_local = local_of(subjective), local_of(objective)
    tree = scored(system)
    local: dict[int, float] = {}
    for parent_id, group in children_map(tree).items():
        lacking = [c for c in group if c.pk not in s_local or c.pk not in o_local]
        if lacking:
            raise ValidationError(
                f"「{lacking[0].code} {lacking[0].name}」在所选方案中没有权重（方案早于该指标的添加），请重新生成方案后再组合。"
            )
        if len(group) == 1:
            local[group[0].pk] = 1.0
            continue
        try:
            ws = methods.combine_weights(
                [s_local[c.pk] for c in group], [o_local[c.pk] for c in group], method=method, alpha=alpha
            )
        except methods.MethodError as exc:
            parent = next((i for i in tree if i.pk == parent_id), None)
            raise ValidationError(f"「{parent_name(parent)}」：{exc.message}") from exc
        for c, w in zip(group, ws, strict=True):
            local[c.pk] = w
    params: dict[str, Any] = {"subjective": subjective.pk, "objective": objective.pk, "method": method}
    if method == "linear":
        params["alpha"] = float(alpha)
    return _create_set(
        system,
        actor=actor,
        name=name or f"组合赋权（{subjective.name} × {objective.name}）",
        method=WeightMethod.COMBINED,
        weights=local,
        params=params,
        details={"subjective_name": str(subjective), "objective_name": str(objective)},
        sources=[subjective, objective],
    )
