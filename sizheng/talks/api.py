"""The talks API: list (metadata only), record, and one talk — whose T2 fields are absent, not null,
for callers who may not read them (ARCHITECTURE §5)."""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from datetime import date
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status as HttpStatus

from sizheng.core.apitools import ErrorOut, Paged
from sizheng.org import access as org_access
from sizheng.org.models import Person
from sizheng.talks import access, services
from sizheng.talks.models import Kind, Mode, Status, Talk

router = Router(tags=["谈心谈话"])
_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


class PersonRef(Schema):
    """A participant: id and name."""

    id: int
    name: str


class TalkOut(Schema):
    """A talk as lists show it: who, when, mode and status (never kind, tags, summary, content)."""

    id: int
    org_id: int
    org_name: str
    held_on: date
    mode: str
    mode_label: str
    status: str
    status_label: str
    initiator: PersonRef
    counterparts: list[PersonRef]

    @staticmethod
    def resolve_org_name(obj: Talk) -> str:
        return obj.org.name

    @staticmethod
    def resolve_mode_label(obj: Talk) -> str:
        return obj.get_mode_display()

    @staticmethod
    def resolve_status_label(obj: Talk) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_initiator(obj: Talk) -> dict:
        return {"id": obj.initiator_id, "name": obj.initiator.name}

    @staticmethod
    def resolve_counterparts(obj: Talk) -> list[dict]:
        return [{"id": p.person_id, "name": p.person.name} for p in obj.people if not p.is_initiator]


class TalkDetailOut(Schema):
    """One talk. ``kind``, ``kind_label``, ``tags``, ``summary``, ``content`` and ``is_wellbeing`` are
    present only for callers who may read them (the read is audited); otherwise the keys are absent."""

    id: int
    org_id: int
    org_name: str
    held_on: date
    mode: str
    mode_label: str
    status: str
    status_label: str
    initiator: PersonRef
    counterparts: list[PersonRef]
    next_talk_on: date | None
    meeting_id: int | None
    version: int
    kind: str | None = None
    kind_label: str | None = None
    tags: list[str] | None = None
    summary: str | None = None
    content: str | None = None
    is_wellbeing: bool | None = None


class TalkFilter(Schema):
    """Filters of the talk list (metadata only)."""

    org_id: int | None = Field(None, description="记录所在党组织（含下级）")
    mode: Mode | None = None
    status: Status | None = None
    from_: date | None = Field(None, alias="from", description="谈话日期自（含）")
    to: date | None = Field(None, description="谈话日期至（含）")


class TalkIn(Schema):
    """A talk to record; ``initiator_id`` defaults to the caller's own roster record."""

    org_id: int
    initiator_id: int | None = None
    counterpart_ids: list[int] = Field(..., min_length=1)
    held_on: date
    mode: Mode = Mode.IN_PERSON
    kind: Kind = Kind.DAILY
    tags: list[str] = []
    summary: str = Field("", max_length=services.SUMMARY_MAX)
    content: str = Field("", max_length=services.CONTENT_MAX)
    is_wellbeing: bool = False
    next_talk_on: date | None = None
    meeting_id: int | None = None
    status: Literal["held", "planned"] = "held"


@router.get("/talks", response={200: list[TalkOut], **_ERRORS}, url_name="talks-list", summary="谈心谈话列表")
@paginate(Paged)
def talk_list(request: HttpRequest, filters: Query[TalkFilter]):
    """Talks whose metadata the caller may see, newest first; ``org_id`` includes the org's subtree."""
    data = {"mode": filters.mode, "status": filters.status, "date_from": filters.from_, "date_to": filters.to}
    if filters.org_id is not None:
        data["org"] = org_access.get_org_or_404(request.user, filters.org_id)
    return services.with_people(services.filter_talks(Talk.objects.visible_to(request.user), data))


def _people(org, ids: list[int], field: str, *, initiator: bool = False) -> list[Person]:
    """People of the org's roster (the initiator may also come from an ancestor org); unknown ids are
    rejected without saying who they are, so the API cannot be used to probe the roster."""
    qs = services.roster(org)
    if initiator:
        qs = Person.objects.filter(pk__in=qs.values("pk")) | Person.objects.filter(
            org_id__in=services.ancestor_ids(org), left_on__isnull=True
        )
    found = {p.pk: p for p in qs.filter(pk__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationError({field: f"人员编号 {'、'.join(map(str, missing))} 不在该党组织的人员名单中。"})
    return [found[i] for i in ids]


@router.post("/talks", response={201: TalkDetailOut, **_ERRORS}, url_name="talks-create", summary="登记谈心谈话",
             exclude_unset=True)  # fmt: skip
def talk_create(request: HttpRequest, payload: TalkIn):
    """Record a talk in a visible org (404 otherwise) as a participant or the org's secretary / 党务干部
    (403 otherwise); 422 with Chinese messages for bad input."""
    user = request.user
    org = org_access.get_org_or_404(user, payload.org_id)
    initiator_id = payload.initiator_id or org_access.scope_of(user).person_id
    if initiator_id is None:
        raise ValidationError({"initiator_id": "请指定谈话人。"})
    initiator = _people(org, [initiator_id], "initiator_id", initiator=True)[0]
    counterparts = _people(org, list(dict.fromkeys(payload.counterpart_ids)), "counterpart_ids")
    meeting = None
    if payload.meeting_id is not None:
        meeting = services.pre_meetings(org, days=None).filter(pk=payload.meeting_id).first()
        if meeting is None:
            raise ValidationError(
                {"meeting_id": "会前谈心只能关联本党组织或上级党组织的组织生活会、民主生活会。"}
            )
    talk = services.talk_record(
        actor=user, org=org, initiator=initiator, counterparts=counterparts, held_on=payload.held_on,
        mode=payload.mode.value, kind=payload.kind.value, tags=payload.tags, summary=payload.summary,
        content=payload.content, is_wellbeing=payload.is_wellbeing, next_talk_on=payload.next_talk_on,
        meeting=meeting, status=payload.status,
    )  # fmt: skip
    return HttpStatus(201, _detail(request, talk.pk))


def _detail(request: HttpRequest, pk: int) -> dict:
    """The detail document: metadata always; the T2 keys only for a reader (their read is audited)."""
    talk = access.get_talk_or_404(request.user, pk)
    people = list(talk.participants.select_related("person").order_by("-is_initiator", "person__name"))
    out = {
        "id": talk.pk, "org_id": talk.org_id, "org_name": talk.org.name, "held_on": talk.held_on,
        "mode": talk.mode, "mode_label": talk.get_mode_display(), "status": talk.status,
        "status_label": talk.get_status_display(),
        "initiator": {"id": talk.initiator_id, "name": talk.initiator.name},
        "counterparts": [{"id": p.person_id, "name": p.person.name} for p in people if not p.is_initiator],
        "next_talk_on": talk.next_talk_on, "meeting_id": talk.meeting_id, "version": talk.version,
    }  # fmt: skip
    content = access.read_content(request.user, talk, request=request)
    if content is not None:
        out.update(content, is_wellbeing=talk.is_wellbeing)
    return out


@router.get("/talks/{talk_id}", response={200: TalkDetailOut, **_ERRORS}, url_name="talks-detail",
            summary="谈心谈话详情", exclude_unset=True)  # fmt: skip
def talk_detail(request: HttpRequest, talk_id: int):
    """One talk in the caller's scope (404 otherwise)."""
    return _detail(request, talk_id)
