"""Every write of care cases (困难诉求): opening one (by the person, or on their behalf with their
consent recorded), the workflow, and the yearly re-check of ongoing hardship.

Details (category, tier, description, action notes) are T2: they never reach an audit row, a
notification, a duty, a log line or a URL. Concurrency: compare-and-swap on ``version``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from sizheng.care import workflow
from sizheng.care.access import is_handler
from sizheng.care.models import (
    CareAction,
    CareCase,
    Category,
    ConsentMethod,
    Handler,
    OpenedVia,
    Tier,
)
from sizheng.core import audit, calendar
from sizheng.core.apitools import Conflict
from sizheng.core.models import Role, RoleGrant, User
from sizheng.core.notify import notify
from sizheng.core.scheduler import remind
from sizheng.org.access import manages_person, scope_of, visible_person_q
from sizheng.org.models import Org, Person

# A 关爱跟进 duty is due this many workdays after it opens (the same span as a talk trigger's duty).
FOLLOW_UP_WORKDAYS = 10
DESCRIPTION_MAX = 4000
NOTE_MAX = 2000

# Content-free texts (ARCHITECTURE §5: no T2 in notifications or e-mails).
MSG_NEW = "有一项新的困难诉求待处理。"
MSG_PROGRESS = "您反映的困难诉求有新进展。"
MSG_PERSON_UPDATE = "有一项困难诉求有新情况，请查看。"
MSG_RECHECK = "有一项长期困难诉求到了年度复核时间。"
RESOLVED_EVIDENCE = "困难诉求已办结。"

_ACTION_KINDS = {
    "start": CareAction.Kind.TRANSITION,
    "resolve": CareAction.Kind.TRANSITION,
    "follow_up": CareAction.Kind.FOLLOW_UP,
    "rate": CareAction.Kind.FOLLOW_UP,
    "reopen": CareAction.Kind.REOPEN,
}
NOTE_KINDS = (CareAction.Kind.HELP, CareAction.Kind.VISIT)


def case_url(case: CareCase) -> str:
    return reverse("care:case_detail", args=[case.pk])


# --- whose case, which org, who handles it ---------------------------------------------------------


def _unit_root_org(unit_id: int) -> Org | None:
    """The 机关党委 / 党总支 / 党支部 directly under the root that holds the unit (not its 党组)."""
    return (
        Org.objects.filter(units=unit_id, depth=1)
        .exclude(kind=Org.Kind.LEADING_GROUP)
        .order_by("path")
        .first()
    )


def case_org_of(person: Person) -> Org | None:
    """The org a person's case belongs to: their org, or their unit's root org for staff who are not members."""
    if person.org_id:
        return person.org
    return _unit_root_org(person.unit_id)


def _ancestors(org: Org) -> list[Org]:
    """The org and its ancestors, deepest first (one query, from the materialised path)."""
    prefixes = [org.path[: i + 1] for i, ch in enumerate(org.path) if ch == "."]
    return list(Org.objects.filter(path__in=prefixes).order_by("-depth"))


def _granted(role: str, org_ids: list[int]) -> dict[int, set[int]]:
    """org id → user ids holding ``role`` over exactly that org today."""
    out: dict[int, set[int]] = {}
    rows = RoleGrant.objects.in_force(timezone.localdate()).filter(
        role=role, scope_kind=RoleGrant.ScopeKind.ORG, scope_id__in=org_ids
    )
    for user_id, scope_id in rows.values_list("user_id", "scope_id"):
        out.setdefault(scope_id, set()).add(user_id)
    return out


def secretary_org_for(org: Org, person: Person) -> Org:
    """The org whose 书记 handles the person's case: the person's org, or — when it has no 书记 in
    office (a 党小组, a vacancy) or the person is that 书记 — the nearest org above that has one."""
    chain = _ancestors(org)
    held = _granted(Role.SECRETARY, [o.pk for o in chain])
    for candidate in chain:
        if held.get(candidate.pk, set()) - {person.user_id}:
            return candidate
    return org


def union_org_for(org: Org) -> Org | None:
    """The org whose union handlers cover this org (the nearest assignment), or None."""
    chain = _ancestors(org)
    held = _granted(Role.UNION, [o.pk for o in chain])
    for candidate in chain:
        if held.get(candidate.pk):
            return candidate
    everywhere = RoleGrant.objects.in_force(timezone.localdate()).filter(
        role=Role.UNION, scope_kind=RoleGrant.ScopeKind.ALL
    )
    if chain and everywhere.exists():
        return chain[-1]
    return None


def opened_via_for(user, person: Person, org: Org | None) -> str | None:
    """How this user would open a case for this person (self, secretary, union), or None if they may not."""
    scope = scope_of(user)
    if scope.person_id and scope.person_id == person.pk:
        return OpenedVia.SELF
    if manages_person(user, person):
        return OpenedVia.SECRETARY
    if org is not None and scope.covers(Role.UNION, org.path):
        return OpenedVia.UNION
    return None


def openable_people(user) -> QuerySet[Person]:
    """People the user may open a case for on their behalf (managed people; for union handlers, the
    people of the orgs they cover), excluding the user themself."""
    scope = scope_of(user)
    q = Q(pk__in=[])
    if manages_any(user):
        q |= visible_person_q(user)
    if scope.has_everything(Role.UNION):
        q = Q()
    else:
        union_paths = scope.paths(Role.UNION)
        if union_paths:
            q |= _under(union_paths, "org__")
            roots = Org.objects.filter(_under(union_paths), depth=1).exclude(kind=Org.Kind.LEADING_GROUP)
            q |= Q(org__isnull=True, unit_id__in=roots.values("units"))
    qs = Person.objects.current().filter(q)
    if scope.person_id:
        qs = qs.exclude(pk=scope.person_id)
    return qs.select_related("org", "unit").distinct()


def _under(paths: list[str], prefix: str = "") -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{prefix}path__startswith": p})
    return q


def manages_any(user) -> bool:
    """A 书记 / 党务干部 somewhere, or the committee admin."""
    scope = scope_of(user)
    return scope.has_everything(Role.COMMITTEE_ADMIN) or bool(scope.paths(Role.SECRETARY, Role.ORG_ADMIN))


def may_open_on_behalf(user) -> bool:
    """Whether the on-behalf form makes sense for this user at all."""
    scope = scope_of(user)
    return manages_any(user) or scope.has_everything(Role.UNION) or bool(scope.paths(Role.UNION))


def handled_by_q(user) -> Q:
    """Cases the user handles (the same rule as ``access.is_handler``, as a filter)."""
    scope = scope_of(user)
    q = Q(pk__in=[])
    secretary_of = scope.org_ids.get(Role.SECRETARY, [])
    if secretary_of:
        q |= Q(handler=Handler.SECRETARY, handler_org_id__in=secretary_of)
    if scope.has_everything(Role.UNION):
        q |= Q(handler=Handler.UNION)
    for p in scope.paths(Role.UNION):
        q |= Q(handler=Handler.UNION, handler_org__path__startswith=p)
    return q


def handler_users(case: CareCase) -> list[User]:
    """The accounts that handle a case today: the handling org's 书记, or the union handlers covering it."""
    today = timezone.localdate()
    grants = RoleGrant.objects.in_force(today)
    if case.handler == Handler.UNION:
        chain = [o.pk for o in _ancestors(case.handler_org)]
        ids = grants.filter(
            Q(scope_kind=RoleGrant.ScopeKind.ORG, scope_id__in=chain) | Q(scope_kind=RoleGrant.ScopeKind.ALL),
            role=Role.UNION,
        ).values_list("user_id", flat=True)
    else:
        ids = grants.filter(
            role=Role.SECRETARY, scope_kind=RoleGrant.ScopeKind.ORG, scope_id=case.handler_org_id
        ).values_list("user_id", flat=True)
    return list(User.objects.filter(pk__in=set(ids), is_active=True).order_by("pk"))


