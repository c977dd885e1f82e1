"""Assessment rounds (考核轮次): set-up, targets, assessors, entries and the state machine.

States: draft (准备中) → open (自评和评分中) → locked (已锁定) → computed (已计算) → published (已发布);
``reopen`` takes a locked or computed round back to open (never a published one). Every change of
an ``Assessment`` is a compare-and-swap on its ``version`` (a stale form gets a ``Conflict``), every
write leaves an audit row, every refusal is a ValidationError with one Chinese sentence saying what
to do; a user who may see a round but not act on it gets ``PermissionDenied``.

Entries: a target's unit fills the self-assessment (one ``Entry`` per leaf with side ``self``,
whoever of the unit's managers saved it last is ``entered_by``); each assigned assessor fills their
own entries (side ``assessor``). Evidence files are ``StoredFile`` rows with owner kind
``assess.entry`` (``OWNER_KIND``) and the entry's id; the download rule is in ``assess.files``.
After a submission the side is read-only until the round is reopened (reopening returns every
submission to draft). The computation itself is ``assess.engine`` (imported lazily here), the
rectification duties at publication ``assess.results``.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from sizheng.assess import access
from sizheng.assess.models import (
    Assessment,
    AssessorAssignment,
    Entry,
    Indicator,
    IndicatorKind,
    IndicatorSystem,
    RoundState,
    RuleKind,
    SystemState,
    Target,
    ValueSource,
    WeightSet,
)
from sizheng.core import audit, notify
from sizheng.core import files as core_files
from sizheng.core.apitools import Conflict
from sizheng.core.models import Role, RoleGrant, StoredFile, User
from sizheng.org.access import manages_org
from sizheng.org.models import Org

OWNER_KIND = "assess.entry"
SELF_SOURCES = (ValueSource.SELF, ValueSource.SELF_ASSESSOR)
ASSESSOR_SOURCES = (ValueSource.ASSESSOR, ValueSource.SELF_ASSESSOR)
MAX_FILES_PER_ITEM = 10
NOTE_MAX = 2000
STALE_ROUND = "该考核轮次已被他人修改，请刷新页面后重新操作。"
STALE_ENTRY = "该项已被他人修改，请刷新页面后重新填写。"
NOT_MANAGER = "只有轮次的组织单位（机关工委或其书记、党务干部）才能进行此操作。"


# --- reading ------------------------------------------------------------------------------------


def tree_order(indicators: list[Indicator]) -> list[Indicator]:
    """Indicators in tree order (parents before children, siblings by ``order`` then id)."""
    children: dict[int | None, list[Indicator]] = defaultdict(list)
    for ind in indicators:
        children[ind.parent_id].append(ind)
    for group in children.values():
        group.sort(key=lambda i: (i.order, i.pk))
    out: list[Indicator] = []
    stack = list(reversed(children[None]))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(children.get(node.pk, [])))
    return out


def items_by_side(system: IndicatorSystem) -> dict[str, list[Indicator]]:
    """The indicators a unit (``self``) and an assessor (``assessor``) fill in (``all``: either), in tree order.

    Scored leaves, bonus and veto items whose source is self / self_assessor (unit) or assessor /
    self_assessor (assessor); each carries ``group`` (its level-1 indicator's name, or 加分项 /
    一票否决项) and ``path_names`` for display."""
    indicators = tree_order(list(Indicator.objects.filter(system=system)))
    by_id = {i.pk: i for i in indicators}
    parents = {i.parent_id for i in indicators if i.parent_id}
    out: dict[str, list[Indicator]] = {Entry.Side.SELF: [], Entry.Side.ASSESSOR: [], "all": []}
    for ind in indicators:
        if ind.pk in parents:
            continue
        if ind.kind == IndicatorKind.BONUS:
            ind.group = "加分项"
        elif ind.kind == IndicatorKind.VETO:
            ind.group = "一票否决项"
        else:
            top = ind
            while top.parent_id and top.parent_id in by_id:
                top = by_id[top.parent_id]
            ind.group = f"{top.code} {top.name}" if top is not ind else "其他指标"
        if ind.source in SELF_SOURCES:
            out[Entry.Side.SELF].append(ind)
        if ind.source in ASSESSOR_SOURCES:
            out[Entry.Side.ASSESSOR].append(ind)
        if ind.source in SELF_SOURCES or ind.source in ASSESSOR_SOURCES:
            out["all"].append(ind)
    return out


def form_items(system: IndicatorSystem, side: str) -> list[Indicator]:
    return items_by_side(system)[side]


def _num(x) -> str:
    """A number for a sentence: 5 not 5.0, 2.5 as is."""
    if x is None:
        return "—"
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:g}"


def input_kind(indicator: Indicator) -> str:
    """What the value box holds: ``veto`` (是/否), ``score`` (0–max), ``count`` (次数) or ``rate``."""
    if indicator.kind == IndicatorKind.VETO:
        return "veto"
    if indicator.rule_kind == RuleKind.DEDUCTION:
        return "count"
    if indicator.rule_kind in (RuleKind.LINEAR, RuleKind.BANDS):
        return "rate"
    return "score"


def rate_unit(indicator: Indicator) -> str:
    return str((indicator.rule or {}).get("unit") or "%")


def short_unit(indicator: Indicator) -> str:
    """The unit without its explanation, for numbers in sentences: “档：2 足额、1 不足、0 没有” → “档”."""
    unit = rate_unit(indicator)
    return re.split(r"[：:（(]", unit, maxsplit=1)[0].strip() or unit


def _with_unit(indicator: Indicator, x, *, before_text: bool = False) -> str:
    """“92.5%” for a percentage, “2 档” for another unit; ``before_text`` adds the space a
    percentage needs before the Chinese text that follows (“达到 90% 得满分”, “达到 2 档得满分”)."""
    unit = short_unit(indicator)
    if unit == "%":
        return f"{_num(x)}%" + (" " if before_text else "")
    return f"{_num(x)} {unit}"


def value_label(indicator: Indicator) -> str:
    """The label of the value box, naming its unit."""
    kind = input_kind(indicator)
    if kind == "veto":
        return "是否发生"
    if kind == "count":
        return "加分事项数（项）" if indicator.kind == IndicatorKind.BONUS else "发生次数（次）"
    if kind == "rate":
        unit = rate_unit(indicator)
        return "比率（%，0—100）" if unit == "%" else f"取值（{unit}）"
    if indicator.kind == IndicatorKind.BONUS:
        return f"加分（0—{_num(indicator.max_score)} 分）"
    return f"得分（0—{_num(indicator.max_score)} 分）"


def rule_text(indicator: Indicator) -> str:
    """The scoring rule in words."""
    rule = indicator.rule or {}
    if indicator.kind == IndicatorKind.VETO:
        return "发生该情形的，直接评为最低等次（一票否决）；未发生的不影响得分。"
    if indicator.kind == IndicatorKind.BONUS:
        per = rule.get("per_event", 1)
        if indicator.rule_kind == RuleKind.DIRECT:
            return f"直接给出加分，最多 {_num(indicator.max_score)} 分；全部加分项合计不超过体系规定的上限。"
        return f"每项加 {_num(per)} 分，本项最多加 {_num(indicator.max_score)} 分；全部加分项合计不超过体系规定的上限。"
    kind = indicator.rule_kind
    if kind == RuleKind.LINEAR:
        zero, full = rule.get("zero_at"), rule.get("full_at")
        z, f = _with_unit(indicator, zero, before_text=True), _with_unit(indicator, full, before_text=True)
        if zero is not None and full is not None and float(zero) > float(full):
            return f"取值不高于 {f}得满分，不低于 {z}得 0 分，之间按比例折算（越低越好）。"
        return f"取值达到 {f}得满分，不高于 {z}得 0 分，之间按比例折算。"
    if kind == RuleKind.DEDUCTION:
        text = f"满分 {_num(indicator.max_score)} 分，每发生一次扣 {_num(rule.get('per_event', 1))} 分"
        if rule.get("max_deduction") is not None:
            text += f"，最多扣 {_num(rule['max_deduction'])} 分"
        return text + "，扣完为止。"
    if kind == RuleKind.BANDS:
        parts = []
        for band in rule.get("bands", []):
            if band.get("min") is None:
                parts.append(f"其余得满分的 {_num(band.get('score'))}%")
            else:
                parts.append(
                    f"达到 {_with_unit(indicator, band['min'], before_text=True)}得满分的 {_num(band.get('score'))}%"
                )
        return "；".join(parts) + "。" if parts else "按分档计分。"
    return f"由评分人在 0—{_num(indicator.max_score)} 分之间直接打分。"


def display_value(indicator: Indicator, value) -> str:
    """A raw value in words for read-only tables: 是/否, “3 次”, “92.5%”, “8 分”."""
    if value is None:
        return "未填写"
    kind = input_kind(indicator)
    if kind == "veto":
        return "是（发生了）" if value else "否"
    if kind == "count":
        return f"{_num(value)} {'项' if indicator.kind == IndicatorKind.BONUS else '次'}"
    if kind == "rate":
        return _with_unit(indicator, round(value, 2))
    if indicator.kind == IndicatorKind.BONUS:
        return f"加 {_num(round(value, 2))} 分"
    return f"{_num(round(value, 2))} 分"


def clean_value(indicator: Indicator, value) -> float | None:
    """Check a raw value against the indicator's input kind; None stays None (not filled yet)."""
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"「{indicator.name}」的取值不是数字，请重新填写。") from None
    if not math.isfinite(number):
        raise ValidationError(f"「{indicator.name}」的取值不是有效数字，请重新填写。")
    kind = input_kind(indicator)
    if kind == "veto":
        if number not in (0, 1):
            raise ValidationError(f"「{indicator.name}」请选择“是”或“否”。")
    elif kind == "count":
        if number < 0 or not number.is_integer():
            raise ValidationError(f"「{indicator.name}」填写发生的次数，应为 0 或正整数。")
        if number > 10000:
            raise ValidationError(f"「{indicator.name}」的次数过大，请核对后重新填写。")
    elif kind == "score":
        if not 0 <= number <= indicator.max_score:
            raise ValidationError(
                f"「{indicator.name}」的得分应在 0 到 {_num(indicator.max_score)} 分之间，请重新填写。"
            )
    elif rate_unit(indicator) == "%" and not 0 <= number <= 100:
        raise ValidationError(f"「{indicator.name}」的比率应在 0 到 100 之间（单位为 %），请重新填写。")
    return number


