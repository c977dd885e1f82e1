"""Every write of the volunteer app, each audited: campaigns, activities, sign-ups and confirmed hours;
civility criteria, applications, their evidence and their review.

Rules encoded here (国办函〔2026〕12号, rules.md): hours exist only as the organiser's confirmation of
attendance after the activity — never self-reported, never app time; no points; a photo is never
required (attachments are optional everywhere). Stale versions answer 409 (``Conflict``), illegal
transitions 409, bad input a Chinese ``ValidationError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from sizheng.core import audit
from sizheng.core.apitools import Conflict
from sizheng.org.models import Office, Org, Person, Unit
from sizheng.volunteer import access, workflow
from sizheng.volunteer.models import (
    SEAT_STATUSES,
    Activity,
    ActivityState,
    Application,
    ApplicationItem,
    ApplicationState,
    Campaign,
    CivilityKind,
    Criterion,
    Signup,
    SignupStatus,
)

MAX_PLANNED_HOURS = Decimal("100")
MAX_CAPACITY = 10000
DEFAULT_VALID_YEARS = 3
MAX_VALID_YEARS = 5
ACTIVITY_FILE_KINDS = ("pdf", "docx", "doc", "wps", "ofd", "xlsx", "xls", "png", "jpg", "jpeg", "txt")
EVIDENCE_FILE_KINDS = (*ACTIVITY_FILE_KINDS, "pptx", "ppt", "zip")
STALE_ACTIVITY = "该志愿活动已被他人修改，请刷新页面后重新操作。"
STALE_APPLICATION = "该申报已被他人修改，请刷新页面后重新操作。"
STALE_SIGNUP = "该报名记录已经变化，请刷新页面后重试。"


def _user_or_none(actor):
    return actor if getattr(actor, "pk", None) else None


def _cas(model, obj, version: int | None, message: str, **changes) -> None:
    """Compare-and-swap on ``version``: 409 when someone else saved first."""
    if version is None:
        version = obj.version
    if not model.objects.filter(pk=obj.pk, version=int(version)).update(version=F("version") + 1, **changes):
        raise Conflict(message)
    for k, v in changes.items():
        setattr(obj, k, v)
    obj.version = int(version) + 1


def _hours(value, field: str, *, label: str = "时长") -> Decimal:
    """A number of hours to one decimal place (a ValidationError on the field otherwise)."""
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: f"{label}应为数字，例如 2 或 2.5。"}) from None
    if not hours.is_finite():
        raise ValidationError({field: f"{label}应为数字，例如 2 或 2.5。"})
    return hours


# --- campaigns -----------------------------------------------------------------------------------


def _require_committee(actor) -> None:
    if not access.reviews_civility(actor):
        raise PermissionDenied("只有机关工委管理员可以维护志愿行动和创建标准。")


@transaction.atomic
def campaign_create(*, actor, name: str, description: str = "", order: int | None = None) -> Campaign:
    """Add a volunteer campaign (committee admin)."""
    _require_committee(actor)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写志愿行动的名称。"})
    if Campaign.objects.filter(name=name).exists():
        raise ValidationError({"name": f"已有名为“{name}”的志愿行动。"})
    if order is None:
        order = Campaign.objects.count() + 1
    campaign = Campaign.objects.create(name=name, description=(description or "").strip(), order=order)
    audit.record(actor, "volunteer_campaign_create", campaign, {"order": order})
    return campaign


@transaction.atomic
def campaign_update(*, actor, campaign: Campaign, version: int, **changes) -> Campaign:
    """Rename, describe, reorder, retire or reinstate a campaign (committee admin; 409 when stale)."""
    _require_committee(actor)
    allowed = {"name", "description", "order", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"不能修改的字段：{sorted(unknown)}")
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
        if not changes["name"]:
            raise ValidationError({"name": "请填写志愿行动的名称。"})
        if Campaign.objects.filter(name=changes["name"]).exclude(pk=campaign.pk).exists():
            raise ValidationError({"name": f"已有名为“{changes['name']}”的志愿行动。"})
    if "description" in changes:
        changes["description"] = (changes["description"] or "").strip()
    changed = {k: v for k, v in changes.items() if getattr(campaign, k) != v}
    if changed:
        _cas(Campaign, campaign, version, "该志愿行动已被他人修改，请刷新页面后重新填写。", **changed)
        audit.record(actor, "volunteer_campaign_update", campaign, {"fields": sorted(changed)})
    return campaign


# --- activities ----------------------------------------------------------------------------------


def _activity_errors(
    *, title: str, starts_at: datetime | None, ends_at: datetime | None, place: str, planned_hours,
    capacity: int | None,
) -> tuple[dict, Decimal | None]:  # fmt: skip
    errors: dict[str, str] = {}
    if not (title or "").strip():
        errors["title"] = "请填写活动名称。"
    if not (place or "").strip():
        errors["place"] = "请填写活动地点。"
    if starts_at is None:
        errors["starts_at"] = "请填写开始时间。"
    if ends_at is None:
        errors["ends_at"] = "请填写结束时间。"
    elif starts_at is not None and ends_at <= starts_at:
        errors["ends_at"] = "结束时间必须晚于开始时间。"
    hours = None
    try:
        hours = _hours(planned_hours, "planned_hours", label="计划服务时长")
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    else:
        if hours <= 0:
            errors["planned_hours"] = "计划服务时长应大于 0。"
        elif hours > MAX_PLANNED_HOURS:
            errors["planned_hours"] = f"计划服务时长不能超过 {MAX_PLANNED_HOURS} 小时。"
        elif starts_at and ends_at and ends_at > starts_at:
            span = Decimal(int((ends_at - starts_at).total_seconds())) / Decimal(3600)
            if hours > span:
                errors["planned_hours"] = "计划服务时长不能超过活动开始到结束的时间。"
    if capacity is not None and not 1 <= int(capacity) <= MAX_CAPACITY:
        errors["capacity"] = f"名额应在 1 至 {MAX_CAPACITY} 之间；不限名额请留空。"
    return errors, hours


@transaction.atomic
def activity_create(
    *, actor, org: Org, campaign: Campaign, title: str, starts_at: datetime, ends_at: datetime, place: str,
    planned_hours, capacity: int | None = None, description: str = "", open_now: bool = False,
) -> Activity:  # fmt: skip
    """Plan an activity for an org the actor manages (opened for sign-up at once when ``open_now``)."""
    if not access.manages_activity(actor, Activity(org=org)):
        raise PermissionDenied("只有该党组织及其上级党组织的书记、党务干部可以组织志愿活动。")
    errors, hours = _activity_errors(
        title=title, starts_at=starts_at, ends_at=ends_at, place=place, planned_hours=planned_hours,
        capacity=capacity,
    )  # fmt: skip
    if not campaign.is_active:
        errors["campaign"] = f"志愿行动“{campaign.name}”已停用，请选择其他志愿行动。"
    if open_now and starts_at is not None and starts_at <= timezone.now():
        errors["starts_at"] = "活动已经开始，不能再开放报名；请调整开始时间，或先保存为计划。"
    if errors:
        raise ValidationError(errors)
    activity = Activity.objects.create(
        org=org, campaign=campaign, title=title.strip(), starts_at=starts_at, ends_at=ends_at,
        place=place.strip(), planned_hours=hours, capacity=capacity, description=(description or "").strip(),
        state=ActivityState.OPEN if open_now else ActivityState.PLANNED, created_by=_user_or_none(actor),
    )  # fmt: skip
    audit.record(
        actor, "volunteer_activity_create", activity,
        {"org": org.pk, "campaign": campaign.pk, "state": activity.state},
    )  # fmt: skip
    return activity


ACTIVITY_FIELDS = (
    "title",
    "campaign",
    "starts_at",
    "ends_at",
    "place",
    "planned_hours",
    "capacity",
    "description",
)


@transaction.atomic
def activity_update(*, actor, activity: Activity, version: int, **changes) -> Activity:
    """Edit a planned or open activity (409 when stale or already over/cancelled)."""
    if not access.manages_activity(actor, activity):
        raise PermissionDenied("只有组织单位的书记、党务干部可以修改该志愿活动。")
    unknown = set(changes) - set(ACTIVITY_FIELDS)
    if unknown:
        raise ValueError(f"不能修改的字段：{sorted(unknown)}")
    if activity.state not in workflow.EDITABLE_ACTIVITY:
        raise Conflict(f"该活动{activity.get_state_display()}，不能再修改。")
    merged = {f: changes.get(f, getattr(activity, f)) for f in ACTIVITY_FIELDS}
    errors, hours = _activity_errors(
        title=merged["title"], starts_at=merged["starts_at"], ends_at=merged["ends_at"], place=merged["place"],
        planned_hours=merged["planned_hours"], capacity=merged["capacity"],
    )  # fmt: skip
    campaign = merged["campaign"]
    if "campaign" in changes and campaign.pk != activity.campaign_id and not campaign.is_active:
        errors["campaign"] = f"志愿行动“{campaign.name}”已停用，请选择其他志愿行动。"
    if merged["capacity"] is not None and merged["capacity"] < activity.seats_taken:
        errors["capacity"] = f"已有 {activity.seats_taken} 人报名，名额不能少于已报名人数。"
    if errors:
        raise ValidationError(errors)
    merged["title"], merged["place"] = merged["title"].strip(), merged["place"].strip()
    merged["description"] = (merged["description"] or "").strip()
    merged["planned_hours"] = hours
    changed = {k: v for k, v in merged.items() if getattr(activity, k) != v}
    if changed:
        _cas(Activity, activity, version, STALE_ACTIVITY, **changed)
        audit.record(actor, "volunteer_activity_update", activity, {"fields": sorted(changed)})
    return activity


@transaction.atomic
def activity_transition(
    *, actor, activity: Activity, action: str, version: int, reason: str = ""
) -> Activity:
    """Open for sign-up, mark as over, or cancel (with a reason; signed-up people are told)."""
    if not access.manages_activity(actor, activity):
        raise PermissionDenied("只有组织单位的书记、党务干部可以办理该志愿活动。")
    try:
        t = workflow.check(workflow.ACTIVITY_TRANSITIONS, action, activity.state)
    except LookupError:
        raise ValidationError("不支持该操作。") from None
    except ValueError:
        raise Conflict(f"该活动当前为“{activity.get_state_display()}”，不能{_label(action)}。") from None
    reason = (reason or "").strip()
    changes: dict = {"state": t.target}
    if action == "open" and activity.has_started:
        raise Conflict("活动已经开始，不能再开放报名。")
    if action == "finish" and not activity.has_started:
        raise Conflict("活动尚未开始，不能标记为已结束；如不再举办，请取消活动。")
    if action == "cancel":
        if not reason:
            raise ValidationError({"reason": "请填写取消活动的原因。"})
        if activity.has_ended:
            raise Conflict("活动已经结束，不能取消；请确认参加情况。")
        changes["cancel_reason"] = reason[:300]
    from_state = activity.state
    _cas(Activity, activity, version, STALE_ACTIVITY, **changes)
    audit.record(actor, f"volunteer_activity_{action}", activity, {"from": from_state, "to": t.target})
    if action == "cancel":
        activity_id = activity.pk
        transaction.on_commit(lambda: _notify_cancelled(activity_id))
    return activity


def _label(action: str) -> str:
    t = workflow.ACTIVITY_TRANSITIONS.get(action) or workflow.APPLICATION_TRANSITIONS.get(action)
    return t.label if t else action


def _notify_cancelled(activity_id: int) -> None:
    """Tell the people signed up that the activity is cancelled."""
    from sizheng.core.notify import notify

    activity = Activity.objects.filter(pk=activity_id).first()
    if activity is None:
        return
    users = [
        s.person.user
        for s in Signup.objects.filter(activity_id=activity_id, status=SignupStatus.SIGNED_UP).select_related(
            "person__user"
        )
        if s.person.user_id and s.person.user.is_active
    ]
    start = timezone.localtime(activity.starts_at)
    notify(
        users,
        title=f"志愿活动已取消：{activity.title}",
        body=f"原定于{start:%m月%d日 %H:%M}开展的志愿活动“{activity.title}”已取消。原因：{activity.cancel_reason}",
        url=f"/volunteer/activities/{activity_id}/",
    )


@transaction.atomic
def activity_attach(*, actor, activity: Activity, upload) -> Activity:
    """Attach an optional file (活动方案, a notice); replaces the previous one. Never a required photo."""
    from sizheng.core import files

    if not access.manages_activity(actor, activity):
        raise PermissionDenied("只有组织单位的书记、党务干部可以上传活动附件。")
    if activity.state == ActivityState.CANCELLED:
        raise Conflict("该活动已取消，不能再上传附件。")
    try:
        stored = files.store_upload(
            upload, actor=actor, owner_kind="volunteer_activity", owner_id=activity.pk,
            allowed=ACTIVITY_FILE_KINDS,
        )  # fmt: skip
    except ValidationError as exc:
        raise ValidationError({"upload": exc.messages}) from exc
    Activity.objects.filter(pk=activity.pk).update(attachment=stored, version=F("version") + 1)
    activity.attachment, activity.version = stored, activity.version + 1
    audit.record(actor, "volunteer_activity_attach", activity, {"file": str(stored.uid)})
    return activity


# --- sign-ups ------------------------------------------------------------------------------------


def _take_seat(activity: Activity) -> None:
    """Take a seat by compare-and-swap: open, not yet started, and a seat left (safe under races)."""
    taken = Activity.objects.filter(
        Q(capacity__isnull=True) | Q(seats_taken__lt=F("capacity")),
        pk=activity.pk,
        state=ActivityState.OPEN,
        starts_at__gt=timezone.now(),
    ).update(seats_taken=F("seats_taken") + 1)
    if not taken:
        fresh = Activity.objects.filter(pk=activity.pk).values("state", "starts_at").first() or {}
        if fresh.get("state") != ActivityState.OPEN:
            raise Conflict("该活动当前不接受报名。")
        if fresh.get("starts_at") and fresh["starts_at"] <= timezone.now():
            raise Conflict("活动已经开始，不能再报名。")
        raise Conflict("该活动名额已满，请关注其他志愿活动。")
    activity.seats_taken += 1


@transaction.atomic
def signup_create(*, actor, activity: Activity) -> Signup:
    """Sign the actor (a person on the roster) up for an open activity that has not yet started."""
    person_id = access.scope_of(actor).person_id
    if person_id is None or not access.may_sign_up(actor, activity):
        raise PermissionDenied("该活动只面向组织单位及其下级党组织的人员，您不能报名。")
    existing = Signup.objects.filter(activity=activity, person_id=person_id).first()
    if existing is not None and existing.status != SignupStatus.WITHDRAWN:
        raise Conflict("您已经报名了该活动。")
    _take_seat(activity)
    now = timezone.now()
    if existing is not None:
        _cas(Signup, existing, existing.version, STALE_SIGNUP, status=SignupStatus.SIGNED_UP, signed_up_at=now,
             withdrawn_at=None)  # fmt: skip
        signup = existing
    else:
        try:
            with transaction.atomic():
                signup = Signup.objects.create(activity=activity, person_id=person_id, signed_up_at=now)
        except IntegrityError:
            raise Conflict("您已经报名了该活动。") from None
    audit.record(actor, "volunteer_signup", signup, {"activity": activity.pk, "person": person_id})
    return signup


@transaction.atomic
def signup_withdraw(*, actor, signup: Signup, version: int | None = None) -> Signup:
    """Withdraw one's own sign-up before the activity starts; the seat is given back."""
    if signup.person_id != access.scope_of(actor).person_id:
        raise PermissionDenied("只能取消本人的报名。")
    if signup.status != SignupStatus.SIGNED_UP:
        raise Conflict("该报名已经取消或已确认参加情况，不能再取消。")
    if signup.activity.has_started:
        raise Conflict("活动已经开始，不能再取消报名；如未能参加，组织单位确认时会如实登记。")
    _cas(Signup, signup, version, STALE_SIGNUP, status=SignupStatus.WITHDRAWN, withdrawn_at=timezone.now())
    Activity.objects.filter(pk=signup.activity_id, seats_taken__gt=0).update(seats_taken=F("seats_taken") - 1)
    audit.record(actor, "volunteer_signup_withdraw", signup, {"activity": signup.activity_id})
    return signup