def sides_of(user, case: CareCase) -> set[str]:
    """Which sides of the workflow the user stands on for this case."""
    sides = set()
    if is_handler(user, case):
        sides.add(workflow.HANDLER)
    scope = scope_of(user)
    if scope.person_id and scope.person_id == case.person_id:
        sides.add(workflow.PERSON)
    return sides


def available_actions(user, case: CareCase) -> list[str]:
    """The actions the case page offers this user now."""
    return workflow.allowed_actions(case.state, sides_of(user, case))


# --- reads of the screens and the API ----------------------------------------------------------


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filter_cases(user, data: dict) -> QuerySet[CareCase]:
    """The cases whose metadata the user sees, filtered by the ledger form's cleaned data (no T2 column)."""
    qs = CareCase.objects.visible_to(user).metadata_only().select_related("handler_org")
    if data.get("org") is not None:
        qs = qs.filter(org__path__startswith=data["org"].path)
    if data.get("state"):
        qs = qs.filter(state=data["state"])
    if data.get("handler"):
        qs = qs.filter(handler=data["handler"])
    if data.get("date_from"):
        qs = qs.filter(opened_at__gte=_day_start(data["date_from"]))
    if data.get("date_to"):
        qs = qs.filter(opened_at__lt=_day_start(data["date_to"] + timedelta(days=1)))
    if data.get("q"):
        qs = qs.filter(person__name__icontains=data["q"])
    if data.get("mine"):
        qs = qs.filter(handled_by_q(user))
    return qs.order_by("-opened_at", "-id")


