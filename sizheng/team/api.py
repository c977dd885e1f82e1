"""The team API (队伍建设): the register, one member with the computed training record, and staffing
coverage — scoped like the screens (404 outside scope, 403 read-only, 409 stale version, 422 bad input)."""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from datetime import date, datetime
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from sizheng.core.apitools import ErrorOut, Paged
from sizheng.org.access import get_org_or_404
from sizheng.org.models import Org, Person
from sizheng.team import access, coverage, records, services
from sizheng.team.models import Gap, Subtype, TeamMember, TeamRole

router = Router(tags=["队伍建设"])
_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


class MemberOut(Schema):
    """A register entry (T0): who, where, which role, full- or part-time, the orgs covered."""

    id: int
    person_id: int
    person_name: str
    unit_name: str
    org_id: int
    org_name: str
    role: str
    role_label: str
    subtype: str
    is_full_time: bool
    position: str
    covers: list[int]
    qualifications: list[str]
    since: date
    until: date | None
    version: int

    @staticmethod
    def resolve_person_name(obj: TeamMember) -> str:
        return obj.person.name

    @staticmethod
    def resolve_unit_name(obj: TeamMember) -> str:
        return obj.person.unit.name

    @staticmethod
    def resolve_org_name(obj: TeamMember) -> str:
        return obj.org.name

    @staticmethod
    def resolve_role_label(obj: TeamMember) -> str:
        return obj.get_role_display()

    @staticmethod
    def resolve_covers(obj: TeamMember) -> list[int]:
        return sorted(o.pk for o in obj.covers.all())

    @staticmethod
    def resolve_qualifications(obj: TeamMember) -> list[str]:
        return obj.qualification_list


class TrainingOut(Schema):
    """One attended study session or meeting of the computed record."""

    meeting_id: int
    starts_at: datetime
    org_id: int
    org_name: str
    kind: str
    kind_label: str
    topic: str
    hours: float


class ExternalTrainingOut(Schema):
    """A training outside the platform (上级调训 …): entered by an administrator, never counted as 学时."""

    id: int
    kind: str
    title: str
    organiser: str
    starts_on: date
    ends_on: date
    days: float | None


class MemberDetailOut(MemberOut):
    """A register entry with the year's computed training record."""

    year: int
    hours: float = Field(..., description="本年度学时（study.hours，与理论学习一致）")
    required_hours: int
    reached: bool
    training: list[TrainingOut]
    external_trainings: list[ExternalTrainingOut]

    @staticmethod
    def resolve_external_trainings(obj: TeamMember) -> list[dict]:
        return [
            {"id": t.pk, "kind": t.kind, "title": t.title, "organiser": t.organiser, "starts_on": t.starts_on,
             "ends_on": t.ends_on, "days": float(t.days) if t.days is not None else None}
            for t in obj.external_trainings.all()
        ]  # fmt: skip


class MemberFilter(Schema):
    """Filters of the register list."""

    org_id: int | None = Field(None, description="所属党组织（含下级）")
    role: TeamRole | None = Field(None, description="队伍类别")
    full_time: bool | None = Field(None, description="true 专职 / false 兼职")
    state: Literal["current", "ended", "all"] = Field("current", description="在册 / 已终止 / 全部")
    q: str | None = Field(None, max_length=50, description="姓名或岗位关键字")


class MemberIn(Schema):
    """A new register entry."""

    person_id: int
    org_id: int = Field(..., description="登记到哪个党组织的名册")
    role: TeamRole
    subtype: Subtype = Field(Subtype.NONE, description="骨干类型（仅思政骨干）")
    is_full_time: bool = False
    position: str = Field("", max_length=60)
    covers: list[int] = Field(default_factory=list, max_length=50, description="负责的党组织；默认所属党组织")
    qualifications: list[str] = Field(default_factory=list, max_length=20)
    since: date


class MemberPatch(Schema):
    """Changes to an entry; ``version`` is the version the caller saw (a stale one gets 409)."""

    version: int = Field(..., ge=1)
    role: TeamRole | None = None
    subtype: Subtype | None = None
    is_full_time: bool | None = None
    position: str | None = Field(None, max_length=60)
    covers: list[int] | None = Field(None, max_length=50)
    qualifications: list[str] | None = Field(None, max_length=20)
    since: date | None = None


class CoverageItemOut(Schema):
    """One org's verdict on one staffing rule (counts only, no names)."""

    org_id: int
    org_name: str
    org_kind: str
    members: int
    rule_id: str
    status: str
    held: int
    required: int
    message: str
    duty_id: int | None


class CoverageOut(Schema):
    """The staffing coverage of a subtree for a year, checked on ``as_of``."""

    year: int
    as_of: date
    count: int
    items: list[CoverageItemOut]


def _member_qs(user):
    return (
        TeamMember.objects.filter(access.visible_member_q(user))
        .for_list()
        .prefetch_related(Prefetch("covers", queryset=Org.objects.only("pk")))
    )


