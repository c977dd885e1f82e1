"""The duties API (issue 4 §7): scoped lists, opening duties, the duty page's data, evidence uploads
and workflow transitions. Every write goes through ``duties.services``; errors come out in the
core's one shape (403 PermissionDenied, 404 outside scope, 409 Conflict, 422 ValidationError)."""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from datetime import date, datetime
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from sizheng.core import files
from sizheng.core.apitools import Conflict, ErrorOut, Paged
from sizheng.core.models import StoredFile
from sizheng.duties import access, queries, services, warnings
from sizheng.duties.models import Duty, DutyEvent, Priority, SourceKind, State
from sizheng.org.access import get_org_or_404
from sizheng.org.models import Org, Person

router = Router(tags=["责任清单"])

_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}
WarningLevel = Literal["blue", "yellow", "red", "none"]


def _bounds(request: HttpRequest | None, today: date) -> warnings.Bounds:
    """The warning cut-offs, computed once per request."""
    cached = getattr(request, "_sz_duty_bounds", None)
    if cached is None or cached.today != today:
        cached = warnings.bounds(today)
        if request is not None:
            request._sz_duty_bounds = cached  # type: ignore[attr-defined]
    return cached


# --- schemas -----------------------------------------------------------------------


class DutyOut(Schema):
    """A duty as lists show it; ``warning`` is derived from the due date today (never stored)."""

    id: int
    title: str
    state: str
    version: int
    due_on: date
    warning: WarningLevel
    assignee_org_id: int
    assigning_org_id: int
    owner_id: int | None
    source_kind: str
    is_late: bool

    @staticmethod
    def resolve_warning(obj: Duty, context) -> str:
        if isinstance(obj, dict):  # the detail endpoint answers a dict
            return obj["warning"]
        today = timezone.localdate()
        request = (context or {}).get("request")
        return warnings.warning_of(obj.state, obj.due_on, today, _bounds(request, today))


class EventOut(Schema):
    """One step of the duty's timeline."""

    action: str
    from_state: str
    to_state: str
    actor: str | None = Field(None, description="操作人的用户名")
    at: datetime
    comment: str


class FileOut(Schema):
    """An evidence file attached to the duty (downloaded through the permission-checked file view)."""

    uid: str
    name: str
    size: int
    content_type: str
    uploaded_at: datetime
    url: str


class DutyDetailOut(DutyOut):
    """One duty with its requirements, outcome, timeline, files and the actions open to the caller."""

    description: str
    supervising_org_id: int | None
    priority: str
    evidence_required: str
    tags: str
    is_sensitive: bool
    evidence: str
    late_reason: str
    reported_on: date | None
    closed_on: date | None
    returns: int
    requested_due_on: date | None
    extension_reason: str
    campaign_id: int | None
    duty_list_id: int | None
    events: list[EventOut]
    files: list[FileOut]
    actions: list[str] = Field(..., description="当前用户现在可以执行的操作")


class DutyFilter(Schema):
    """Filters of the duty list."""

    org_id: int | None = Field(None, description="责任单位（含其下级组织）")
    state: State | None = Field(None, description="状态")
    warning: WarningLevel | None = Field(None, description="预警：blue / yellow / red / none")
    source_kind: SourceKind | None = Field(None, description="来源")


class DutyIn(Schema):
    """A duty to open: the assignee org, what, and by when."""

    org_id: int = Field(..., description="责任单位")
    title: str = Field(..., min_length=1, max_length=200, description="事项名称")
    due_on: date = Field(..., description="完成时限（遇休息日顺延到下一个工作日）")
    description: str = Field("", max_length=4000, description="具体要求")
    owner_id: int | None = Field(None, description="责任人（责任单位的人员）")
    supervising_org_id: int | None = Field(None, description="督查单位")
    priority: Priority = Field(Priority.NORMAL, description="紧急程度")
    evidence_required: str = Field("", max_length=300, description="佐证要求")


class CreatedOut(Schema):
    """The opened duty: its id, state and version (for the first transition)."""

    id: int
    state: str
    version: int
    due_on: date


class TransitionIn(Schema):
    """One workflow action; ``version`` is the version the caller saw (a stale one gets 409)."""

    action: str = Field(
        ..., max_length=32, description="操作：accept、start、report、review、pass、return 等"
    )
    version: int = Field(..., ge=1, description="事项的当前版本号")
    comment: str = Field("", max_length=2000, description="说明")
    evidence: str = Field("", max_length=8000, description="落实情况及佐证说明（报送时必填）")
    late_reason: str = Field("", max_length=300, description="逾期原因（逾期报送时必填）")
    new_due_on: date | None = Field(None, description="申请延期到的日期")
    owner_id: int | None = Field(None, description="新的责任人（调整责任人时必填）")
    reason: str = Field("", max_length=300, description="理由（退回、撤销、申请延期时必填）")


class StateOut(Schema):
    """The duty's state and version after the action."""

    state: str
    version: int


# --- helpers -----------------------------------------------------------------------


def _assigning_org_for(user, org: Org) -> Org | None:
    """The org the user assigns from: the nearest org at or above ``org`` they administer (the root
    for a committee admin) — the same rule as the screens' form."""
    return queries.assigner_for(queries.assigning_orgs(user), org)


def _file_out(stored: StoredFile) -> dict:
    return {
        "uid": str(stored.uid),
        "name": stored.name,
        "size": stored.size,
        "content_type": stored.content_type,
        "uploaded_at": stored.uploaded_at,
        "url": reverse("core:file", args=[stored.uid]),
    }