def days_open(case: CareCase, now: datetime | None = None) -> int:
    """Days from 受理 to 解决 (or to now while still open)."""
    end = case.resolved_at or now or timezone.now()
    return max(0, (end - case.opened_at).days)


# --- opening a case ------------------------------------------------------------------------------


def _check_details(category: str, description: str, tier: str, handler: str, errors: dict) -> None:
    if category not in Category.values:
        errors["category"] = "请选择困难类别。"
    if not description.strip():
        errors["description"] = "请简要写明困难情况，便于承办人了解和帮扶。"
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = f"困难情况不得超过 {DESCRIPTION_MAX} 字。"
    if tier and tier not in Tier.values:
        errors["tier"] = "困难程度不在可选范围内。"
    if handler not in Handler.values:
        errors["handler"] = "请选择承办方（党组织书记或工会）。"


def _check_consent(consent_on: date | None, consent_method: str, today: date, errors: dict) -> None:
    # "未经本人同意不得公开具体信息": a case is never registered for someone without their consent.
    if consent_on is None:
        errors["consent_on"] = "代为登记困难诉求须先征得本人同意，请填写本人同意的日期。"
    elif consent_on > today:
        errors["consent_on"] = "本人同意的日期不能晚于今天。"
    if consent_method not in ConsentMethod.values:
        errors["consent_method"] = "请选择本人同意的方式（当面口头、书面签字或线上确认）。"


def _check_talk(actor, person: Person, talk, errors: dict) -> None:
    from sizheng.talks.access import can_read_content

    if not can_read_content(actor, talk) or not talk.participants.filter(person=person).exists():
        errors["source_talk"] = "只能关联您可以查看、且该同志参加了的谈话。"


@transaction.atomic
def care_case_open(
    *,
    actor,
    person: Person,
    category: str,
    description: str,
    tier: str = "",
    handler: str = Handler.SECRETARY,
    consent_on: date | None = None,
    consent_method: str = "",
    source_talk=None,
) -> CareCase:
    """Open a care case: by the person themself, or on their behalf (secretary, union) with consent recorded."""
    org = case_org_of(person)
    via = opened_via_for(actor, person, org)
    if via is None:
        raise PermissionDenied("您不能为该同志登记困难诉求。")
    today = timezone.localdate()
    errors: dict[str, str] = {}
    if person.left_on is not None:
        errors["person"] = "该同志已离开本单位，不能再登记困难诉求。"
    if org is None:
        errors["person"] = "该同志尚未编入党组织，所在单位也没有机关党组织，暂不能登记，请联系党务干部。"
    _check_details(category, description, tier or "", handler, errors)
    if via != OpenedVia.SELF:
        _check_consent(consent_on, consent_method, today, errors)
    if source_talk is not None:
        _check_talk(actor, person, source_talk, errors)
    handler_org = None
    if org is not None and "handler" not in errors:
        if handler == Handler.UNION:
            handler_org = union_org_for(org)
            if handler_org is None:
                errors["handler"] = "该同志所在党组织没有工会承办人，请选择由党组织书记承办。"
        else:
            handler_org = secretary_org_for(org, person)
    if errors:
        raise ValidationError(errors)
    user = actor if getattr(actor, "pk", None) else None
    on_behalf = via != OpenedVia.SELF
    case = CareCase.objects.create(
        person=person,
        org=org,
        unit_id=person.unit_id,
        opened_via=via,
        handler=handler,
        handler_org=handler_org,
        category=category,
        tier=tier or "",
        description=description.strip(),
        consent_on=consent_on if on_behalf else None,
        consent_method=consent_method if on_behalf else "",
        consent_recorded_by=user if on_behalf else None,
        source_talk=source_talk,
        opened_by=user,
    )
    CareAction.objects.create(case=case, kind=CareAction.Kind.ACCEPT, to_state=case.state, actor=user)
    if handler == Handler.SECRETARY:
        _open_duty(case, actor=user, today=today)
    # Ids and metadata only: never the category, tier or description (T2).
    audit.record(
        actor,
        "care_case_open",
        case,
        {
            "person": person.pk,
            "opened_via": via,
            "handler": handler,
            "handler_org": handler_org.pk,
            "source_talk": getattr(source_talk, "pk", None),
        },
    )
    case_id = case.pk
    transaction.on_commit(lambda: _notify_handlers(case_id, MSG_NEW, exclude=getattr(user, "pk", None)))
    return case


