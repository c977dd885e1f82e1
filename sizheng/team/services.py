"""Every write of the team app: the register, trainings outside the platform, staffing gaps → duties,
and the staffing rules. Keyword-only, ``actor=`` first, audited, compare-and-swap on ``version``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from sizheng.core import audit, calendar
from sizheng.core.apitools import Conflict
from sizheng.org.models import Org, Person
from sizheng.team import access
from sizheng.team.models import CoverageRule, ExternalTraining, Gap, Subtype, TeamMember, TeamRole

STALE = "该记录已被他人修改，请刷新页面后重新填写。"
# Working days a staffing gap's duty allows (appointing someone takes a few weeks).
GAP_DUTY_WORKDAYS = 20
MAX_QUALIFICATIONS = 20
EDITABLE = ("role", "subtype", "is_full_time", "position", "qualifications", "since")


def _require_manager(actor, org: Org) -> None:
    """403 unless the actor keeps the org's register (no actor: the system, e.g. the demo)."""
    if actor is not None and not access.manages(actor, org):
        raise PermissionDenied(access.NO_MANAGE)


def _clean_qualifications(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > MAX_QUALIFICATIONS:
        raise ValidationError({"qualifications": f"资格资历最多填写 {MAX_QUALIFICATIONS} 项，每行一项。"})
    if any(len(line) > 100 for line in lines):
        raise ValidationError({"qualifications": "每项资格资历不超过 100 个字，请分行填写。"})
    return "\n".join(lines)


def _validate(
    *, org: Org, role: str, subtype: str, covers: list[Org], since: date, until: date | None = None
) -> dict[str, str]:
    """The one-entry rules of the register, as field errors."""
    errors: dict[str, str] = {}
    if role not in TeamRole.values:
        errors["role"] = "请选择队伍类别。"
    if subtype and subtype not in Subtype.values:
        errors["subtype"] = "请选择有效的骨干类型。"
    elif subtype and role != TeamRole.BACKBONE:
        errors["subtype"] = "只有思政骨干需要选择骨干类型（青年干部、先进典型、宣讲骨干）。"
    if org.kind in (Org.Kind.LEADING_GROUP, Org.Kind.GROUP):
        errors["org"] = "名册只能登记在机关工委、机关党委、党总支或党支部，请选择其中之一。"
    if not covers:
        errors["covers"] = "请至少选择一个负责的党组织。"
    elif any(not c.path.startswith(org.path) or c.kind == Org.Kind.LEADING_GROUP for c in covers):
        errors["covers"] = "负责的党组织须是所属党组织本身或其下级党组织（党组除外）。"
    if until is not None and until < since:
        errors["until"] = "终止日期不能早于起始日期。"
    return errors


@transaction.atomic
def member_create(
    *,
    actor,
    person: Person,
    org: Org,
    role: str,
    since: date,
    is_full_time: bool = False,
    subtype: str = "",
    position: str = "",
    covers: list[Org] | None = None,
    qualifications: str = "",
) -> TeamMember:
    """Put a person on the register of an org (the actor keeps that org's register)."""
    _require_manager(actor, org)
    covers = list(covers) if covers else [org]
    errors = _validate(org=org, role=role, subtype=subtype, covers=covers, since=since)
    if person.left_on is not None:
        errors["person"] = "该同志已离开本单位，不能登记为队伍成员。"
    elif actor is not None and not Person.objects.visible_to(actor).filter(pk=person.pk).exists():
        errors["person"] = "只能登记您管理范围内的人员。"
    if (
        role in TeamRole.values
        and TeamMember.objects.filter(person=person, role=role, org=org, until__isnull=True).exists()
    ):
        errors["person"] = (
            f"{person.name}已在{org.name}的名册中登记为{TeamRole(role).label}，请直接修改原记录。"
        )
    qualifications = _clean_qualifications(qualifications)
    if errors:
        raise ValidationError(errors)
    member = TeamMember.objects.create(
        person=person,
        org=org,
        role=role,
        subtype=subtype if role == TeamRole.BACKBONE else "",
        is_full_time=bool(is_full_time),
        position=(position or "").strip()[:60],
        qualifications=qualifications,
        since=since,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    member.covers.set(covers)
    audit.record(
        actor,
        "team_member_create",
        member,
        {"person": person.pk, "org": org.pk, "role": role, "covers": sorted(c.pk for c in covers)},
    )
    if person.user_id:
        transaction.on_commit(lambda: _tell_person(member.pk, "create"))
    return member


@transaction.atomic
def member_update(*, actor, member: TeamMember, version: int, covers: list[Org] | None = None, **changes):
    """Change an entry's role, type, full/part-time, position, qualifications, start or covered orgs (CAS)."""
    _require_manager(actor, member.org)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"不能修改这些字段：{sorted(unknown)}")
    if member.until is not None:
        raise Conflict("该成员的队伍身份已终止，不能再修改；如需恢复请重新登记。")
    if int(version) != member.version:
        raise Conflict(STALE)
    if "qualifications" in changes:
        changes["qualifications"] = _clean_qualifications(changes["qualifications"])
    if "position" in changes:
        changes["position"] = (changes["position"] or "").strip()[:60]
    role = changes.get("role", member.role)
    if role != TeamRole.BACKBONE:
        changes["subtype"] = ""
    new_covers = list(covers) if covers is not None else list(member.covers.all())
    errors = _validate(
        org=member.org,
        role=role,
        subtype=changes.get("subtype", member.subtype),
        covers=new_covers,
        since=changes.get("since", member.since),
    )
    if (
        role != member.role
        and TeamMember.objects.filter(
            person_id=member.person_id, role=role, org_id=member.org_id, until__isnull=True
        )
        .exclude(pk=member.pk)
        .exists()
    ):
        errors["role"] = f"该同志在本组织名册中已有一条“{TeamRole(role).label}”记录，请修改那一条。"
    if errors:
        raise ValidationError(errors)
    changed = {k: v for k, v in changes.items() if getattr(member, k) != v}
    old_covers = set(member.covers.values_list("pk", flat=True))
    covers_changed = covers is not None and {c.pk for c in new_covers} != old_covers
    if not changed and not covers_changed:
        return member
    updated = TeamMember.objects.filter(pk=member.pk, version=version, until__isnull=True).update(
        version=F("version") + 1, **changed
    )
    if not updated:
        raise Conflict(STALE)
    if covers_changed:
        member.covers.set(new_covers)
    for k, v in changed.items():
        setattr(member, k, v)
    member.version = int(version) + 1
    fields = sorted(changed) + (["covers"] if covers_changed else [])
    audit.record(actor, "team_member_update", member, {"fields": fields, "version": member.version})
    return member


@transaction.atomic
def member_end(*, actor, member: TeamMember, version: int, until: date, reason: str = "") -> TeamMember:
    """End a person's place on the register (调整、退休、离职 …) from a day on; the history stays."""
    _require_manager(actor, member.org)
    if member.until is not None:
        raise Conflict("该成员的队伍身份已经终止。")
    if int(version) != member.version:
        raise Conflict(STALE)
    reason = (reason or "").strip()
    errors = {}
    if until is None:
        errors["until"] = "请填写终止日期。"
    elif until < member.since:
        errors["until"] = "终止日期不能早于起始日期。"
    if len(reason) > 200:
        errors["reason"] = "终止原因不超过 200 个字。"
    if errors:
        raise ValidationError(errors)
    updated = TeamMember.objects.filter(pk=member.pk, version=version, until__isnull=True).update(
        version=F("version") + 1, until=until, end_reason=reason
    )
    if not updated:
        raise Conflict(STALE)
    member.until, member.end_reason, member.version = until, reason, int(version) + 1
    audit.record(actor, "team_member_end", member, {"until": until.isoformat(), "version": member.version})
    return member


def _tell_person(member_id: int, what: str) -> None:
    """Tell the person they are on the register (their own record, T0; no reason, no judgement)."""
    from django.urls import NoReverseMatch, reverse

    from sizheng.core.notify import notify

    member = TeamMember.objects.select_related("person__user", "org").filter(pk=member_id).first()
    if member is None or member.person.user is None or not member.person.user.is_active:
        return
    try:
        url = reverse("team:detail", args=[member.pk])
    except NoReverseMatch:
        url = ""
    notify(
        [member.person.user],
        title=f"您已登记为{member.org.name}思政工作队伍成员（{member.get_role_display()}）",
        body="您参加的理论学习和组织生活会自动计入本人的培训记录，无需另行填报。",
        url=url,
    )


# --- trainings outside the platform (上级调训) ----------------------------------------------------


@transaction.atomic
def training_add(
    *,
    actor,
    member: TeamMember,
    kind: str,
    title: str,
    starts_on: date,
    ends_on: date,
    organiser: str = "",
    days: Decimal | None = None,
) -> ExternalTraining:
    """Record a training held outside the platform (上级调训, 党校培训): shown apart, never counted as 学时."""
    _require_manager(actor, member.org)
    errors = {}
    if kind not in ExternalTraining.Kind.values:
        errors["kind"] = "请选择培训类型。"
    if not (title or "").strip():
        errors["title"] = "请填写培训名称。"
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = "结束日期不能早于开始日期。"
    if days is not None and not (Decimal("0.5") <= days <= Decimal("365")):
        errors["days"] = "天数应在 0.5 到 365 之间。"
    if errors:
        raise ValidationError(errors)
    training = ExternalTraining.objects.create(
        member=member,
        kind=kind,
        title=title.strip()[:200],
        organiser=(organiser or "").strip()[:100],
        starts_on=starts_on,
        ends_on=ends_on,
        days=days,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit.record(actor, "team_training_add", training, {"member": member.pk, "kind": kind})
    return training


@transaction.atomic
def training_remove(*, actor, training: ExternalTraining) -> None:
    """Remove a training entered by mistake (audited)."""
    _require_manager(actor, training.member.org)
    pk, member_id = training.pk, training.member_id
    training.delete()
    audit.record(actor, "team_training_remove", ("team.externaltraining", pk), {"member": member_id})


# --- staffing gaps → duties ------------------------------------------------------------------------


def gap_key(rule: CoverageRule, org_id: int, year: int) -> str:
    """The exactly-once key of a gap's duty: one per rule, org and year."""
    return f"team:gap:{rule.code}:{org_id}:{year}"


def open_gap(*, actor, rule: CoverageRule, org: Org, year: int, members: int, message: str) -> Gap | None:
    """Record the gap and open its duty; None when it was opened before (the unique gap row decides)."""
    from sizheng.duties.models import SourceKind
    from sizheng.duties.services import duty_open

    try:
        with transaction.atomic():
            gap = Gap.objects.create(
                rule=rule,
                org=org,
                year=year,
                members=members,
                opened_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError:
        return None
    duty = duty_open(
        org=org,
        title=rule.duty_title,
        due_on=calendar.add_workdays(timezone.localdate(), GAP_DUTY_WORKDAYS),
        source=(SourceKind.TEAM, gap.pk),
        actor=actor,
        description=f"{year}年队伍配备检查：{org.name}{message}规则：{rule.code} {rule.label}。依据：{rule.source}",
        category="队伍建设",
        evidence_required="任职文件或名册登记情况",
    )
    Gap.objects.filter(pk=gap.pk).update(duty_id=duty.pk)
    gap.duty_id = duty.pk
    audit.record(
        actor, "team_gap_duty_open", gap, {"rule": rule.code, "org": org.pk, "year": year, "duty": duty.pk}
    )
    return gap


@transaction.atomic
def gap_duty_open(*, actor, rule: CoverageRule, org: Org, today: date | None = None) -> tuple[Gap, bool]:
    """Turn this year's gap of ``rule`` at ``org`` into a duty (one click); (gap, opened now).

    The gap is checked again here, so only a real gap opens a duty; a gap already turned into a
    duty (by a click or the daily job) answers with that one instead of opening a second.
    """
    from sizheng.team import coverage

    _require_manager(actor, org)
    today = today or timezone.localdate()
    year = today.year
    existing = Gap.objects.filter(rule=rule, org=org, year=year).first()
    if existing is not None:
        return existing, False
    if not rule.is_active:
        raise ValidationError({"rule": "该规则已停用，不能再据此部署事项。"})
    result = coverage.compute(year, today=today, rules=[rule])
    row = result.rows.get(org.pk)
    cell = row.cells.get(rule.code) if row else None
    if cell is None or not cell.is_gap:
        raise ValidationError({"rule": f"{org.name}目前没有“{rule.label}”的缺口，无需部署事项。"})
    gap = open_gap(actor=actor, rule=rule, org=org, year=year, members=row.members, message=cell.message)
    if gap is None:  # opened concurrently
        return Gap.objects.get(rule=rule, org=org, year=year), False
    return gap, True


# --- rules as data ---------------------------------------------------------------------------------


@transaction.atomic
def rule_update(
    *, actor, rule: CoverageRule, version: int, min_members: int, count: int, severity: str, is_active: bool
) -> CoverageRule:
    """Change a rule's member threshold, minimum, severity or whether it is in force (committee admin, CAS)."""
    if actor is not None and not access.keeps_everything(actor):
        raise PermissionDenied(access.NO_RULE_ADMIN)
    if int(version) != rule.version:
        raise Conflict("该规则已被他人修改，请刷新页面后重新填写。")
    errors = {}
    if not 0 <= int(min_members) <= 10000:
        errors["min_members"] = "党员人数门槛应在 0 到 10000 之间。"
    if not 1 <= int(count) <= 20:
        errors["count"] = "至少配备人数应在 1 到 20 之间。"
    if severity not in CoverageRule.Severity.values:
        errors["severity"] = "请选择有效的严重程度。"
    if errors:
        raise ValidationError(errors)
    new = {
        "min_members": int(min_members),
        "count": int(count),
        "severity": severity,
        "is_active": bool(is_active),
    }
    changes = {k: v for k, v in new.items() if getattr(rule, k) != v}
    if not changes:
        return rule
    updated = CoverageRule.objects.filter(pk=rule.pk, version=version).update(
        version=F("version") + 1, **changes
    )
    if not updated:
        raise Conflict("该规则已被他人修改，请刷新页面后重新填写。")
    for k, v in changes.items():
        setattr(rule, k, v)
    rule.version = int(version) + 1
    audit.record(actor, "team_rule_update", rule, {"code": rule.code, "fields": sorted(changes)})
    return rule


@transaction.atomic
def rules_install_defaults(*, actor=None) -> int:
    """(Re)install the default rules (TEAM-1, TEAM-2); an administrator's settings are kept."""
    from sizheng.team.coverage import DEFAULTS

    created = 0
    for code, label, role, full_time, inherit, kinds, min_members, count, severity, source, local in DEFAULTS:
        row, made = CoverageRule.objects.get_or_create(
            code=code,
            defaults={"label": label, "team_role": role, "full_time_only": full_time, "inherit": inherit,
                      "org_kinds": kinds, "min_members": min_members, "count": count, "severity": severity,
                      "source": source, "is_local": local},
        )  # fmt: skip
        if not made:
            CoverageRule.objects.filter(pk=row.pk).update(label=label, source=source, is_local=local)
        created += made
    audit.record(actor, "team_rules_install_defaults", None, {"created": created})
    return created