def _detail(user, duty: Duty) -> dict:
    """The duty page's data; a sensitive duty's description, evidence, files, reasons and comments are
    never shown (its title is generic already)."""
    events = DutyEvent.objects.filter(duty=duty).select_related("actor").order_by("at", "id")
    stored = StoredFile.objects.filter(owner_kind="duty", owner_id=duty.pk).order_by("uploaded_at", "id")
    hidden = duty.is_sensitive
    data = {field: getattr(duty, field) for field in DutyDetailOut.model_fields if hasattr(duty, field)}
    data.update(
        warning=warnings.warning_of(duty.state, duty.due_on, timezone.localdate()),
        evidence="" if hidden else duty.evidence,
        late_reason="" if hidden else duty.late_reason,
        extension_reason="" if hidden else duty.extension_reason,
        description="" if hidden else duty.description,
        events=[
            {
                "action": e.action,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "actor": e.actor.get_username() if e.actor else None,
                "at": e.at,
                "comment": "" if hidden else e.comment,
            }
            for e in events
        ],
        files=[] if hidden else [_file_out(f) for f in stored],
        actions=services.available_actions(user, duty),
    )
    return data


# --- endpoints ---------------------------------------------------------------------


@router.get(
    "", response={200: list[DutyOut], **_ERRORS}, url_name="duties-list", summary="责任事项列表（限本人范围）"
)
@paginate(Paged)
def duty_list(request: HttpRequest, filters: Query[DutyFilter]):
    """Duties in the caller's scope, by due date; filters by org subtree, state, warning and source."""
    qs = Duty.objects.visible_to(request.user)
    if filters.org_id is not None:
        path = Org.objects.filter(pk=filters.org_id).values_list("path", flat=True).first()
        # An unknown org selects nothing rather than answering 404: the list says nothing about orgs.
        qs = qs.filter(assignee_org__path__startswith=path) if path else qs.none()
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.warning:
        qs = qs.filter(warnings.warning_q(filters.warning, timezone.localdate()))
    if filters.source_kind:
        qs = qs.filter(source_kind=filters.source_kind)
    return qs.order_by("due_on", "id")


@router.post("", response={201: CreatedOut, **_ERRORS}, url_name="duties-create", summary="部署责任事项")
def duty_create(request: HttpRequest, payload: DutyIn):
    """Open a duty for an org in the caller's charge (secretary/org_admin above it, or committee admin)."""
    user = request.user
    org = get_org_or_404(user, payload.org_id)
    assigning = _assigning_org_for(user, org)
    if assigning is None:
        raise PermissionDenied(
            "您不能向该党组织部署事项：只有其上级党组织的书记、党务干部或机关工委管理员可以部署。"
        )
    errors: dict[str, str] = {}
    if payload.due_on < timezone.localdate():
        errors["due_on"] = "完成时限不能早于今天。"
    owner = None
    if payload.owner_id is not None:
        owner = Person.objects.filter(
            pk=payload.owner_id, left_on__isnull=True, unit__in=org.units.all()
        ).first()
        if owner is None:
            errors["owner_id"] = "责任人须是责任单位在册的人员。"
    supervising = None
    if payload.supervising_org_id is not None:
        supervising = Org.objects.visible_to(user).filter(pk=payload.supervising_org_id).first()
        if supervising is None:
            errors["supervising_org_id"] = "督查单位不存在，或不在您的管理范围内。"
    if errors:
        raise ValidationError(errors)
    duty = services.duty_open(
        org=org,
        title=payload.title,
        due_on=payload.due_on,
        source=SourceKind.MANUAL,
        actor=user,
        assigning_org=assigning,
        owner=owner,
        description=payload.description,
        supervising_org=supervising,
        priority=payload.priority,
        evidence_required=payload.evidence_required,
    )
    return Status(201, duty)


@router.get(
    "/{duty_id}", response={200: DutyDetailOut, **_ERRORS}, url_name="duties-detail", summary="责任事项详情"
)
def duty_detail(request: HttpRequest, duty_id: int):
    """One duty with its timeline (who did what when), evidence files and the caller's possible actions."""
    duty = access.get_duty_or_404(request.user, duty_id)
    return _detail(request.user, duty)


@router.post(
    "/{duty_id}/files", response={201: FileOut, **_ERRORS}, url_name="duties-upload", summary="上传佐证材料"
)
def duty_upload(request: HttpRequest, duty_id: int, file: File[UploadedFile]):
    """Attach an evidence file (owner side, while the duty is open); attach before reporting."""
    duty = access.get_duty_or_404(request.user, duty_id)
    if not access.is_owner_side(request.user, duty):
        raise PermissionDenied("只有责任人或责任单位的书记、党务干部可以上传佐证材料。")
    if not duty.is_open:
        raise Conflict(f"该事项当前状态为“{duty.get_state_display()}”，不能再上传佐证材料。")
    stored = files.store_upload(file, actor=request.user, owner_kind="duty", owner_id=duty.pk)
    return Status(201, _file_out(stored))


@router.post(
    "/{duty_id}/transition",
    response={200: StateOut, **_ERRORS},
    url_name="duties-transition",
    summary="办理责任事项（认领、报送、销号、退回、督办、延期等）",
)
def duty_transition(request: HttpRequest, duty_id: int, payload: TransitionIn):
    """Take one workflow action; 403 off-side, 409 wrong state or stale version, 422 missing fields."""
    duty = access.get_duty_or_404(request.user, duty_id)
    duty = services.duty_transition(
        duty=duty,
        action=payload.action,
        actor=request.user,
        version=payload.version,
        comment=payload.comment,
        evidence=payload.evidence,
        late_reason=payload.late_reason,
        new_due_on=payload.new_due_on,
        owner_id=payload.owner_id,
        reason=payload.reason,
    )
    return {"state": duty.state, "version": duty.version}