@dataclass(frozen=True)
class Confirmation:
    """The organiser's record for one sign-up: attended with hours, or not attended."""

    signup_id: int
    attended: bool
    hours: object = None


@transaction.atomic
def attendance_confirm(*, actor, activity: Activity, version: int, rows: Iterable[Confirmation]) -> int:
    """Confirm attendance and hours per participant after the activity (the organiser only); a later
    call corrects earlier confirmations. The activity becomes 已结束. Returns the sign-ups changed."""
    if not access.manages_activity(actor, activity):
        raise PermissionDenied("只有组织单位的书记、党务干部可以确认参加情况和服务时长。")
    if activity.state == ActivityState.CANCELLED:
        raise Conflict("该活动已取消，没有参加情况需要确认。")
    if not activity.has_ended:
        raise Conflict("活动结束后才能确认参加情况和服务时长。")
    rows = list(rows)
    signups = {
        s.pk: s
        for s in Signup.objects.filter(activity=activity, status__in=SEAT_STATUSES).select_related("person")
    }
    ceiling = activity.duration_hours
    errors: dict[str, str] = {}
    plan: list[tuple[Signup, str, Decimal | None]] = []
    for row in rows:
        signup = signups.get(int(row.signup_id))
        if signup is None:
            errors[f"s{row.signup_id}_hours"] = "该报名记录不存在或已取消。"
            continue
        if not row.attended:
            plan.append((signup, SignupStatus.ABSENT, None))
            continue
        field = f"s{signup.pk}_hours"
        if row.hours in (None, ""):
            errors[field] = f"请填写{signup.person.name}的服务时长。"
            continue
        try:
            hours = _hours(row.hours, field, label="服务时长")
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
            continue
        if hours <= 0:
            errors[field] = f"{signup.person.name}的服务时长应大于 0；未参加的请选择“未参加”。"
        elif hours > ceiling:
            errors[field] = (
                f"{signup.person.name}的服务时长不能超过活动开始到结束的时间（{ceiling.normalize():f} 小时）。"
            )
        else:
            plan.append((signup, SignupStatus.ATTENDED, hours))
    if errors:
        raise ValidationError(errors)
    changes = {"state": ActivityState.DONE} if activity.state != ActivityState.DONE else {}
    _cas(Activity, activity, version, STALE_ACTIVITY, **changes)
    now, changed = timezone.now(), 0
    for signup, status, hours in plan:
        if signup.status == status and signup.hours == hours:
            continue
        Signup.objects.filter(pk=signup.pk).update(
            status=status, hours=hours, confirmed_at=now, confirmed_by=_user_or_none(actor),
            version=F("version") + 1,
        )  # fmt: skip
        changed += 1
    audit.record(
        actor, "volunteer_attendance_confirm", activity,
        {"signups": sorted(s.pk for s, _, _ in plan), "attended": sum(1 for _, st, _ in plan if st == "attended"),
         "changed": changed},
    )  # fmt: skip
    return changed