def _open_duty(case: CareCase, *, actor, today: date) -> None:
    """A "关爱跟进" duty for the handling org (generic title: the reason never leaves the case)."""
    from sizheng.duties.models import SourceKind
    from sizheng.duties.services import duty_open

    duty = duty_open(
        org=case.handler_org,
        title="关爱跟进",
        due_on=calendar.add_workdays(today, FOLLOW_UP_WORKDAYS),
        source=(SourceKind.CARE, case.pk),
        actor=actor,
    )
    CareCase.objects.filter(pk=case.pk).update(duty_id=duty.pk)
    case.duty_id = duty.pk


def _close_duty(case: CareCase, *, actor) -> None:
    from sizheng.duties.models import SourceKind
    from sizheng.duties.services import duty_close_from_source

    duty_close_from_source(source=(SourceKind.CARE, case.pk), actor=actor, evidence=RESOLVED_EVIDENCE)
    CareCase.objects.filter(pk=case.pk).update(duty_id=None)
    case.duty_id = None


def _notify_handlers(case_id: int, title: str, *, exclude: int | None = None) -> None:
    case = CareCase.objects.metadata_only().select_related("handler_org").filter(pk=case_id).first()
    if case is None:
        return
    users = [u for u in handler_users(case) if u.pk != exclude]
    notify(users, title=title, body=title, url=case_url(case))


def _notify_person(case_id: int, title: str, *, exclude: int | None = None) -> None:
    case = CareCase.objects.metadata_only().filter(pk=case_id).first()
    if case is None or not case.person.user_id or case.person.user_id == exclude:
        return
    notify([case.person.user], title=title, body=title, url=case_url(case))


# --- the workflow --------------------------------------------------------------------------------


