"""The organisational-life API: meetings (list, record, read) and compliance cells, scoped like the screens."""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from sizheng.core import rules as core_rules
from sizheng.core.apitools import ErrorOut, Paged
from sizheng.life import compliance, queries, services
from sizheng.life.models import AttendanceStatus, ComplianceRule, Meeting, MeetingKind, MeetingState
from sizheng.org import access
from sizheng.org.models import Org, Person

router = Router(tags=["组织生活"])
_NEEDS_REASON = (AttendanceStatus.ABSENT, AttendanceStatus.ON_LEAVE)
_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


class MeetingOut(Schema):
    """A meeting as lists show it."""

    id: int
    org_id: int
    org_name: str
    kind: str
    kind_label: str
    topic: str
    starts_at: datetime
    ends_at: datetime
    place: str
    state: str
    state_label: str
    chair_id: int | None
    recorder_id: int | None
    speaker_id: int | None

    @staticmethod
    def resolve_org_name(obj: Meeting) -> str:
        return obj.org.name

    @staticmethod
    def resolve_kind_label(obj: Meeting) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_state_label(obj: Meeting) -> str:
        return obj.get_state_display()


class AttendanceOut(Schema):
    """One attendee and what happened."""

    person_id: int
    name: str
    status: str
    reason: str
    is_voting: bool


class MeetingDetailOut(MeetingOut):
    """One meeting with its record, attendance and quorum."""

    session_no: str
    agenda: str
    minutes: str
    resolutions: str
    votes: list[dict]
    steps: dict
    report_due_on: date | None
    reported_on: date | None
    return_opinion: str
    hours: float
    attendance: list[AttendanceOut]
    quorum: dict

    @staticmethod
    def resolve_attendance(obj: Meeting) -> list[dict]:
        return [
            {"person_id": a.person_id, "name": a.person.name, "status": a.status, "reason": a.reason,
             "is_voting": a.is_voting}
            for a in obj.attendance.select_related("person").order_by("person__name", "person_id")
        ]  # fmt: skip

    @staticmethod
    def resolve_quorum(obj: Meeting) -> dict:
        return services.quorum(obj)


class MeetingFilter(Schema):
    """Filters of the meeting list."""

    org_id: int | None = Field(None, description="党组织（含下级）")
    kind: MeetingKind | None = None
    state: MeetingState | None = None
    from_: date | None = Field(None, alias="from", description="开始日期自（含）")
    to: date | None = Field(None, description="开始日期至（含）")


class AttendanceIn(Schema):
    """An expected attendee's status (anyone not listed was present)."""

    person_id: int
    status: AttendanceStatus
    reason: str = Field("", max_length=200)


class MeetingIn(Schema):
    """A meeting to record; it is created submitted, with the roster's expected attendees."""

    org_id: int
    kind: MeetingKind
    starts_at: datetime
    ends_at: datetime
    place: str = Field(..., min_length=1, max_length=120)
    topic: str = Field(..., min_length=1, max_length=200)
    session_no: str = Field("", max_length=40)
    agenda: str = ""
    minutes: str = ""
    resolutions: str = ""
    chair_id: int | None = None
    recorder_id: int | None = None
    speaker_id: int | None = None
    attendance: list[AttendanceIn] = []


class ComplianceOut(Schema):
    """One compliance cell: an org, a rule, a period and its status."""

    org_id: int
    rule_id: str
    period: str
    status: str


@router.get(
    "/meetings", response={200: list[MeetingOut], **_ERRORS}, url_name="life-meetings", summary="会议记录列表"
)
@paginate(Paged)
def meeting_list(request: HttpRequest, filters: Query[MeetingFilter]):
    """Meetings in the caller's scope, newest first; ``org_id`` includes the org's subtree."""
    data = {"kind": filters.kind, "state": filters.state, "date_from": filters.from_, "date_to": filters.to}
    if filters.org_id is not None:
        data["org"] = access.get_org_or_404(request.user, filters.org_id)
    return queries.filter_meetings(request.user, data)


def _aware(value: datetime) -> datetime:
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _person(org: Org, pk: int | None, field: str) -> Person | None:
    if pk is None:
        return None
    person = Person.objects.filter(pk=pk, org__path__startswith=org.path).first()
    if person is None:
        raise ValidationError({field: "该人员不属于本党组织。"})
    return person


@router.post("/meetings", response={201: MeetingDetailOut, **_ERRORS}, url_name="life-meeting-create",
             summary="记录会议")  # fmt: skip
def meeting_create(request: HttpRequest, payload: MeetingIn):
    """Record a meeting of an org the caller manages (403 if only visible, 404 if not); it is submitted."""
    user = request.user
    org = access.get_org_or_404(user, payload.org_id)
    if not access.manages_org(user, org):
        raise PermissionDenied("只有该党组织的书记或党务干部可以记录会议。")
    missing = [a.person_id for a in payload.attendance if a.status in _NEEDS_REASON and not a.reason.strip()]
    if missing:
        raise ValidationError({"attendance": "缺席或请假须写明原因。"})
    meeting = services.meeting_record(
        actor=user,
        org=org,
        kind=payload.kind.value,
        topic=payload.topic,
        starts_at=_aware(payload.starts_at),
        ends_at=_aware(payload.ends_at),
        place=payload.place,
        submit=True,
        attendance={a.person_id: (a.status.value, a.reason) for a in payload.attendance},
        session_no=payload.session_no,
        agenda=payload.agenda,
        minutes=payload.minutes,
        resolutions=payload.resolutions,
        chair=_person(org, payload.chair_id, "chair_id"),
        recorder=_person(org, payload.recorder_id, "recorder_id"),
        speaker=_person(org, payload.speaker_id, "speaker_id"),
    )
    return Status(201, _detail(user, meeting.pk))


def _detail(user, pk: int) -> Meeting:
    meeting = Meeting.objects.visible_to(user).select_related("org").filter(pk=pk).first()
    if meeting is None:
        raise Http404("未找到该会议记录。")
    return meeting


@router.get("/meetings/{meeting_id}", response={200: MeetingDetailOut, **_ERRORS}, url_name="life-meeting",
            summary="会议记录详情")  # fmt: skip
def meeting_detail(request: HttpRequest, meeting_id: int):
    """One meeting in the caller's scope, with attendance and quorum."""
    return _detail(request.user, meeting_id)


@router.get("/compliance", response={200: list[ComplianceOut], **_ERRORS}, url_name="life-compliance",
            summary="组织生活达标情况")  # fmt: skip
@paginate(Paged)
def compliance_list(request: HttpRequest, org_id: int, year: int | None = Query(None, ge=2000, le=2100)):
    """Every cell (org × rule × period of the rule's kind) of the org's subtree for a year."""
    org = access.get_org_or_404(request.user, org_id)
    year = year or timezone.localdate().year
    orgs = list(
        Org.objects.visible_to(request.user).filter(path__startswith=org.path).distinct().order_by("path")
    )
    kinds = set(ComplianceRule.objects.filter(is_active=True).values_list("period", flat=True))
    periods = [
        p
        for kind in sorted(kinds)
        for p in core_rules.periods_between(kind, date(year, 1, 1), date(year, 12, 31))
    ]
    matrix = compliance.evaluate(orgs, periods)
    order = {o.pk: i for i, o in enumerate(orgs)}
    keys = sorted(matrix.outcomes, key=lambda k: (order.get(k[0], 0), k[1], k[2]))
    return [
        {"org_id": k[0], "rule_id": k[1], "period": k[2], "status": matrix.outcomes[k].status} for k in keys
    ]