def evidence_of(entry_ids) -> dict[int, list[StoredFile]]:
    """Evidence files of these entries (one query), newest last."""
    ids = [i for i in entry_ids if i]
    out: dict[int, list[StoredFile]] = defaultdict(list)
    if not ids:
        return out
    for f in StoredFile.objects.filter(owner_kind=OWNER_KIND, owner_id__in=ids).order_by("uploaded_at", "pk"):
        out[f.owner_id].append(f)
    return out


@dataclass
class Progress:
    filled: int
    total: int

    @property
    def done(self) -> bool:
        return self.total > 0 and self.filled >= self.total


def progress(targets: list[Target], *, side: str, user=None) -> dict[int, Progress]:
    """n of m form items with a value per target (``user``: that assessor's entries only).

    A fixed number of queries however many targets and systems (one for the items, one for the
    entries)."""
    if not targets:
        return {}
    system_ids = {t.assessment.system_id for t in targets}
    sources = SELF_SOURCES if side == Entry.Side.SELF else ASSESSOR_SOURCES
    indicators = list(
        Indicator.objects.filter(system_id__in=system_ids).values("pk", "system_id", "parent_id", "source")
    )
    parents = {i["parent_id"] for i in indicators if i["parent_id"]}
    items: dict[int, set[int]] = defaultdict(set)
    for i in indicators:
        if i["pk"] not in parents and i["source"] in sources:
            items[i["system_id"]].add(i["pk"])
    entries = Entry.objects.filter(target__in=[t.pk for t in targets], side=side, value__isnull=False)
    if user is not None:
        entries = entries.filter(entered_by=user)
    filled: dict[int, set[int]] = defaultdict(set)
    for tid, iid in entries.values_list("target_id", "indicator_id"):
        filled[tid].add(iid)
    out = {}
    for t in targets:
        wanted = items[t.assessment.system_id]
        out[t.pk] = Progress(filled=len(filled[t.pk] & wanted), total=len(wanted))
    return out


