"""Every write of the duties app: opening duties (the one entry point for all apps), the workflow,
campaigns and lists. Concurrency: compare-and-swap on ``version`` (works on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sizheng.core import audit, calendar
from sizheng.core.apitools import Conflict
from sizheng.core.notify import notify
from sizheng.duties import access
from sizheng.duties.models import OPEN_STATES, Campaign, Duty, DutyEvent, DutyList, SourceKind, State
from sizheng.duties.workflow import ASSIGNER, OWNER, SUPERVISOR, TRANSITIONS
from sizheng.org.models import Org, Person

# Titles of duties opened from T2/T3 data: generic, never the reason (ARCHITECTURE §1).
SENSITIVE_TITLES = {
    SourceKind.TALK: "谈心谈话提醒",
    SourceKind.TALK_TRIGGER: "谈心谈话提醒",
    SourceKind.CARE: "关爱跟进",
}

# source kind → function(duty) run inside the transaction when a duty of that kind closes.
_CLOSE_HANDLERS: dict[str, list[Callable[[Duty], Any]]] = {}


def on_close(source_kind: str):
    """Register what happens in an app's domain when a duty of its source kind is closed (销号)."""

    def wrap(func):
        _CLOSE_HANDLERS.setdefault(source_kind, []).append(func)
        return func

    return wrap


def due_date(day: date) -> date:
    """A deadline that falls on a rest day moves to the next workday (the usual rule for 期间届满)."""
    return day if calendar.is_workday(day) else calendar.add_workdays(day, 1)


def _source(source) -> tuple[str, int | None]:
    if isinstance(source, tuple):
        kind, sid = source
    else:
        kind, sid = source, None
    if kind not in SourceKind.values:
        raise ValidationError(f"未知的事项来源：{kind}。")
    return kind, sid


