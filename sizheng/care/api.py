"""The care-case API: ``/care-cases`` (list, open) and ``/care-cases/{id}``, scoped like the screens.

Lists carry metadata only. The details (category, tier, description, action notes — T2) appear in
``GET /care-cases/{id}`` only for the person, the handler and the opener, and each such read is
audited; for everyone else those keys are absent from the document (not null).
"""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from sizheng.care import services
from sizheng.care.access import get_case_or_404, read_details
from sizheng.care.models import CareCase, CaseState, Category, ConsentMethod, Handler, Tier
from sizheng.core.apitools import ErrorOut, Paged
from sizheng.org import access
from sizheng.org.models import Person

router = Router(tags=["关爱帮扶"])
_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


class CaseOut(Schema):
    """A care case as lists show it: who, org, handler, state and dates — no details."""

    id: int
    person_id: int
    person_name: str
    unit_id: int
    org_id: int | None
    org_name: str
    opened_via: str
    opened_via_label: str
    handler: str
    handler_label: str
    handler_org_id: int
    handler_org_name: str
    state: str
    state_label: str
    opened_at: datetime
    resolved_at: datetime | None
    followed_up_at: datetime | None
    satisfaction: int | None
    reopen_count: int
    is_ongoing: bool
    recheck_on: date | None
    consent_on: date | None
    consent_method: str

    @staticmethod
    def resolve_person_name(obj: CareCase) -> str:
        return obj.person.name

    @staticmethod
    def resolve_org_name(obj: CareCase) -> str:
        return obj.org.name if obj.org_id else ""

    @staticmethod
    def resolve_opened_via_label(obj: CareCase) -> str:
        return obj.get_opened_via_display()

    @staticmethod
    def resolve_handler_label(obj: CareCase) -> str:
        return obj.get_handler_display()

    @staticmethod
    def resolve_handler_org_name(obj: CareCase) -> str:
        return obj.handler_org.name

    @staticmethod
    def resolve_state_label(obj: CareCase) -> str:
        return obj.get_state_display()


class ActionOut(Schema):
    """One step taken on a case (its note is a detail)."""

    kind: str
    kind_label: str
    note: str
    to_state: str
    at: datetime
    actor: str


class CaseDetailOut(Schema):
    """One case: the list's fields, plus the details for those who may read them (absent otherwise)."""

    id: int
    person_id: int
    person_name: str
    unit_id: int
    org_id: int | None
    org_name: str
    opened_via: str
    opened_via_label: str
    handler: str
    handler_label: str
    handler_org_id: int
    handler_org_name: str
    state: str
    state_label: str
    opened_at: datetime
    resolved_at: datetime | None
    followed_up_at: datetime | None
    satisfaction: int | None
    reopen_count: int
    is_ongoing: bool
    recheck_on: date | None
    consent_on: date | None
    consent_method: str
    source_talk_id: int | None
    category: str | None = Field(None, description="困难类别（仅本人、承办人和登记人可见）")
    category_label: str | None = None
    tier: str | None = None
    tier_label: str | None = None
    description: str | None = Field(None, description="困难情况（仅本人、承办人和登记人可见）")
    actions: list[ActionOut] | None = None


class CaseFilter(Schema):
    """Filters of the case list (none on the details: they are T2)."""

    org_id: int | None = Field(None, description="党组织（含下级）")
    state: CaseState | None = None
    handler: Handler | None = None
    from_: date | None = Field(None, alias="from", description="受理日期自（含）")
    to: date | None = Field(None, description="受理日期至（含）")


class CaseIn(Schema):
    """A case to open: for oneself (no ``person_id``), or on someone's behalf with their consent."""

    person_id: int | None = Field(None, description="当事人；不填为本人反映")
    category: Category
    description: str = Field(..., min_length=1, max_length=services.DESCRIPTION_MAX)
    tier: Tier | None = None
    handler: Handler = Handler.SECRETARY
    consent_on: date | None = Field(None, description="本人同意的日期（代为登记时必填）")
    consent_method: ConsentMethod | None = Field(None, description="本人同意的方式（代为登记时必填）")
    source_talk_id: int | None = Field(None, description="登记所依据的谈话")