# --- orgs ---------------------------------------------------------------------------------------


def _active_org_q(prefix: str = "") -> Q:
    today = timezone.localdate()
    return Q(**{f"{prefix}dissolved_on__isnull": True}) | Q(**{f"{prefix}dissolved_on__gt": today})


def candidate_orgs(owner_org: Org):
    """Orgs a round of ``owner_org`` may assess: the active orgs of its subtree (not itself)."""
    return (
        Org.objects.filter(path__startswith=owner_org.path)
        .exclude(pk=owner_org.pk)
        .filter(_active_org_q())
        .order_by("path")
    )


def default_orgs(owner_org: Org):
    """The usual targets: the active orgs directly under the owner org, leading groups (党组) left out."""
    return candidate_orgs(owner_org).filter(parent=owner_org).exclude(kind=Org.Kind.LEADING_GROUP)


def _first_units(org_ids) -> dict[int, int]:
    """org id → the id of its first unit (by the units' order)."""
    through = Org.units.through
    out: dict[int, int] = {}
    rows = through.objects.filter(org_id__in=list(org_ids)).order_by("unit__order", "unit_id")
    for org_id, unit_id in rows.values_list("org_id", "unit_id"):
        out.setdefault(org_id, unit_id)
    return out


def assessor_users():
    """Users holding the assessor role today (the choices of an assignment)."""
    ids = RoleGrant.objects.in_force(timezone.localdate()).filter(role=Role.ASSESSOR).values("user_id")
    return User.objects.filter(pk__in=ids, is_active=True).order_by("username")


def _unit_managers(org_ids) -> list[User]:
    """Secretaries and 党务干部 holding a post in these very orgs (the people who fill a self-assessment)."""
    ids = (
        RoleGrant.objects.in_force(timezone.localdate())
        .filter(
            role__in=[Role.SECRETARY, Role.ORG_ADMIN],
            scope_kind=RoleGrant.ScopeKind.ORG,
            scope_id__in=list(org_ids),
        )
        .values("user_id")
    )
    return list(User.objects.filter(pk__in=ids, is_active=True))


# --- guards -------------------------------------------------------------------------------------


def _require_manager(actor, assessment: Assessment) -> None:
    if not access.manages_round(actor, assessment):
        raise PermissionDenied(NOT_MANAGER)


