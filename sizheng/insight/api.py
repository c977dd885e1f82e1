"""The surveys API: list and create surveys, one survey with its questions and waves, and answering
the open wave. Results and reporting groups are served by ``api_results`` (suppressed there).

A response is acknowledged without echoing anything that could identify it: no key, no answers.
"""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status as HttpStatus

from sizheng.core.apitools import Conflict, ErrorOut, Paged
from sizheng.insight import access, services
from sizheng.insight.models import Hierarchy, Schedule, Survey, SurveyMode, SurveyState, Template, WaveState
from sizheng.org import access as org_access
from sizheng.org.models import Org, Unit

router = Router(tags=["问卷调查"])
_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut, 429: ErrorOut}


class SurveyFields(Schema):
    """The fields every survey document has."""

    id: int
    title: str
    template: str
    template_label: str
    mode: str
    mode_label: str
    hierarchy: str
    hierarchy_label: str
    owner_org_id: int
    owner_org_name: str
    schedule: str
    wave_days: int
    state: str
    state_label: str
    created_at: datetime


class SurveyOut(SurveyFields):
    """A survey as lists show it."""

    @staticmethod
    def resolve_template_label(obj: Survey) -> str:
        return obj.get_template_display()

    @staticmethod
    def resolve_mode_label(obj: Survey) -> str:
        return obj.get_mode_display()

    @staticmethod
    def resolve_hierarchy_label(obj: Survey) -> str:
        return obj.get_hierarchy_display()

    @staticmethod
    def resolve_owner_org_name(obj: Survey) -> str:
        return obj.owner_org.name

    @staticmethod
    def resolve_state_label(obj: Survey) -> str:
        return obj.get_state_display()


class DimensionOut(Schema):
    """A dimension (a group of questions reported together)."""

    id: int
    name: str
    order: int


class QuestionOut(Schema):
    """A question. ``number`` is its place on the answer sheet; answers use ``id`` as the key."""

    id: int
    number: int
    dimension_id: int | None
    kind: str
    kind_label: str
    text: str
    options: list[str]
    required: bool


class WaveOut(Schema):
    """One round of the survey."""

    id: int
    number: int
    label: str
    opens_on: date
    closes_on: date
    state: str
    state_label: str


class SurveyDetailOut(SurveyFields):
    """One survey with its questions and waves; ``answered`` says whether the caller has answered
    the open wave (null when they are not asked or no wave is open)."""

    description: str
    version: int
    audience_org_ids: list[int]
    audience_unit_ids: list[int]
    dimensions: list[DimensionOut]
    questions: list[QuestionOut]
    waves: list[WaveOut]
    may_manage: bool
    open_wave_id: int | None
    answered: bool | None


class SurveyFilter(Schema):
    """Filters of the survey list."""

    state: SurveyState | None = None
    template: Template | None = None
    org_id: int | None = Field(None, description="组织单位（含下级）")
    q: str | None = Field(None, max_length=50, description="问卷名称包含")


class SurveyIn(Schema):
    """A new survey; ``mode`` and ``hierarchy`` are fixed from now on. ``title`` defaults to the
    template's name; an empty audience means the owner org's subtree."""

    owner_org_id: int
    template: Template = Template.CUSTOM
    title: str = Field("", max_length=services.TITLE_MAX)
    description: str = Field("", max_length=2000)
    mode: SurveyMode
    hierarchy: Hierarchy = Hierarchy.ORG
    audience_org_ids: list[int] = Field([], max_length=200)
    audience_unit_ids: list[int] = Field([], max_length=200)
    schedule: Schedule = Schedule.ONCE
    wave_days: int = Field(14, ge=1, le=services.WAVE_DAYS_MAX)


class ResponseIn(Schema):
    """Answers to the open wave: ``{"<question id>": value}`` — likert 1–5, single an option index
    (0-based) or its label, multi a list of them, rating 0–10, text a string."""

    answers: dict[str, Any]


class ResponseOut(Schema):
    """The acknowledgement of an answer sheet (nothing that identifies it)."""

    wave_id: int
    detail: str


@router.get(
    "/surveys", response={200: list[SurveyOut], **_ERRORS}, url_name="surveys-list", summary="问卷列表"
)
@paginate(Paged)
def survey_list(request: HttpRequest, filters: Query[SurveyFilter]):
    """Surveys the caller manages or is asked by, newest first."""
    qs = Survey.objects.visible_to(request.user).select_related("owner_org").order_by("-created_at", "-pk")
    if filters.state is not None:
        qs = qs.filter(state=filters.state.value)
    if filters.template is not None:
        qs = qs.filter(template=filters.template.value)
    if filters.org_id is not None:
        org = org_access.get_org_or_404(request.user, filters.org_id)
        qs = qs.filter(owner_org__path__startswith=org.path)
    if filters.q:
        qs = qs.filter(title__icontains=filters.q.strip())
    return qs