@transaction.atomic
def duty_open(
    *,
    org: Org,
    title: str,
    due_on: date,
    source=SourceKind.MANUAL,
    actor=None,
    assigning_org: Org | None = None,
    owner: Person | None = None,
    description: str = "",
    supervising_org: Org | None = None,
    priority: str = "normal",
    tags: str = "",
    evidence_required: str = "",
    category: str = "",
    duty_list: DutyList | None = None,
    campaign: Campaign | None = None,
    sensitive: bool = False,
) -> Duty:
    """Open a duty — the one entry point every app uses (``source`` = kind or (kind, id))."""
    kind, sid = _source(source)
    if assigning_org is None:
        assigning_org = org.parent or org
    if sensitive or kind in SENSITIVE_TITLES:
        sensitive = True
        title, description = SENSITIVE_TITLES.get(kind, "工作提醒"), ""
    if not title.strip():
        raise ValidationError({"title": "请填写事项名称。"})
    if owner is not None and owner.left_on is not None:
        raise ValidationError({"owner": "责任人已离开本单位，请另选责任人。"})
    duty = Duty.objects.create(
        title=title.strip(),
        description=description,
        category=category,
        assignee_org=org,
        owner=owner,
        assigning_org=assigning_org,
        supervising_org=supervising_org,
        due_on=due_date(due_on),
        evidence_required=evidence_required,
        priority=priority,
        tags=tags,
        source_kind=kind,
        source_id=sid,
        is_sensitive=sensitive,
        duty_list=duty_list,
        campaign=campaign,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    DutyEvent.objects.create(
        duty=duty, action="open", to_state=duty.state, actor=duty.created_by, payload={"source": kind}
    )
    audit.record(actor, "duty_open", duty, {"source": kind, "org": org.pk})
    transaction.on_commit(lambda: _notify(duty.pk, "open"))
    return duty


def sides_of(user, duty: Duty) -> set[str]:
    """Which sides of the workflow the user stands on for this duty."""
    sides = set()
    if access.is_owner_side(user, duty):
        sides.add(OWNER)
    if access.is_assigner(user, duty):
        sides.add(ASSIGNER)
    if access.is_supervisor(user, duty):
        sides.add(SUPERVISOR)
    return sides


def available_actions(user, duty: Duty) -> list[str]:
    """The actions the page offers this user now."""
    from sizheng.duties.workflow import allowed_actions

    actions = allowed_actions(duty.state, sides_of(user, duty))
    if duty.requested_due_on is None:
        actions = [a for a in actions if a not in ("approve_extension", "reject_extension")]
    else:
        actions = [a for a in actions if a != "request_extension"]  # one pending request at a time
    return actions


@transaction.atomic
def duty_transition(
    *,
    duty: Duty,
    action: str,
    actor,
    version: int,
    comment: str = "",
    evidence: str = "",
    late_reason: str = "",
    new_due_on: date | None = None,
    owner_id: int | None = None,
    reason: str = "",
    today: date | None = None,
) -> Duty:
    """Take one workflow action: checks side (403), state and version (409), fields (422); CAS write."""
    today = today or timezone.localdate()
    t = TRANSITIONS.get(action)
    if t is None:
        raise ValidationError({"action": f"未知的操作：{action}。"})
    if not (t.sides & sides_of(actor, duty)):
        raise PermissionDenied(f"您不能对该事项执行“{t.label}”。")
    if duty.state not in t.sources:
        raise Conflict(f"该事项当前状态为“{duty.get_state_display()}”，不能执行“{t.label}”。")
    if version != duty.version:
        raise Conflict("该事项已被他人处理，请刷新页面后重试。")

    changes: dict[str, Any] = {}
    payload: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if action == "report":
        if not evidence.strip():
            errors["evidence"] = "报送时须填写落实情况及佐证说明。"
        late = today > duty.due_on
        if late and not late_reason.strip():
            errors["late_reason"] = "已超过完成时限，请说明逾期原因（逾期仍可报送，将标记为逾期）。"
        changes.update(
            evidence=evidence.strip(),
            is_late=late,
            late_reason=late_reason.strip() if late else "",
            reported_on=today,
        )
    elif action in ("return", "cancel"):
        if not reason.strip():
            errors["reason"] = "请填写退回理由。" if action == "return" else "请填写撤销理由。"
        if action == "return":
            changes["returns"] = F("returns") + 1
        payload["reason"] = reason.strip()
    elif action == "pass":
        changes["closed_on"] = today
    elif action == "request_extension":
        if new_due_on is None:
            errors["new_due_on"] = "请选择申请延期到的日期。"
        elif new_due_on <= duty.due_on:
            errors["new_due_on"] = "延期后的日期必须晚于原完成时限。"
        if not reason.strip():
            errors["reason"] = "请说明申请延期的理由。"
        if duty.requested_due_on is not None:
            raise Conflict("已有一项延期申请在等待审批，请等审批后再申请。")
        if not errors:
            changes.update(requested_due_on=due_date(new_due_on), extension_reason=reason.strip())
            payload.update(new_due_on=due_date(new_due_on).isoformat(), reason=reason.strip())
    elif action in ("approve_extension", "reject_extension"):
        if duty.requested_due_on is None:
            raise Conflict("该事项没有待审批的延期申请。")
        payload.update(old_due_on=duty.due_on.isoformat(), new_due_on=duty.requested_due_on.isoformat())
        if action == "approve_extension":
            changes["due_on"] = duty.requested_due_on
        changes.update(requested_due_on=None, extension_reason="")
    elif action == "reassign":
        owner = Person.objects.filter(pk=owner_id, left_on__isnull=True).first() if owner_id else None
        if owner is None:
            errors["owner_id"] = "请选择新的责任人。"
        elif owner.unit_id not in set(duty.assignee_org.units.values_list("pk", flat=True)):
            errors["owner_id"] = "新的责任人须是责任单位的人员。"
        else:
            payload.update(old_owner=duty.owner_id, new_owner=owner.pk)
            changes["owner_id"] = owner.pk
    if errors:
        raise ValidationError(errors)

    to_state = t.target or duty.state
    updated = Duty.objects.filter(pk=duty.pk, version=version, state=duty.state).update(
        state=to_state, version=F("version") + 1, **changes
    )
    if not updated:
        raise Conflict("该事项已被他人处理，请刷新页面后重试。")
    from_state = duty.state
    duty.refresh_from_db()
    DutyEvent.objects.create(
        duty=duty,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        comment=comment.strip(),
        payload=payload,
    )
    # Field names and states only: evidence and reasons stay in the duty's own timeline.
    audit.record(actor, f"duty_{action}", duty, {"from": from_state, "to": to_state, "version": duty.version})
    if to_state == State.CLOSED:
        for handler in _CLOSE_HANDLERS.get(duty.source_kind, []):
            handler(duty)
    transaction.on_commit(lambda: _notify(duty.pk, action))
    return duty


@transaction.atomic
def duty_close_from_source(
    *, source: tuple[str, int], actor, evidence: str, today: date | None = None
) -> list[Duty]:
    """Close (销号) the open duties of a finding when the finding itself is the evidence — e.g. a
    "talk due" duty when a talk with that person is recorded. No side check: the caller's own
    service decided; the event names the system as the closer. Close handlers do not run (the
    finding's app is the one closing)."""
    kind, sid = _source(source)
    today = today or timezone.localdate()
    closed = []
    for duty in Duty.objects.filter(source_kind=kind, source_id=sid, state__in=list(OPEN_STATES)):
        updated = Duty.objects.filter(pk=duty.pk, version=duty.version, state=duty.state).update(
            state=State.CLOSED,
            version=F("version") + 1,
            evidence=evidence,
            reported_on=today,
            closed_on=today,
            is_late=today > duty.due_on,
        )
        if not updated:
            raise Conflict("该事项已被他人处理，请刷新页面后重试。")
        from_state = duty.state
        duty.refresh_from_db()
        DutyEvent.objects.create(
            duty=duty,
            action="pass",
            from_state=from_state,
            to_state=State.CLOSED,
            actor=actor if getattr(actor, "pk", None) else None,
            comment="系统自动销号：" + evidence,
            payload={"auto": True},
        )
        audit.record(actor, "duty_auto_close", duty, {"source": kind, "from": from_state})
        closed.append(duty)
    return closed


# Who hears about what: the owner side, or the assigning org's admins.
_TELL_OWNER = {
    "open",
    "return",
    "pass",
    "urge",
    "approve_extension",
    "reject_extension",
    "reassign",
    "cancel",
}
_TELL_ASSIGNER = {"report", "request_extension"}


def owner_side_users(duty: Duty) -> list:
    """The owner and the assignee org's secretaries/org_admins (their accounts)."""
    from sizheng.core.models import Role, RoleGrant, User

    ids = set(
        RoleGrant.objects.in_force(timezone.localdate())
        .filter(role__in=[Role.SECRETARY, Role.ORG_ADMIN], scope_kind="org", scope_id=duty.assignee_org_id)
        .values_list("user_id", flat=True)
    )
    if duty.owner_id and duty.owner.user_id:
        ids.add(duty.owner.user_id)
    return list(User.objects.filter(pk__in=ids, is_active=True))


def assigner_users(duty: Duty) -> list:
    """The assigning org's secretaries/org_admins (and committee admins for the root)."""
    from django.db.models import Q

    from sizheng.core.models import Role, RoleGrant, User

    q = Q(role__in=[Role.SECRETARY, Role.ORG_ADMIN], scope_kind="org", scope_id=duty.assigning_org_id)
    if duty.assigning_org.parent_id is None:
        q |= Q(role=Role.COMMITTEE_ADMIN)
    ids = RoleGrant.objects.in_force(timezone.localdate()).filter(q).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=set(ids), is_active=True))