def _cas(assessment: Assessment, version: int | None, *, states, **fields) -> None:
    """Update the round if it is still at ``version`` (when given) and in one of ``states``."""
    if version is not None and int(version) != assessment.version:
        raise Conflict(STALE_ROUND)
    qs = Assessment.objects.filter(pk=assessment.pk, version=assessment.version, state__in=list(states))
    if not qs.update(version=F("version") + 1, **fields):
        raise Conflict(STALE_ROUND)
    assessment.refresh_from_db()


def _check_round_fields(
    *,
    system,
    weight_set,
    period_start,
    period_end,
    self_due_on,
    scoring_due_on,
    democratic_survey,
    rectify_below,
    title,
) -> dict:
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = "请填写轮次名称，例如“2026 年度基层党组织分类定级”。"
    elif len(title) > 120:
        errors["title"] = "轮次名称不得超过 120 个字。"
    if system is not None and system.state != SystemState.PUBLISHED:
        errors["system"] = "只能选用已发布的指标体系；请先在“测评体系”中发布该体系，或选择其他体系。"
    if weight_set is not None and system is not None and weight_set.system_id != system.pk:
        errors["weight_set"] = "所选权重方案不属于所选指标体系，请重新选择，或留空使用体系内的直接权重。"
    if period_start and period_end and period_start > period_end:
        errors["period_end"] = "考核期结束日期不能早于开始日期。"
    if self_due_on and scoring_due_on and scoring_due_on < self_due_on:
        errors["scoring_due_on"] = "评分截止日期不能早于自评截止日期（考核组需要看到单位的自评）。"
    if democratic_survey is not None:
        from sizheng.insight.models import Template

        if democratic_survey.template != Template.DEMOCRATIC:
            errors["democratic_survey"] = "只能选用“民主测评”模板的问卷。"
    if rectify_below is None or not 0 <= float(rectify_below) <= 100:
        errors["rectify_below"] = "整改线是指标得分率（%），应在 0 到 100 之间。"
    if errors:
        raise ValidationError(errors)
    return {"title": title}


# --- set-up -------------------------------------------------------------------------------------