# --- civility: criteria --------------------------------------------------------------------------


@transaction.atomic
def criterion_create(
    *, actor, kind: str, title: str, requirement: str = "", order: int | None = None
) -> Criterion:
    """Add a criterion to a kind's checklist (committee admin); applications already started keep theirs."""
    _require_committee(actor)
    errors = {}
    if kind not in CivilityKind.values:
        errors["kind"] = "请选择创建类型。"
    if not (title or "").strip():
        errors["title"] = "请填写标准的内容。"
    if errors:
        raise ValidationError(errors)
    if order is None:
        order = Criterion.objects.filter(kind=kind).count() + 1
    criterion = Criterion.objects.create(
        kind=kind, title=title.strip(), requirement=(requirement or "").strip(), order=order
    )
    audit.record(actor, "civility_criterion_create", criterion, {"kind": kind, "order": order})
    return criterion


@transaction.atomic
def criterion_update(*, actor, criterion: Criterion, version: int, **changes) -> Criterion:
    """Edit, reorder, retire or reinstate a criterion (committee admin; 409 when stale)."""
    _require_committee(actor)
    allowed = {"title", "requirement", "order", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"不能修改的字段：{sorted(unknown)}")
    if "title" in changes:
        changes["title"] = (changes["title"] or "").strip()
        if not changes["title"]:
            raise ValidationError({"title": "请填写标准的内容。"})
    if "requirement" in changes:
        changes["requirement"] = (changes["requirement"] or "").strip()
    changed = {k: v for k, v in changes.items() if getattr(criterion, k) != v}
    if changed:
        _cas(Criterion, criterion, version, "该创建标准已被他人修改，请刷新页面后重新填写。", **changed)
        audit.record(actor, "civility_criterion_update", criterion, {"fields": sorted(changed)})
    return criterion