def _notify(duty_id: int, action: str) -> None:
    duty = Duty.objects.select_related("owner", "assigning_org").filter(pk=duty_id).first()
    if duty is None:
        return
    label = "新部署" if action == "open" else TRANSITIONS[action].label
    url = f"/duties/{duty.pk}/"
    if action in _TELL_OWNER:
        notify(owner_side_users(duty), title=f"【{label}】{duty.title}", url=url)
    if action in _TELL_ASSIGNER:
        notify(assigner_users(duty), title=f"【{label}】{duty.title}", url=url)


@transaction.atomic
def campaign_create(
    *,
    actor,
    title: str,
    description: str,
    assigning_org: Org,
    orgs: list[Org],
    due_on: date,
    evidence_required: str = "",
    priority: str = "normal",
) -> Campaign:
    """Assign one duty to many orgs at once (集中部署)."""
    if not orgs:
        raise ValidationError({"orgs": "请至少选择一个责任单位。"})
    campaign = Campaign.objects.create(
        title=title,
        description=description,
        assigning_org=assigning_org,
        due_on=due_date(due_on),
        created_by=actor,
    )
    for org in orgs:
        duty_open(
            org=org,
            title=title,
            due_on=due_on,
            source=(SourceKind.CAMPAIGN, campaign.pk),
            actor=actor,
            assigning_org=assigning_org,
            description=description,
            evidence_required=evidence_required,
            priority=priority,
            campaign=campaign,
        )
    audit.record(actor, "campaign_create", campaign, {"orgs": len(orgs)})
    return campaign


# --- lists and evidence files (the screens' writes) ---------------------------------------------