@transaction.atomic
def create_round(
    *,
    actor,
    title: str,
    system: IndicatorSystem,
    owner_org: Org,
    period_start: date,
    period_end: date,
    orgs: list[Org] | None = None,
    weight_set: WeightSet | None = None,
    use_topsis: bool = False,
    democratic_survey=None,
    self_due_on: date | None = None,
    scoring_due_on: date | None = None,
    rectify_below: float = 60,
) -> Assessment:
    """A new round in draft. ``orgs`` None: the owner org's direct sub-orgs (without 党组)."""
    if not manages_org(actor, owner_org):
        raise PermissionDenied("您只能以自己负责的党组织作为组织单位创建考核轮次。")
    cleaned = _check_round_fields(
        system=system, weight_set=weight_set, period_start=period_start, period_end=period_end,
        self_due_on=self_due_on, scoring_due_on=scoring_due_on, democratic_survey=democratic_survey,
        rectify_below=rectify_below, title=title,
    )  # fmt: skip
    assessment = Assessment.objects.create(
        title=cleaned["title"],
        system=system,
        weight_set=weight_set,
        owner_org=owner_org,
        period_start=period_start,
        period_end=period_end,
        self_due_on=self_due_on,
        scoring_due_on=scoring_due_on,
        democratic_survey=democratic_survey,
        use_topsis=bool(use_topsis),
        rectify_below=float(rectify_below),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    chosen = list(default_orgs(owner_org)) if orgs is None else list(orgs)
    if chosen:
        _replace_targets(assessment, chosen)
    audit.record(
        actor,
        "assess_round_create",
        assessment,
        {"system": system.pk, "weight_set": weight_set.pk if weight_set else None, "targets": len(chosen)},
    )
    return assessment


EDITABLE_WHEN_OPEN = ("title", "self_due_on", "scoring_due_on", "rectify_below")


@transaction.atomic
def update_round(assessment: Assessment, *, actor, version: int | None, **fields) -> Assessment:
    """Change a round: everything while in draft; title, due dates and the rectification line until
    it is published. Changing the owner org of a draft resets the targets to the new defaults."""
    _require_manager(actor, assessment)
    if assessment.state == RoundState.PUBLISHED:
        raise ValidationError("已发布的考核轮次不能再修改。")
    unknown = set(fields) - {
        "title", "system", "weight_set", "owner_org", "period_start", "period_end", "self_due_on",
        "scoring_due_on", "democratic_survey", "use_topsis", "rectify_below",
    }  # fmt: skip
    if unknown:
        raise ValueError(f"unknown round fields: {sorted(unknown)}")
    if assessment.state != RoundState.DRAFT:
        locked = [
            name
            for name, value in fields.items()
            if name not in EDITABLE_WHEN_OPEN and _field_value(assessment, name) != _plain(value)
        ]
        if locked:
            raise ValidationError(
                "轮次已开启，只能修改名称、截止日期和整改线；如需更换指标体系、权重或考核期，请新建轮次。"
            )
    merged = {name: getattr(assessment, name) for name in ("title", "system", "weight_set", "period_start",
              "period_end", "self_due_on", "scoring_due_on", "democratic_survey", "rectify_below")}  # fmt: skip
    merged.update({k: v for k, v in fields.items() if k in merged})
    if merged["system"].pk == assessment.system_id and assessment.state != RoundState.DRAFT:
        merged["system"] = None  # a round under way keeps its system even if it was archived since
    cleaned = _check_round_fields(**merged)
    owner = fields.get("owner_org", assessment.owner_org)
    owner_changed = owner.pk != assessment.owner_org_id
    if owner_changed and not manages_org(actor, owner):
        raise PermissionDenied("您只能以自己负责的党组织作为组织单位。")
    if "system" in fields and fields["system"].pk != assessment.system_id and "weight_set" not in fields:
        fields["weight_set"] = None
    update = {
        name: value for name, value in fields.items() if name in merged or name in ("owner_org", "use_topsis")
    }
    update["title"] = cleaned["title"]
    changed = sorted(n for n, v in update.items() if _field_value(assessment, n) != _plain(v))
    _cas(assessment, version, states=[assessment.state], **update)
    if owner_changed and assessment.state == RoundState.DRAFT:
        _replace_targets(assessment, list(default_orgs(owner)))
    audit.record(actor, "assess_round_update", assessment, {"fields": changed})
    return assessment


def _plain(value):
    return value.pk if hasattr(value, "pk") else value


def _field_value(assessment: Assessment, name: str):
    if name in ("system", "weight_set", "owner_org", "democratic_survey"):
        return getattr(assessment, f"{name}_id")
    return getattr(assessment, name)


def _replace_targets(assessment: Assessment, orgs: list[Org]) -> tuple[int, int]:
    wanted = {o.pk for o in orgs}
    existing = set(assessment.targets.values_list("org_id", flat=True))
    removed, _ = Target.objects.filter(assessment=assessment).exclude(org_id__in=wanted).delete()
    new_ids = sorted(wanted - existing)
    units = _first_units(new_ids)
    Target.objects.bulk_create(
        [Target(assessment=assessment, org_id=oid, unit_id=units.get(oid)) for oid in new_ids]
    )
    return len(new_ids), len(existing - wanted)


@transaction.atomic
def set_targets(assessment: Assessment, orgs, *, actor, version: int | None = None) -> Assessment:
    """Choose the assessed orgs (draft only); kept targets keep their assessors."""
    _require_manager(actor, assessment)
    if assessment.state != RoundState.DRAFT:
        raise ValidationError("轮次已开启，不能再调整被考核单位；如确需调整，请新建轮次。")
    orgs = list(orgs)
    if not orgs:
        raise ValidationError("请至少选择一个被考核的党组织。")
    allowed = set(
        candidate_orgs(assessment.owner_org).filter(pk__in=[o.pk for o in orgs]).values_list("pk", flat=True)
    )
    outside = [o.name for o in orgs if o.pk not in allowed]
    if outside:
        raise ValidationError(
            f"{'、'.join(outside)}不在组织单位“{assessment.owner_org.name}”的下级党组织中（或已撤销），请重新选择。"
        )
    _cas(assessment, version, states=[RoundState.DRAFT])
    added, removed = _replace_targets(assessment, orgs)
    audit.record(
        actor, "assess_targets_set", assessment, {"added": added, "removed": removed, "count": len(orgs)}
    )
    return assessment


def _check_assignable(assessment: Assessment, target: Target, actor) -> None:
    _require_manager(actor, assessment)
    if target.assessment_id != assessment.pk:
        raise ValidationError("该被考核单位不属于本轮次。")
    if assessment.state not in (RoundState.DRAFT, RoundState.OPEN):
        raise ValidationError("轮次已锁定，不能再调整考核组分工；如需调整，请先重新开放轮次。")


@transaction.atomic
def assign(assessment: Assessment, *, target: Target, user, actor) -> AssessorAssignment:
    """Assign an assessor (a user holding the assessor role) to score a target."""
    _check_assignable(assessment, target, actor)
    if not assessor_users().filter(pk=user.pk).exists():
        raise ValidationError(f"{user}没有“考核组”角色，请先由安全管理员授予该角色。")
    assignment, created = AssessorAssignment.objects.get_or_create(
        target=target, user=user, defaults={"assigned_by": actor if getattr(actor, "pk", None) else None}
    )
    if created:
        audit.record(actor, "assess_assign", assignment, {"target": target.pk, "user": user.pk})
        if assessment.state == RoundState.OPEN:
            notify.notify(
                [user], title="您有新的考核评分任务", body=_due_text(assessment.scoring_due_on, "评分"),
                url=reverse("assess:my_tasks"),
            )  # fmt: skip
    return assignment


def assign_many(assessment: Assessment, *, targets, user, actor) -> int:
    """Assign one assessor to several targets; returns how many assignments are new."""
    targets = list(targets)
    if not targets:
        raise ValidationError("请至少选择一个被考核单位。")
    before = AssessorAssignment.objects.filter(target__in=targets, user=user).count()
    with transaction.atomic():
        for target in targets:
            assign(assessment, target=target, user=user, actor=actor)
    return len(targets) - before


@transaction.atomic
def unassign(assessment: Assessment, *, target: Target, user, actor) -> None:
    """Take an assessor off a target (not once they have entered scores for it)."""
    _check_assignable(assessment, target, actor)
    if Entry.objects.filter(target=target, side=Entry.Side.ASSESSOR, entered_by=user).exists():
        raise ValidationError(f"{user}已为“{target.org.name}”录入了评分，不能取消分工。")
    deleted, _ = AssessorAssignment.objects.filter(target=target, user=user).delete()
    if deleted:
        audit.record(actor, "assess_unassign", target, {"user": user.pk})


# --- state machine ------------------------------------------------------------------------------


def _due_text(day: date | None, what: str) -> str:
    return f"{what}截止日期：{day:%Y年%m月%d日}。请登录平台查看。" if day else "请登录平台查看。"


def _people_of(assessment: Assessment) -> tuple[list[User], list[User]]:
    """(the targets' unit managers, the assigned assessors)."""
    org_ids = list(assessment.targets.values_list("org_id", flat=True))
    assessor_ids = AssessorAssignment.objects.filter(target__assessment=assessment).values("user_id")
    return _unit_managers(org_ids), list(User.objects.filter(pk__in=assessor_ids, is_active=True))


@transaction.atomic
def open_round(assessment: Assessment, *, actor, version: int | None) -> Assessment:
    """draft → open: units may fill their self-assessment, assessors score; both are notified."""
    _require_manager(actor, assessment)
    if assessment.state != RoundState.DRAFT:
        raise ValidationError("只有准备中的轮次才能开启。")
    if assessment.system.state != SystemState.PUBLISHED:
        raise ValidationError("该轮次使用的指标体系已停用，不能开启；请编辑轮次改用已发布的体系。")
    targets = list(assessment.targets.select_related("org"))
    if not targets:
        raise ValidationError("请先在“被考核单位”中选择至少一个党组织，再开启轮次。")
    sides = items_by_side(assessment.system)
    if sides[Entry.Side.ASSESSOR]:
        assigned = set(
            AssessorAssignment.objects.filter(target__assessment=assessment).values_list(
                "target_id", flat=True
            )
        )
        missing = [t.org.name for t in targets if t.pk not in assigned]
        if missing:
            shown = "、".join(missing[:5]) + (f"等 {len(missing)} 个单位" if len(missing) > 5 else "")
            raise ValidationError(f"{shown}还没有分配考核组成员，请先在“考核组分工”中分配后再开启。")
    _cas(assessment, version, states=[RoundState.DRAFT], state=RoundState.OPEN)
    managers, assessors = _people_of(assessment)
    url = reverse("assess:my_tasks")
    if sides[Entry.Side.SELF]:
        notify.notify(managers, title="您单位有一项考核自评待填写", body=_due_text(assessment.self_due_on, "自评"),
                      url=url)  # fmt: skip
    notify.notify(
        assessors, title="您有新的考核评分任务", body=_due_text(assessment.scoring_due_on, "评分"), url=url
    )
    audit.record(
        actor,
        "assess_round_open",
        assessment,
        {"targets": len(targets), "notified": len(managers) + len(assessors)},
    )
    return assessment


@transaction.atomic
def lock(assessment: Assessment, *, actor, version: int | None) -> Assessment:
    """open → locked: no more entries; the round can be computed."""
    _require_manager(actor, assessment)
    if assessment.state != RoundState.OPEN:
        raise ValidationError("只有正在自评和评分的轮次才能锁定。")
    _cas(assessment, version, states=[RoundState.OPEN], state=RoundState.LOCKED)
    audit.record(actor, "assess_round_lock", assessment, {})
    return assessment


@transaction.atomic
def reopen(assessment: Assessment, *, actor, version: int | None) -> Assessment:
    """locked / computed → open. Every submission returns to draft so units and assessors may correct
    it (their entries are kept); computed results stay until the next computation."""
    _require_manager(actor, assessment)
    if assessment.state == RoundState.PUBLISHED:
        raise ValidationError("结果已发布的轮次不能重新开放。")
    if assessment.state not in (RoundState.LOCKED, RoundState.COMPUTED):
        raise ValidationError("只有已锁定或已计算的轮次才能重新开放。")
    _cas(assessment, version, states=[RoundState.LOCKED, RoundState.COMPUTED], state=RoundState.OPEN)
    selves = Target.objects.filter(assessment=assessment, self_submitted_at__isnull=False).update(
        self_submitted_at=None, version=F("version") + 1
    )
    scores = AssessorAssignment.objects.filter(
        target__assessment=assessment, submitted_at__isnull=False
    ).update(submitted_at=None)
    managers, assessors = _people_of(assessment)
    notify.notify([*managers, *assessors], title="考核轮次已重新开放",
                  body="已提交的自评和评分已退回，可修改后重新提交。请登录平台查看。", url=reverse("assess:my_tasks"))  # fmt: skip
    audit.record(
        actor, "assess_round_reopen", assessment, {"self_returned": selves, "scores_returned": scores}
    )
    return assessment


def compute(assessment: Assessment, *, actor) -> Assessment:
    """Compute the results (locked or computed rounds; ``engine.compute_round`` writes the audit row)."""
    _require_manager(actor, assessment)
    if assessment.state == RoundState.PUBLISHED:
        raise ValidationError("结果已发布的轮次不能重新计算。")
    if assessment.state not in (RoundState.LOCKED, RoundState.COMPUTED):
        raise ValidationError("请先锁定轮次（停止自评和评分），再计算结果。")
    from sizheng.assess import engine

    engine.compute_round(assessment, actor=actor)
    assessment.refresh_from_db()
    return assessment


@transaction.atomic
def publish(assessment: Assessment, *, actor, version: int | None) -> Assessment:
    """computed → published: freezes the TOPSIS reference, opens the rectification duties, notifies."""
    _require_manager(actor, assessment)
    if assessment.state == RoundState.PUBLISHED:
        raise ValidationError("该轮次的结果已经发布。")
    if assessment.state != RoundState.COMPUTED:
        raise ValidationError("请先计算结果并核对无误后再发布。")
    record = dict(assessment.record or {})
    topsis = record.get("topsis")
    if assessment.use_topsis and isinstance(topsis, dict) and topsis.get("reference") is not None:
        record["topsis_reference"] = topsis["reference"]
    _cas(
        assessment, version, states=[RoundState.COMPUTED], state=RoundState.PUBLISHED,
        published_at=timezone.now(), record=record,
    )  # fmt: skip
    from sizheng.assess import results

    duties = results.open_rectification(assessment, actor=actor)
    managers, assessors = _people_of(assessment)
    notify.notify([*managers, *assessors], title="考核结果已发布", body="请登录平台查看本单位的考核结果和整改事项。",
                  url=reverse("assess:my_tasks"))  # fmt: skip
    audit.record(
        actor, "assess_round_publish", assessment,
        {"duties": len(duties or []), "topsis_reference": "topsis_reference" in record},
    )  # fmt: skip
    return assessment


# --- entries ------------------------------------------------------------------------------------


@transaction.atomic
def save_entry(
    *,
    actor,
    target: Target,
    indicator: Indicator,
    side: str,
    value,
    note: str = "",
    files=(),
    remove=(),
    version: int | None = None,
) -> Entry:
    """Save one value (draft) with its note and evidence uploads; ``remove``: uids of evidence to detach.

    self: the unit's managers while the round is open and the self-assessment is not submitted;
    assessor: an assigned assessor while open and their scores are not submitted."""
    assessment = target.assessment
    if indicator.system_id != assessment.system_id:
        raise ValidationError("该指标不属于本轮次使用的指标体系。")
    _refresh_state(target)
    if side == Entry.Side.SELF:
        if not access.manages_org(actor, target.org):
            raise PermissionDenied("只有被考核单位的书记、党务干部才能填写自评。")
        if assessment.state != RoundState.OPEN:
            raise ValidationError("轮次不在自评阶段，不能填写；如需修改，请联系轮次组织单位重新开放。")
        if target.self_submitted_at:
            raise ValidationError(
                "本单位的自评已提交，不能再修改；如需修改，请联系轮次组织单位重新开放轮次。"
            )
        if indicator.source not in SELF_SOURCES:
            raise ValidationError(f"「{indicator.name}」由考核组评分或平台自动取数，单位不需要自评。")
        existing = Entry.objects.select_for_update().filter(target=target, indicator=indicator, side=side)
    elif side == Entry.Side.ASSESSOR:
        assignment = AssessorAssignment.objects.filter(target=target, user=actor).first()
        if assignment is None:
            raise PermissionDenied("您没有被分配为该单位的考核组成员。")
        if assessment.state != RoundState.OPEN:
            raise ValidationError("轮次不在评分阶段，不能填写；如需修改，请联系轮次组织单位重新开放。")
        if assignment.submitted_at:
            raise ValidationError(
                "您对该单位的评分已提交，不能再修改；如需修改，请联系轮次组织单位重新开放轮次。"
            )
        if indicator.source not in ASSESSOR_SOURCES:
            raise ValidationError(f"「{indicator.name}」由单位自评或平台自动取数，考核组不需要评分。")
        existing = Entry.objects.select_for_update().filter(
            target=target, indicator=indicator, side=side, entered_by=actor
        )
    else:
        raise ValidationError("未知的填写方。")
    value = clean_value(indicator, value)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError(f"「{indicator.name}」的说明不得超过 {NOTE_MAX} 个字。")
    if input_kind(indicator) == "veto" and value == 1 and not note:
        raise ValidationError(f"「{indicator.name}」选择“是”时，请在说明中写明发生的情况。")
    uploads = [f for f in files if f]
    if len(uploads) > MAX_FILES_PER_ITEM:
        raise ValidationError(f"「{indicator.name}」一次最多上传 {MAX_FILES_PER_ITEM} 个佐证文件。")
    entry = existing.first()
    user = actor if getattr(actor, "pk", None) else None
    if entry is None:
        entry = Entry.objects.create(
            target=target, indicator=indicator, side=side, value=value, note=note, entered_by=user
        )
    else:
        if version is not None and int(version) != entry.version:
            raise Conflict(STALE_ENTRY)
        Entry.objects.filter(pk=entry.pk).update(
            value=value, note=note, entered_by=user, updated_at=timezone.now(), version=F("version") + 1
        )
        entry.refresh_from_db()
    for upload in uploads:
        try:
            core_files.store_upload(upload, actor=actor, owner_kind=OWNER_KIND, owner_id=entry.pk)
        except ValidationError as exc:
            raise ValidationError([f"「{indicator.name}」：{m}" for m in exc.messages]) from None
    removed = 0
    if remove:
        removed = StoredFile.objects.filter(
            owner_kind=OWNER_KIND, owner_id=entry.pk, uid__in=list(remove)
        ).update(owner_id=None)
    audit.record(
        actor, "assess_entry_save", entry,
        {"target": target.pk, "indicator": indicator.pk, "side": side, "uploads": len(uploads), "removed": removed},
    )  # fmt: skip
    return entry


def _refresh_state(target: Target) -> None:
    """Read the round's state and the submission time again (a lock may have happened meanwhile)."""
    row = Target.objects.filter(pk=target.pk).values("self_submitted_at", "assessment__state").get()
    target.self_submitted_at = row["self_submitted_at"]
    target.assessment.state = row["assessment__state"]


def _missing_items(items, entries: dict[int, Entry], *, evidence: dict[int, list] | None = None) -> list[str]:
    problems = []
    for ind in items:
        entry = entries.get(ind.pk)
        if entry is None or entry.value is None:
            problems.append(f"「{ind.code} {ind.name}」还没有填写取值。")
            continue
        if input_kind(ind) == "veto" and entry.value == 1 and not entry.note.strip():
            problems.append(f"「{ind.code} {ind.name}」选择了“是”，请在说明中写明情况。")
        if evidence is not None and ind.evidence_required and not evidence.get(entry.pk):
            problems.append(f"「{ind.code} {ind.name}」须上传佐证材料后才能提交。")
    return problems


@transaction.atomic
def submit_self(target: Target, *, actor) -> Target:
    """Hand in the unit's self-assessment: every item filled, required evidence attached."""
    if not access.manages_org(actor, target.org):
        raise PermissionDenied("只有被考核单位的书记、党务干部才能提交自评。")
    _refresh_state(target)
    if target.assessment.state != RoundState.OPEN:
        raise ValidationError("轮次不在自评阶段，不能提交。")
    if target.self_submitted_at:
        raise ValidationError("本单位的自评已经提交。")
    items = form_items(target.assessment.system, Entry.Side.SELF)
    entries = {e.indicator_id: e for e in Entry.objects.filter(target=target, side=Entry.Side.SELF)}
    problems = _missing_items(items, entries, evidence=evidence_of(e.pk for e in entries.values()))
    if problems:
        raise ValidationError(problems)
    if not Target.objects.filter(pk=target.pk, self_submitted_at__isnull=True).update(
        self_submitted_at=timezone.now(), version=F("version") + 1
    ):
        raise Conflict("本单位的自评已由他人提交，请刷新页面。")
    target.refresh_from_db()
    audit.record(actor, "assess_self_submit", target, {"items": len(items)})
    return target


@transaction.atomic
def submit_scores(target: Target, *, actor) -> AssessorAssignment:
    """Hand in an assessor's scores of a target: every item filled."""
    assignment = AssessorAssignment.objects.select_for_update().filter(target=target, user=actor).first()
    if assignment is None:
        raise PermissionDenied("您没有被分配为该单位的考核组成员。")
    _refresh_state(target)
    if target.assessment.state != RoundState.OPEN:
        raise ValidationError("轮次不在评分阶段，不能提交。")
    if assignment.submitted_at:
        raise ValidationError("您对该单位的评分已经提交。")
    items = form_items(target.assessment.system, Entry.Side.ASSESSOR)
    entries = {
        e.indicator_id: e
        for e in Entry.objects.filter(target=target, side=Entry.Side.ASSESSOR, entered_by=actor)
    }
    problems = _missing_items(items, entries)
    if problems:
        raise ValidationError(problems)
    assignment.submitted_at = timezone.now()
    assignment.save(update_fields=["submitted_at"])
    audit.record(actor, "assess_scores_submit", assignment, {"target": target.pk, "items": len(items)})
    return assignment