def _covers(ids: list[int]) -> list[Org]:
    """The orgs named by id (unknown → 422 here; outside the register's subtree → 422 in the service)."""
    found = list(Org.objects.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise ValidationError({"covers": "负责的党组织中有不存在的组织。"})
    return found


@router.get(
    "/members", response={200: list[MemberOut], **_ERRORS}, url_name="team-members", summary="队伍名册"
)
@paginate(Paged)
def member_list(request: HttpRequest, filters: Query[MemberFilter]):
    """Entries the caller may see (managers: their subtrees; everyone: their own), by org and name."""
    qs = _member_qs(request.user)
    if filters.org_id is not None:
        path = Org.objects.filter(pk=filters.org_id).values_list("path", flat=True).first()
        qs = qs.filter(org__path__startswith=path) if path else qs.none()
    if filters.role:
        qs = qs.filter(role=filters.role)
    if filters.full_time is not None:
        qs = qs.filter(is_full_time=filters.full_time)
    if filters.state == "current":
        qs = qs.filter(until__isnull=True)
    elif filters.state == "ended":
        qs = qs.filter(until__isnull=False)
    if filters.q:
        qs = qs.filter(Q(person__name__contains=filters.q) | Q(position__contains=filters.q))
    return qs.order_by("org__path", "role", "person__name", "pk")


@router.post(
    "/members", response={201: MemberOut, **_ERRORS}, url_name="team-members-create", summary="登记队伍成员"
)
def member_create(request: HttpRequest, payload: MemberIn):
    """Put a person on an org's register (the caller keeps that register: 403 otherwise)."""
    user = request.user
    org = get_org_or_404(user, payload.org_id)
    if not access.manages(user, org):
        raise PermissionDenied(access.NO_MANAGE)
    person = Person.objects.visible_to(user).filter(pk=payload.person_id).select_related("unit").first()
    if person is None:
        raise ValidationError({"person_id": "该人员不存在，或不在您的管理范围内。"})
    member = services.member_create(
        actor=user,
        person=person,
        org=org,
        role=payload.role,
        since=payload.since,
        is_full_time=payload.is_full_time,
        subtype=payload.subtype,
        position=payload.position,
        covers=_covers(payload.covers) if payload.covers else None,
        qualifications="\n".join(payload.qualifications),
    )
    return Status(201, _member_qs(user).get(pk=member.pk))


def _detail(member: TeamMember, year: int):
    """The entry with the year's computed record attached (the schema's resolvers read the model)."""
    record = records.training_record(member.person_id, year)
    member.year = year
    member.hours = record.hours
    member.required_hours = record.required
    member.reached = record.reached
    member.training = [r.__dict__ for r in record.rows]
    return member


@router.get(
    "/members/{member_id}",
    response={200: MemberDetailOut, **_ERRORS},
    url_name="team-members-detail",
    summary="队伍成员及其培训记录",
)
def member_detail(request: HttpRequest, member_id: int, year: int | None = None):
    """One entry with the computed training record of ``year`` (default this year)."""
    member = access.get_member_or_404(request.user, member_id)
    today = timezone.localdate()
    year = year or today.year
    if not 2000 <= year <= today.year:
        raise ValidationError({"year": f"年度应在 2000 到 {today.year} 之间。"})
    return _detail(member, year)


@router.patch(
    "/members/{member_id}",
    response={200: MemberOut, **_ERRORS},
    url_name="team-members-update",
    summary="修改队伍成员",
)
def member_update(request: HttpRequest, member_id: int, payload: MemberPatch):
    """Change an entry (the caller keeps its register: 403 otherwise; a stale version: 409)."""
    user = request.user
    member = access.get_member_or_404(user, member_id)
    if not access.manages(user, member.org):
        raise PermissionDenied(access.NO_MANAGE)
    changes = payload.model_dump(exclude_unset=True, exclude={"version", "covers", "qualifications"})
    changes = {k: v for k, v in changes.items() if v is not None}
    if payload.qualifications is not None:
        changes["qualifications"] = "\n".join(payload.qualifications)
    covers = _covers(payload.covers) if payload.covers is not None else None
    services.member_update(actor=user, member=member, version=payload.version, covers=covers, **changes)
    return _member_qs(user).get(pk=member.pk)


@router.get(
    "/coverage", response={200: CoverageOut, **_ERRORS}, url_name="team-coverage", summary="队伍配备情况"
)
def coverage_list(request: HttpRequest, org_id: int | None = None, year: int | None = None):
    """Each bound org's verdict per staffing rule in the caller's coverage scope (or ``org_id``'s subtree)."""
    user, today = request.user, timezone.localdate()
    q = access.coverage_org_q(user)
    if q is None:
        raise PermissionDenied(access.NO_COVERAGE)
    year = year or today.year
    if not 2000 <= year <= today.year:
        raise ValidationError({"year": f"年度应在 2000 到 {today.year} 之间。"})
    if org_id is not None:
        org = Org.objects.filter(q).filter(pk=org_id).first()
        if org is None:
            raise Http404("未找到该党组织，或您无权查看。")
        paths = [org.path]
    else:
        paths = list(Org.objects.filter(q).values_list("path", flat=True))
    result = coverage.compute(year, today=today)
    rows = [r for r in result.in_subtree(None) if any(r.path.startswith(p) for p in paths)]
    duties = {
        (rule_code, org): duty
        for rule_code, org, duty in Gap.objects.filter(
            year=year, org_id__in=[r.org_id for r in rows]
        ).values_list("rule__code", "org_id", "duty_id")
    }
    items = [
        {"org_id": r.org_id, "org_name": r.name, "org_kind": r.kind, "members": r.members, "rule_id": code,
         "status": c.status, "held": c.held, "required": c.outcome.required, "message": c.message,
         "duty_id": duties.get((code, r.org_id))}
        for r in rows
        for code, c in sorted(r.cells.items())
    ]  # fmt: skip
    return {"year": year, "as_of": result.as_of, "count": len(items), "items": items}