# --- civility: applications ----------------------------------------------------------------------


@transaction.atomic
def application_create(
    *, actor, kind: str, year: int, unit: Unit | None = None, office: Office | None = None,
    person: Person | None = None, summary: str = "",
) -> Application:  # fmt: skip
    """Start an application with the kind's current checklist (the unit's managers or the 工委)."""
    errors: dict[str, str] = {}
    if kind == CivilityKind.UNIT:
        if unit is None:
            errors["unit"] = "请选择申报单位。"
        office = person = None
    elif kind == CivilityKind.OFFICE:
        if office is None:
            errors["office"] = "请选择申报的处室。"
        else:
            unit = office.unit
        person = None
    elif kind == CivilityKind.FAMILY:
        if person is None:
            errors["person"] = "请选择代表家庭申报的干部职工。"
        elif person.left_on is not None:
            errors["person"] = f"{person.name}已不在本单位，不能代表家庭申报。"
        else:
            unit = person.unit
        office = None
    else:
        errors["kind"] = "请选择创建类型。"
    if not 2000 <= int(year or 0) <= 2100:
        errors["year"] = "申报年度应为 2000 至 2100 之间的四位数字。"
    if errors:
        raise ValidationError(errors)
    ids = access.managed_unit_ids(actor)
    if ids is not None and unit.pk not in ids:
        raise PermissionDenied("只能为本人所在党组织覆盖的单位申报。")
    pending = Application.objects.filter(
        kind=kind, unit=unit, office=office, person=person, state__in=workflow.PENDING_APPLICATION
    )
    if pending.exists():
        raise ValidationError("该申报对象已有一份尚未审核完成的申报，请在原申报中继续填写。")
    criteria = list(Criterion.objects.filter(kind=kind, is_active=True).order_by("order", "pk"))
    if not criteria:
        raise ValidationError(
            f"“{CivilityKind(kind).label}”还没有创建标准，请先请机关工委管理员维护创建标准。"
        )
    application = Application.objects.create(
        kind=kind, year=int(year), unit=unit, office=office, person=person, summary=(summary or "").strip(),
        created_by=_user_or_none(actor),
    )  # fmt: skip
    ApplicationItem.objects.bulk_create(
        [
            ApplicationItem(
                application=application, criterion=c, title=c.title, requirement=c.requirement, order=i + 1
            )  # fmt: skip
            for i, c in enumerate(criteria)
        ]
    )
    audit.record(
        actor, "civility_application_create", application,
        {"kind": kind, "year": int(year), "unit": unit.pk, "office": getattr(office, "pk", None),
         "person": getattr(person, "pk", None), "criteria": len(criteria)},
    )  # fmt: skip
    return application