def _found(model, ids: list[int], field: str, label: str, allowed=None) -> list:
    """Rows for ids; unknown (or out-of-scope) ids are refused without saying which exist."""
    ids = list(dict.fromkeys(ids))
    qs = model.objects.filter(pk__in=ids)
    if allowed is not None:
        qs = qs.filter(pk__in=allowed.values("pk"))
    found = {o.pk: o for o in qs}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationError({field: f"{label}编号 {'、'.join(map(str, missing))} 不存在或不在您的范围内。"})
    return [found[i] for i in ids]


@router.post(
    "/surveys", response={201: SurveyDetailOut, **_ERRORS}, url_name="surveys-create", summary="新建问卷"
)
def survey_create(request: HttpRequest, payload: SurveyIn):
    """Create a draft survey for an org the caller manages (403 for others, 404 outside scope)."""
    user = request.user
    if not access.may_create(user):
        raise PermissionDenied("只有党组织书记、党务干部和机关工委可以发起问卷调查。")
    owner = org_access.get_org_or_404(user, payload.owner_org_id)
    org_access.require(org_access.manages_org(user, owner), "您可以查看该党组织，但不能以它的名义发起问卷。")
    orgs = _found(Org, payload.audience_org_ids, "audience_org_ids", "党组织", Org.objects.visible_to(user))
    units = _found(Unit, payload.audience_unit_ids, "audience_unit_ids", "单位")
    survey = services.survey_create(
        actor=user, owner_org=owner, title=payload.title, template=payload.template.value,
        mode=payload.mode.value, hierarchy=payload.hierarchy.value, audience_orgs=orgs, audience_units=units,
        schedule=payload.schedule.value, wave_days=payload.wave_days, description=payload.description,
    )  # fmt: skip
    return HttpStatus(201, _detail(request, survey.pk))


def _detail(request: HttpRequest, pk: int) -> dict:
    user = request.user
    survey = access.get_survey_or_404(user, pk)
    questions = services.ordered_questions(survey)
    waves = list(survey.waves.order_by("number"))
    open_wave = next((w for w in waves if w.state == WaveState.OPEN), None)
    answered = None
    if open_wave is not None:
        open_wave.survey = survey
        person = services.own_person(user)
        if services.is_open(open_wave) and services.in_audience(survey, person):
            answered = services.has_answered(open_wave, person)
    return {
        "id": survey.pk, "title": survey.title, "template": survey.template,
        "template_label": survey.get_template_display(), "mode": survey.mode, "mode_label": survey.get_mode_display(),
        "hierarchy": survey.hierarchy, "hierarchy_label": survey.get_hierarchy_display(),
        "owner_org_id": survey.owner_org_id, "owner_org_name": survey.owner_org.name, "schedule": survey.schedule,
        "wave_days": survey.wave_days, "state": survey.state, "state_label": survey.get_state_display(),
        "created_at": survey.created_at, "description": survey.description, "version": survey.version,
        "audience_org_ids": sorted(survey.audience_orgs.values_list("pk", flat=True)),
        "audience_unit_ids": sorted(survey.audience_units.values_list("pk", flat=True)),
        "dimensions": [{"id": d.pk, "name": d.name, "order": d.order} for d in survey.dimensions.all()],
        "questions": [
            {"id": q.pk, "number": n, "dimension_id": q.dimension_id, "kind": q.kind,
             "kind_label": q.get_kind_display(), "text": q.text, "options": list(q.options), "required": q.required}
            for n, q in enumerate(questions, 1)
        ],
        "waves": [
            {"id": w.pk, "number": w.number, "label": w.label, "opens_on": w.opens_on, "closes_on": w.closes_on,
             "state": w.state, "state_label": w.get_state_display()}
            for w in waves
        ],
        "may_manage": access.may_manage(user, survey),
        "open_wave_id": open_wave.pk if open_wave is not None else None,
        "answered": answered,
    }  # fmt: skip


@router.get("/surveys/{survey_id}", response={200: SurveyDetailOut, **_ERRORS}, url_name="surveys-detail",
            summary="问卷详情")  # fmt: skip
def survey_detail(request: HttpRequest, survey_id: int):
    """One survey the caller may see (404 otherwise), with dimensions, questions and waves."""
    return _detail(request, survey_id)


@router.post("/surveys/{survey_id}/responses", response={201: ResponseOut, **_ERRORS},
             url_name="surveys-responses", summary="提交答卷")  # fmt: skip
def response_create(request: HttpRequest, survey_id: int, payload: ResponseIn):
    """Answer the open wave of a survey asking the caller: 201; 404 when the survey does not ask
    them; 409 when no wave is open or they have answered already; 422 for bad answers."""
    survey = Survey.objects.exclude(state=SurveyState.DRAFT).filter(pk=survey_id).first()
    person = services.own_person(request.user)
    if survey is None or not services.in_audience(survey, person):
        raise Http404(services.MSG_NOT_AUDIENCE)
    wave = survey.waves.filter(state=WaveState.OPEN).order_by("-number").first()
    if wave is None:
        raise Conflict(services.MSG_NO_WAVE)
    wave.survey = survey
    services.response_submit(actor=request.user, wave=wave, answers=payload.answers)
    return HttpStatus(201, {"wave_id": wave.pk, "detail": "答卷已提交，感谢您的参与！"})