def _list_duties_open(
    *, actor, duty_list: DutyList, assigning_org: Org, items: list[dict], today: date
) -> int:
    """Open the list's duties; occurrences already past are left out (a list made mid-year starts today)."""
    opened = 0
    for item in items:
        if item["due_on"] < today:
            continue
        duty_open(
            org=duty_list.org,
            title=item["title"],
            due_on=item["due_on"],
            source=(SourceKind.TEMPLATE, duty_list.pk),
            actor=actor,
            assigning_org=assigning_org,
            description=item.get("description", ""),
            category=item.get("category", ""),
            evidence_required=item.get("evidence_required", ""),
            priority=item.get("priority", "normal"),
            tags=item.get("tags", ""),
            sensitive=item.get("sensitive", False),
            duty_list=duty_list,
        )
        opened += 1
    return opened


def _new_list(*, actor, org: Org, year: int, title: str, template: str) -> DutyList:
    from sizheng.duties.template_data import list_title

    title = (title or "").strip() or list_title(org.name, year)
    if DutyList.objects.filter(org=org, year=year, title=title).exists():
        raise ValidationError({"title": f"{org.name}已有名为“{title}”的{year}年度责任清单，请换一个名称。"})
    return DutyList.objects.create(
        org=org,
        year=year,
        title=title,
        template=template,
        created_by=actor if getattr(actor, "pk", None) else None,
    )


@transaction.atomic
def duty_list_create_from_template(
    *,
    actor,
    org: Org,
    year: int,
    assigning_org: Org | None = None,
    title: str = "",
    today: date | None = None,
) -> DutyList:
    """A year's list for an org from the default 机关思想政治工作责任清单 (one duty per item and period)."""
    from sizheng.duties import template_data

    today = today or timezone.localdate()
    duty_list = _new_list(actor=actor, org=org, year=year, title=title, template=template_data.TEMPLATE_KEY)
    opened = _list_duties_open(
        actor=actor,
        duty_list=duty_list,
        assigning_org=assigning_org or org.parent or org,
        items=template_data.template_duties(year),
        today=today,
    )
    audit.record(
        actor,
        "duty_list_create",
        duty_list,
        {"org": org.pk, "year": year, "from": "template", "duties": opened},
    )
    return duty_list


def _shift_year(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@transaction.atomic
def duty_list_copy_from_last_year(
    *,
    actor,
    org: Org,
    year: int,
    assigning_org: Org | None = None,
    title: str = "",
    today: date | None = None,
) -> DutyList:
    """A year's list with the same items as the org's list of the year before, dates moved a year on."""
    today = today or timezone.localdate()
    previous = DutyList.objects.filter(org=org, year=year - 1).order_by("-created_at", "-pk").first()
    if previous is None:
        raise ValidationError(
            {"mode": f"{org.name}没有{year - 1}年度的责任清单，无法复制，请改为“从默认模板创建”。"}
        )
    items = [
        {"title": d.title, "category": d.category, "description": d.description,
         "evidence_required": d.evidence_required, "priority": d.priority, "tags": d.tags,
         "sensitive": d.is_sensitive, "due_on": _shift_year(d.due_on, 1)}
        for d in previous.duties.exclude(state=State.CANCELLED).order_by("due_on", "pk")
    ]  # fmt: skip
    duty_list = _new_list(actor=actor, org=org, year=year, title=title, template=previous.template)
    opened = _list_duties_open(
        actor=actor,
        duty_list=duty_list,
        assigning_org=assigning_org or org.parent or org,
        items=items,
        today=today,
    )
    audit.record(
        actor,
        "duty_list_create",
        duty_list,
        {"org": org.pk, "year": year, "from": previous.pk, "duties": opened},
    )
    return duty_list


@transaction.atomic
def duty_attach_file(*, actor, duty: Duty, upload):
    """Attach an evidence file to a duty (owner side, while open); a timeline entry records it."""
    from sizheng.core import files

    if not access.is_owner_side(actor, duty):
        raise PermissionDenied("只有责任人或责任单位的书记、党务干部可以上传佐证材料。")
    if not duty.is_open:
        raise Conflict(f"该事项当前状态为“{duty.get_state_display()}”，不能再上传佐证材料。")
    stored = files.store_upload(upload, actor=actor, owner_kind="duty", owner_id=duty.pk)
    DutyEvent.objects.create(
        duty=duty,
        action="attach",
        from_state=duty.state,
        to_state=duty.state,
        actor=actor,
        payload={"file": stored.name, "uid": str(stored.uid)},
    )
    return stored