@transaction.atomic
def application_update(
    *, actor, application: Application, version: int, summary: str, notes: dict[int, str]
) -> Application:
    """Save the summary and the evidence notes of the checklist (draft or returned only; 409 when stale)."""
    access.require_manages_application(actor, application)
    if application.state not in workflow.EDITABLE_APPLICATION:
        raise Conflict(f"该申报{application.get_state_display()}，不能再修改。")
    items = {i.pk: i for i in application.items.all()}
    unknown = set(notes) - set(items)
    if unknown:
        raise ValidationError("提交的申报材料与该申报不符，请刷新页面后重新填写。")
    summary = (summary or "").strip()
    changed_items = [pk for pk, note in notes.items() if items[pk].note != (note or "").strip()]
    fields = ["summary"] if summary != application.summary else []
    _cas(Application, application, version, STALE_APPLICATION, **({"summary": summary} if fields else {}))
    for pk in changed_items:
        ApplicationItem.objects.filter(pk=pk).update(note=(notes[pk] or "").strip())
    audit.record(
        actor, "civility_application_update", application, {"fields": fields, "items": sorted(changed_items)}
    )
    return application


@transaction.atomic
def application_item_attach(*, actor, item: ApplicationItem, upload) -> ApplicationItem:
    """Attach an optional evidence file to a checklist item (replaces the previous one)."""
    from sizheng.core import files

    application = item.application
    access.require_manages_application(actor, application)
    if application.state not in workflow.EDITABLE_APPLICATION:
        raise Conflict(f"该申报{application.get_state_display()}，不能再上传材料。")
    try:
        stored = files.store_upload(
            upload, actor=actor, owner_kind="civility_item", owner_id=item.pk, allowed=EVIDENCE_FILE_KINDS
        )
    except ValidationError as exc:
        raise ValidationError({"upload": exc.messages}) from exc
    ApplicationItem.objects.filter(pk=item.pk).update(file=stored)
    Application.objects.filter(pk=application.pk).update(version=F("version") + 1)
    item.file = stored
    application.version += 1
    audit.record(
        actor, "civility_item_attach", item, {"application": application.pk, "file": str(stored.uid)}
    )
    return item