def one_year_after(day: date) -> date:
    """The same day a year later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def _check_satisfaction(value, errors: dict) -> int | None:
    try:
        score = int(value)
    except (TypeError, ValueError):
        score = None
    if score is None or not 1 <= score <= 5:
        errors["satisfaction"] = "请选择满意度（1–5 分，5 分为非常满意）。"
        return None
    return score


@transaction.atomic
def care_case_transition(
    *,
    actor,
    case: CareCase,
    action: str,
    version: int,
    note: str = "",
    satisfaction: int | None = None,
    is_ongoing: bool | None = None,
    kind: str = "",
) -> CareCase:
    """Take one workflow step (table in ``workflow``): 403 off-side, 409 wrong state or stale version, 422 bad input.

    ``is_ongoing`` (resolve): the hardship lasts, so the case is re-checked a year later.
    ``kind`` (add_action): 走访慰问 or 帮扶措施 (the default).
    """
    t = workflow.TRANSITIONS.get(action)
    if t is None:
        raise ValidationError({"action": f"未知的操作：{action}。"})
    sides = sides_of(actor, case)
    if not (t.sides & sides):
        raise PermissionDenied(f"您不能对该困难诉求执行“{t.label}”。")
    if case.state not in t.sources:
        raise Conflict(f"该困难诉求当前状态为“{case.get_state_display()}”，不能执行“{t.label}”。")
    if version != case.version:
        raise Conflict("该困难诉求已被他人处理，请刷新页面后重试。")

    errors: dict[str, str] = {}
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = f"说明不得超过 {NOTE_MAX} 字。"
    elif "note" in t.needs and not note:
        errors["note"] = (
            "请说明重新打开的原因（如困难再次出现）。" if action == "reopen" else "请填写帮扶情况。"
        )
    score = _check_satisfaction(satisfaction, errors) if "satisfaction" in t.needs else None
    action_kind = _ACTION_KINDS.get(action, CareAction.Kind.HELP)
    if action == "add_action":
        action_kind = kind or CareAction.Kind.HELP
        if action_kind not in NOTE_KINDS:
            errors["kind"] = "请选择记录类型（走访慰问或帮扶措施）。"
    if errors:
        raise ValidationError(errors)

    now, today = timezone.now(), timezone.localdate()
    from_state, to_state = case.state, workflow.target_of(action, case.state)
    changes: dict = {}
    if action == "resolve":
        ongoing = case.is_ongoing if is_ongoing is None else bool(is_ongoing)
        changes.update(
            resolved_at=now, is_ongoing=ongoing, recheck_on=one_year_after(today) if ongoing else None
        )
    elif action in ("follow_up", "rate"):
        changes.update(satisfaction=score, followed_up_at=case.followed_up_at or now)
    elif action == "reopen":
        # A new round of help: the earlier resolution and its rating no longer describe the case.
        changes.update(
            reopen_count=F("reopen_count") + 1,
            resolved_at=None,
            followed_up_at=None,
            satisfaction=None,
            recheck_on=None,
        )
    updated = CareCase.objects.filter(pk=case.pk, version=version, state=from_state).update(
        state=to_state, version=F("version") + 1, **changes
    )
    if not updated:
        raise Conflict("该困难诉求已被他人处理，请刷新页面后重试。")
    case.refresh_from_db(
        fields=[
            "state",
            "version",
            "resolved_at",
            "followed_up_at",
            "satisfaction",
            "reopen_count",
            "is_ongoing",
            "recheck_on",
        ]
    )
    user = actor if getattr(actor, "pk", None) else None
    CareAction.objects.create(case=case, kind=action_kind, note=note, to_state=to_state, actor=user)
    audit.record(
        actor, f"care_case_{action}", case, {"from": from_state, "to": to_state, "version": case.version}
    )
    if case.handler == Handler.SECRETARY:
        if action == "resolve":
            _close_duty(case, actor=user)
        elif action == "reopen":
            _open_duty(case, actor=user, today=today)
    case_id, actor_id = case.pk, getattr(user, "pk", None)
    if workflow.PERSON in sides and action in ("reopen", "rate"):
        transaction.on_commit(lambda: _notify_handlers(case_id, MSG_PERSON_UPDATE, exclude=actor_id))
    elif action in ("start", "resolve", "reopen"):
        transaction.on_commit(lambda: _notify_person(case_id, MSG_PROGRESS, exclude=actor_id))
    return case


# --- yearly re-check of ongoing hardship ------------------------------------------------------------


def due_rechecks(today: date) -> QuerySet[CareCase]:
    """Ongoing cases whose re-check date has come."""
    return (
        CareCase.objects.metadata_only()
        .select_related("handler_org")
        .filter(is_ongoing=True, recheck_on__isnull=False, recheck_on__lte=today)
        .order_by("recheck_on", "pk")
    )


@transaction.atomic
def care_case_recheck(*, case: CareCase, today: date | None = None) -> bool:
    """Record a due yearly re-check: a RECHECK action, a 关爱跟进 duty, one reminder to the handler.

    The next re-check moves a year on first (compare-and-swap on the due date), so a job that runs
    twice records the re-check once.
    """
    today = today or timezone.localdate()
    due = case.recheck_on
    if due is None or due > today or not case.is_ongoing:
        return False
    next_on = one_year_after(due)
    while next_on <= today:
        next_on = one_year_after(next_on)
    if not CareCase.objects.filter(pk=case.pk, recheck_on=due).update(
        recheck_on=next_on, version=F("version") + 1
    ):
        return False
    case.recheck_on = next_on
    case.version += 1
    CareAction.objects.create(case=case, kind=CareAction.Kind.RECHECK, to_state=case.state, actor=None)
    if case.handler == Handler.SECRETARY:
        _open_duty(case, actor=None, today=today)
    audit.record(
        None,
        "care_case_recheck",
        case,
        {"recheck_on": due.isoformat(), "next_recheck_on": next_on.isoformat()},
    )
    remind(
        f"care:recheck:{case.pk}:{due.isoformat()}",
        handler_users(case),
        title=MSG_RECHECK,
        body="请走访了解该同志的近况；困难仍在或再次出现的，可以在诉求页面重新打开办理。",
        url=case_url(case),
    )
    return True


def _on_duty_closed(duty) -> None:
    """A 关爱跟进 duty closed by hand: the case no longer points at an open duty."""
    CareCase.objects.filter(pk=duty.source_id, duty_id=duty.pk).update(duty_id=None)


def _register_close_handler() -> None:
    from sizheng.duties.models import SourceKind
    from sizheng.duties.services import on_close

    on_close(SourceKind.CARE)(_on_duty_closed)


_register_close_handler()
