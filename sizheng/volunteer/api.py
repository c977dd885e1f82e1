"""The volunteering API (issue 8 §5), mounted under ``/api/v1/volunteering/``: activities in scope,
planning one, signing oneself up, and civility applications in scope. Writes go through
``volunteer.services``; errors come out in the core's one shape (403, 404 outside scope, 409, 422).
No endpoint lists people ranked by anything: sign-up figures are counts."""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from sizheng.core.apitools import ErrorOut, Paged
from sizheng.org.access import get_org_or_404
from sizheng.org.models import Org
from sizheng.volunteer import access, services
from sizheng.volunteer.models import (
    Activity,
    ActivityState,
    Application,
    ApplicationState,
    Campaign,
    CivilityKind,
)

router = Router(tags=["志愿服务与文明创建"])

_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


# --- schemas -----------------------------------------------------------------------


class ActivityOut(Schema):
    """An activity as lists show it (sign-up figures are counts, never names)."""

    id: int
    title: str
    campaign_id: int
    campaign: str = Field(..., description="志愿行动名称")
    org_id: int
    org: str = Field(..., description="组织单位名称")
    starts_at: datetime
    ends_at: datetime
    place: str
    planned_hours: float
    capacity: int | None = Field(None, description="名额；null 为不限")
    seats_taken: int = Field(..., description="已报名人数")
    state: str
    version: int

    @staticmethod
    def resolve_campaign(obj: Activity) -> str:
        return obj.campaign.name

    @staticmethod
    def resolve_org(obj: Activity) -> str:
        return obj.org.name

    @staticmethod
    def resolve_planned_hours(obj: Activity) -> float:
        return float(obj.planned_hours)


class ActivityFilter(Schema):
    """Filters of the activity list."""

    campaign_id: int | None = Field(None, description="志愿行动")
    org_id: int | None = Field(None, description="组织单位（含下级组织）")
    state: ActivityState | None = Field(None, description="状态")
    year: int | None = Field(None, ge=2000, le=2100, description="开始时间所在年度")


class ActivityIn(Schema):
    """An activity to plan for an org the caller manages."""

    org_id: int = Field(..., description="组织单位")
    campaign_id: int = Field(..., description="志愿行动")
    title: str = Field(..., min_length=1, max_length=200, description="活动名称")
    starts_at: datetime = Field(..., description="开始时间")
    ends_at: datetime = Field(..., description="结束时间")
    place: str = Field(..., min_length=1, max_length=200, description="地点")
    planned_hours: Decimal = Field(..., gt=0, le=100, decimal_places=1, description="计划服务时长（小时）")
    capacity: int | None = Field(None, ge=1, le=services.MAX_CAPACITY, description="名额；不填为不限")
    description: str = Field("", max_length=4000, description="活动内容")
    open_now: bool = Field(False, description="立即开放报名")


class SignupOut(Schema):
    """The caller's sign-up."""

    id: int
    activity_id: int
    status: str
    version: int


class ApplicationOut(Schema):
    """A civility application as lists show it."""

    id: int
    kind: str
    year: int
    unit_id: int
    office_id: int | None
    person_id: int | None = Field(None, description="文明家庭的家庭代表")
    applicant: str = Field(..., description="申报对象")
    state: str
    submitted_at: datetime | None
    reviewed_at: datetime | None
    valid_from: date | None
    valid_until: date | None
    version: int

    @staticmethod
    def resolve_applicant(obj: Application) -> str:
        return obj.applicant_name


class ApplicationFilter(Schema):
    """Filters of the application list."""

    kind: CivilityKind | None = Field(None, description="创建类型：unit / office / family")
    state: ApplicationState | None = Field(None, description="状态")
    year: int | None = Field(None, ge=2000, le=2100, description="申报年度")
    unit_id: int | None = Field(None, description="单位")


# --- endpoints ---------------------------------------------------------------------


@router.get(
    "/activities",
    response={200: list[ActivityOut], **_ERRORS},
    url_name="volunteer-activities",
    summary="志愿活动列表（限本人范围）",
)
@paginate(Paged)
def activity_list(request: HttpRequest, filters: Query[ActivityFilter]):
    """Activities organised in the caller's scope or open to the caller, latest first."""
    qs = Activity.objects.visible_to(request.user).select_related("org", "campaign")
    if filters.campaign_id is not None:
        qs = qs.filter(campaign_id=filters.campaign_id)
    if filters.org_id is not None:
        path = Org.objects.filter(pk=filters.org_id).values_list("path", flat=True).first()
        # An unknown org selects nothing rather than answering 404: the list says nothing about orgs.
        qs = qs.filter(org__path__startswith=path) if path else qs.none()
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.year:
        qs = qs.filter(starts_at__year=filters.year)
    return qs.order_by("-starts_at", "-id")


@router.post(
    "/activities",
    response={201: ActivityOut, **_ERRORS},
    url_name="volunteer-activity-create",
    summary="组织志愿活动",
)
def activity_create(request: HttpRequest, payload: ActivityIn):
    """Plan an activity for an org the caller manages (403 for a visible org they do not manage)."""
    user = request.user
    org = get_org_or_404(user, payload.org_id)
    if not access.manages_activity(user, Activity(org=org)):
        raise PermissionDenied("只有该党组织及其上级党组织的书记、党务干部可以组织志愿活动。")
    campaign = Campaign.objects.filter(pk=payload.campaign_id).first()
    if campaign is None:
        raise ValidationError({"campaign_id": "志愿行动不存在。"})
    activity = services.activity_create(
        actor=user, org=org, campaign=campaign, title=payload.title, starts_at=payload.starts_at,
        ends_at=payload.ends_at, place=payload.place, planned_hours=payload.planned_hours,
        capacity=payload.capacity, description=payload.description, open_now=payload.open_now,
    )  # fmt: skip
    return Status(201, activity)


@router.post(
    "/activities/{activity_id}/signups",
    response={201: SignupOut, **_ERRORS},
    url_name="volunteer-signup",
    summary="报名参加志愿活动（本人）",
)
def activity_signup(request: HttpRequest, activity_id: int):
    """Sign the caller up: 404 outside scope, 403 not open to the caller, 409 closed, started, full or
    already signed up."""
    activity = access.get_activity_or_404(request.user, activity_id)
    signup = services.signup_create(actor=request.user, activity=activity)
    return Status(201, signup)


@router.get(
    "/civility",
    response={200: list[ApplicationOut], **_ERRORS},
    url_name="volunteer-civility",
    summary="文明创建申报列表（限本人范围）",
)
@paginate(Paged)
def civility_list(request: HttpRequest, filters: Query[ApplicationFilter]):
    """Applications in the caller's scope, latest year first."""
    qs = Application.objects.visible_to(request.user).for_list()
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.year:
        qs = qs.filter(year=filters.year)
    if filters.unit_id is not None:
        qs = qs.filter(unit_id=filters.unit_id)
    return qs.order_by("-year", "unit_id", "kind", "id")