def _meta(case: CareCase) -> dict:
    return {
        "id": case.pk,
        "person_id": case.person_id,
        "person_name": case.person.name,
        "unit_id": case.unit_id,
        "org_id": case.org_id,
        "org_name": case.org.name if case.org_id else "",
        "opened_via": case.opened_via,
        "opened_via_label": case.get_opened_via_display(),
        "handler": case.handler,
        "handler_label": case.get_handler_display(),
        "handler_org_id": case.handler_org_id,
        "handler_org_name": case.handler_org.name,
        "state": case.state,
        "state_label": case.get_state_display(),
        "opened_at": case.opened_at,
        "resolved_at": case.resolved_at,
        "followed_up_at": case.followed_up_at,
        "satisfaction": case.satisfaction,
        "reopen_count": case.reopen_count,
        "is_ongoing": case.is_ongoing,
        "recheck_on": case.recheck_on,
        "consent_on": case.consent_on,
        "consent_method": case.consent_method,
        "source_talk_id": case.source_talk_id,
    }


@router.get(
    "/care-cases", response={200: list[CaseOut], **_ERRORS}, url_name="care-cases", summary="困难诉求列表"
)
@paginate(Paged)
def case_list(request: HttpRequest, filters: Query[CaseFilter]):
    """Cases whose metadata the caller may see, newest first; ``org_id`` includes the org's subtree."""
    data = {
        "state": filters.state,
        "handler": filters.handler,
        "date_from": filters.from_,
        "date_to": filters.to,
    }
    if filters.org_id is not None:
        data["org"] = access.get_org_or_404(request.user, filters.org_id)
    return services.filter_cases(request.user, data)


def _person_or_404(user, pk: int) -> Person:
    """A person the caller sees (roster scope, or the people of the orgs a union handler covers)."""
    person = Person.objects.visible_to(user).select_related("org", "unit").filter(pk=pk).first()
    if person is None:
        person = services.openable_people(user).filter(pk=pk).first()
    if person is None:
        raise Http404("未找到该人员，或您无权查看。")
    return person


@router.post(
    "/care-cases",
    response={201: CaseDetailOut, **_ERRORS},
    url_name="care-case-create",
    summary="登记困难诉求",
    exclude_unset=True,
)
def case_create(request: HttpRequest, payload: CaseIn):
    """Open a case (201 with its metadata): for oneself, or on someone's behalf with the consent date
    and method (422 without them); 404 for a person outside scope, 403 if the caller may not open one."""
    user = request.user
    own = access.scope_of(user).person_id
    if payload.person_id is None and not own:
        raise ValidationError({"person_id": "您的账号没有关联人员信息，请指定当事人（person_id）。"})
    person = _person_or_404(user, payload.person_id or own)
    talk = None
    if payload.source_talk_id is not None:
        from sizheng.talks.access import get_talk_or_404

        talk = get_talk_or_404(user, payload.source_talk_id)
    case = services.care_case_open(
        actor=user,
        person=person,
        category=payload.category.value,
        description=payload.description,
        tier=payload.tier.value if payload.tier else "",
        handler=payload.handler.value,
        consent_on=payload.consent_on,
        consent_method=payload.consent_method.value if payload.consent_method else "",
        source_talk=talk,
    )
    return Status(201, _meta(get_case_or_404(user, case.pk)))


@router.get(
    "/care-cases/{case_id}",
    response={200: CaseDetailOut, **_ERRORS},
    url_name="care-case",
    summary="困难诉求详情",
    exclude_unset=True,
)
def case_detail(request: HttpRequest, case_id: int):
    """One case in the caller's scope; the details only for the person, the handler and the opener (audited)."""
    case = get_case_or_404(request.user, case_id)
    out = _meta(case)
    details = read_details(request.user, case, request=request)
    if details is not None:
        out.update(
            category=details["category"],
            category_label=str(details["category_label"]),
            tier=details["tier"],
            tier_label=str(details["tier_label"]),
            description=details["description"],
            actions=[
                {
                    "kind": a.kind,
                    "kind_label": a.get_kind_display(),
                    "note": a.note,
                    "to_state": a.to_state,
                    "at": a.at,
                    "actor": str(a.actor) if a.actor_id else "系统",
                }
                for a in details["actions"]
            ],
        )
    return out