@transaction.atomic
def application_transition(
    *, actor, application: Application, action: str, version: int, opinion: str = "",
    valid_years: int | None = None, valid_from: date | None = None,
) -> Application:  # fmt: skip
    """Submit (the applicant side), approve with a validity period or return with an opinion (the
    committee admin), expire (the system, ``actor=None``). 409 on a stale version or a wrong state."""
    try:
        t = workflow.check(workflow.APPLICATION_TRANSITIONS, action, application.state)
    except LookupError:
        raise ValidationError("不支持该操作。") from None
    except ValueError:
        raise Conflict(f"该申报当前为“{application.get_state_display()}”，不能{_label(action)}。") from None
    side = next(iter(t.sides))
    if side == workflow.APPLICANT:
        access.require_manages_application(actor, application)
    elif side == workflow.REVIEWER and not access.reviews_civility(actor):
        raise PermissionDenied("只有机关工委管理员可以审核文明创建申报。")
    elif side == workflow.SYSTEM and actor is not None:
        raise PermissionDenied("申报到期由系统自动处理。")
    now = timezone.now()
    opinion = (opinion or "").strip()
    changes: dict = {"state": t.target}
    if action == "submit":
        missing = [i.order for i in application.items.all() if not i.note.strip()]
        if missing:
            raise ValidationError(
                f"还有 {len(missing)} 项创建标准没有填写落实情况（第 {'、'.join(map(str, missing))} 项），"
                "请逐项填写后再提交。"
            )
        changes.update(submitted_at=now)
    elif action == "approve":
        years = int(valid_years or 0)
        if not 1 <= years <= MAX_VALID_YEARS:
            raise ValidationError({"valid_years": f"有效期应为 1 至 {MAX_VALID_YEARS} 年。"})
        start, end = workflow.validity(valid_from or timezone.localdate(), years)
        changes.update(valid_from=start, valid_until=end, opinion=opinion, reviewed_at=now,
                       reviewed_by=_user_or_none(actor))  # fmt: skip
    elif action == "return":
        if not opinion:
            raise ValidationError({"opinion": "退回时请填写审核意见，说明需要补充或修改的内容。"})
        changes.update(opinion=opinion, reviewed_at=now, reviewed_by=_user_or_none(actor))
    from_state = application.state
    _cas(Application, application, version, STALE_APPLICATION, **changes)
    detail = {"from": from_state, "to": t.target}
    if action == "approve":
        detail.update(valid_from=str(application.valid_from), valid_until=str(application.valid_until))
    audit.record(actor, f"civility_application_{action}", application, detail)
    if action in ("approve", "return"):
        app_id = application.pk
        transaction.on_commit(lambda: _notify_reviewed(app_id))
    return application


def _notify_reviewed(application_id: int) -> None:
    """Tell whoever started the application that it was approved or returned."""
    from sizheng.core.notify import notify

    application = (
        Application.objects.for_list().select_related("created_by").filter(pk=application_id).first()
    )
    if application is None or application.created_by is None:
        return
    if application.state == ApplicationState.APPROVED:
        title = f"文明创建申报已通过：{application}"
        body = f"有效期自{application.valid_from:%Y年%m月%d日}至{application.valid_until:%Y年%m月%d日}。"
    else:
        title = f"文明创建申报被退回：{application}"
        body = "请按审核意见补充或修改申报材料后重新提交。"
    notify([application.created_by], title=title, body=body, url=f"/volunteer/civility/{application_id}/")


@transaction.atomic
def application_delete(*, actor, application: Application, version: int) -> None:
    """Delete an application still being filled in (confirmed by the user first); files stay audited."""
    access.require_manages_application(actor, application)
    if application.state != ApplicationState.DRAFT:
        raise Conflict("只有填报中的申报可以删除；已提交过的申报会保留记录。")
    pk = application.pk
    if not Application.objects.filter(pk=pk, version=int(version)).exists():
        raise Conflict(STALE_APPLICATION)
    detail = {"kind": application.kind, "year": application.year, "unit": application.unit_id}
    application.delete()
    audit.record(actor, "civility_application_delete", ("volunteer.application", pk), detail)


def applications_expire(*, today: date | None = None) -> int:
    """Mark approved titles whose validity ended as 已过期 (the system; one audit row each)."""
    today = today or timezone.localdate()
    done = 0
    for application in Application.objects.filter(state=ApplicationState.APPROVED, valid_until__lt=today):
        try:
            application_transition(
                actor=None, application=application, action="expire", version=application.version
            )
        except Conflict:
            continue  # changed meanwhile: the next run looks again
        done += 1
    return done
