"""Every write of surveys (issue 7 items 1 and 3): the builder, waves, answers and risk alerts.

* **Builder.** ``survey_create`` (from a template of ``survey_templates`` or blank), edits of the
  survey, its dimensions and questions while it is a draft, ``survey_publish`` (opens the first
  wave), ``survey_close``. The mode (named / anonymous) and the reporting hierarchy are fixed at
  creation: ``survey_update`` refuses to change them.
* **Waves.** ``wave_open`` creates the next wave, fixes the expected respondents per leaf reporting
  group (participation rates) and tells the audience; ``wave_close`` closes it, writes the pending
  anonymous answers, re-writes the wave's anonymous rows in one shuffled batch and scans the free
  text for risk phrases (one ``RiskAlert`` per reporting group, counselors told without identity).
* **Answers.** ``response_submit``: the audience answers an open wave once. Anonymous answers follow
  ARCHITECTURE §5: an ``AnswerLedger`` row (random key, no time) says *that* the person answered; the
  answer goes through ``core.anonymous`` (random key, wave and reporting group only, shuffled batches)
  with a tally per group — no audit row, no log line, no notification per answer.

Stored answers are ``{str(question_id): value}``: likert 1–5 (1 = 非常不同意 … 5 = 非常同意), single a
0-based option index, multi a sorted list of option indexes, rating 0–10, text a non-empty string;
an optional question left blank is absent.

Linkage (ARCHITECTURE §5): while a wave is open, answers reach the table in shuffled batches of at
least ``ANONYMITY_MIN_GROUP``, so insertion order narrows an answer to its batch at best; when the
wave closes, its anonymous rows and its ledger are deleted and written again in random order, so
from then on neither row order nor keys line the ledger up with the answers at all.
"""

from __future__ import annotations

import importlib
import json
import logging
import random
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from sizheng.core import anonymous as anon_store
from sizheng.core import audit
from sizheng.core.apitools import Conflict
from sizheng.core.notify import notify
from sizheng.core.rules import Period
from sizheng.insight import groups as reporting
from sizheng.insight.models import (
    LIKERT_LABELS,
    AnonymousResponse,
    AnswerLedger,
    Dimension,
    Hierarchy,
    NamedResponse,
    Question,
    QuestionKind,
    RiskAlert,
    Schedule,
    Survey,
    SurveyMode,
    SurveyState,
    Template,
    Wave,
    WaveState,
)
from sizheng.insight.survey_templates import template_for
from sizheng.org.access import manages_org
from sizheng.org.models import Office, Org, Person, Unit

log = logging.getLogger(__name__)

KIND = "survey"  # core.anonymous kind of the pool and the tallies
TITLE_MAX = 120
NAME_MAX = 60
QUESTION_MAX = 300
OPTION_MAX = 100
OPTIONS_MIN, OPTIONS_MAX = 2, 20
QUESTIONS_MAX = 100
DIMENSIONS_MAX = 20
TEXT_ANSWER_MAX = 1000
WAVE_DAYS_MAX = 90
RATING_MAX = 10

PERIOD_OF = {
    Schedule.MONTH: "month",
    Schedule.QUARTER: "quarter",
    Schedule.HALF: "half",
    Schedule.YEAR: "year",
}
# The survey workflow: (from, to) pairs a transition may take (ARCHITECTURE §3).
TRANSITIONS = {
    (SurveyState.DRAFT, SurveyState.PUBLISHED),
    (SurveyState.PUBLISHED, SurveyState.CLOSED),
}

MSG_FIXED = "作答方式和统计分组在创建问卷时确定，之后不能修改；如需调整，请新建一份问卷。"
MSG_NOT_DRAFT = "问卷已发布，题目和调查对象不能再修改。"
MSG_STALE = "该问卷已被他人修改，请刷新页面后重新操作。"
MSG_NOT_MANAGER = "只有问卷所属党组织的书记、党务干部或机关工委可以管理该问卷。"
MSG_NOT_AUDIENCE = "未找到该问卷，或您不在本问卷的调查对象中。"
MSG_NO_WAVE = "本问卷目前没有正在进行的调查，暂不能作答。"
MSG_ANSWERED = "您已经提交过本轮问卷，每人每轮只能作答一次。感谢您的参与！"
MSG_NO_PERSON = "您的账号没有关联人员信息，不能参加问卷调查。请联系本单位党务干部在花名册中关联账号。"
MSG_RUNNING = "本问卷还有一轮调查正在进行或尚未开始，请先结束它，再开始新的一轮。"

_rng = random.SystemRandom()


# --- helpers ---------------------------------------------------------------------------------


def _require_manager(actor, survey_or_org) -> None:
    """403 unless the actor manages the survey's owner org (jobs run with ``actor=None``)."""
    if actor is None:
        return
    org = survey_or_org.owner_org if isinstance(survey_or_org, Survey) else survey_or_org
    if not manages_org(actor, org):
        raise PermissionDenied(MSG_NOT_MANAGER)


def _locked(survey: Survey) -> Survey:
    """The survey's row, locked for the rest of the transaction, with its current state."""
    return Survey.objects.select_for_update().select_related("owner_org").get(pk=survey.pk)


def _require_draft(survey: Survey) -> Survey:
    fresh = _locked(survey)
    if fresh.state != SurveyState.DRAFT:
        raise Conflict(MSG_NOT_DRAFT)
    return fresh


def _cas(survey: Survey, version: int, **changes) -> None:
    """Compare-and-swap on ``version``: a stale form fails instead of overwriting."""
    if not Survey.objects.filter(pk=survey.pk, version=version).update(version=F("version") + 1, **changes):
        raise Conflict(MSG_STALE)
    for k, v in changes.items():
        setattr(survey, k, v)
    survey.version = version + 1


def _clean_title(
    value: str, field: str = "title", limit: int = TITLE_MAX, empty: str = "请填写问卷名称。"
) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: empty})
    if len(value) > limit:
        raise ValidationError({field: f"不得超过 {limit} 个字。"})
    return value


def _check_schedule(schedule: str, wave_days: int) -> dict:
    errors = {}
    if schedule not in Schedule.values:
        errors["schedule"] = "请选择调查频次。"
    if not isinstance(wave_days, int) or isinstance(wave_days, bool) or not 1 <= wave_days <= WAVE_DAYS_MAX:
        errors["wave_days"] = f"每轮作答天数应在 1 到 {WAVE_DAYS_MAX} 天之间。"
    return errors


def _check_audience(owner_org: Org, hierarchy: str, orgs: list[Org], units: list[Unit]) -> dict:
    """Audiences lie inside the owner org's subtree; an org-tree survey is aimed at orgs only."""
    errors = {}
    outside = [o.name for o in orgs if not o.path.startswith(owner_org.path)]
    if outside:
        errors["audience_orgs"] = f"调查对象须在组织单位（含下级）范围内：{'、'.join(outside)}不在其中。"
    if units:
        if hierarchy == Hierarchy.ORG:
            errors["audience_units"] = (
                "按党组织层级统计的问卷请按党组织选择调查对象；如需按单位选择，请把统计分组设为“按单位—处室”。"
            )
        else:
            covered = set(
                Org.objects.filter(path__startswith=owner_org.path, units__in=units).values_list(
                    "units", flat=True
                )
            )
            missing = [u.name for u in units if u.pk not in covered]
            if missing:
                errors["audience_units"] = (
                    f"调查对象须在组织单位（含下级）范围内：{'、'.join(missing)}不在其中。"
                )
    return errors


def ordered_questions(survey: Survey) -> list[Question]:
    """The survey's questions in the order they are asked: by dimension, then ungrouped ones."""
    questions = list(survey.questions.select_related("dimension"))

    def key(q: Question):
        d = q.dimension
        return (0, d.order, d.pk, q.order, q.pk) if d is not None else (1, 0, 0, q.order, q.pk)

    return sorted(questions, key=key)


def sections(survey: Survey) -> list[tuple[Dimension | None, list[Question]]]:
    """Dimensions in order, each with its questions, and a last section of ungrouped questions."""
    dims = list(survey.dimensions.all())
    by_dim: dict[int | None, list[Question]] = {d.pk: [] for d in dims}
    by_dim[None] = []
    for number, q in enumerate(ordered_questions(survey), 1):
        q.number = number  # its place on the answer sheet
        by_dim.setdefault(q.dimension_id, []).append(q)
    out: list[tuple[Dimension | None, list[Question]]] = [(d, by_dim[d.pk]) for d in dims]
    if by_dim[None]:
        out.append((None, by_dim[None]))
    return out


# --- surveys ---------------------------------------------------------------------------------


def _copy_template(survey: Survey, data: dict) -> None:
    order = 0
    for d_index, dim in enumerate(data.get("dimensions", []), 1):
        dimension = Dimension.objects.create(survey=survey, name=dim["name"], order=d_index)
        for q in dim["questions"]:
            order += 1
            Question.objects.create(
                survey=survey, dimension=dimension, kind=q["kind"], text=q["text"],
                options=list(q.get("options", [])), required=q.get("required", True), order=order,
            )  # fmt: skip
    for q in data.get("questions", []):
        order += 1
        Question.objects.create(
            survey=survey, kind=q["kind"], text=q["text"], options=list(q.get("options", [])),
            required=q.get("required", True), order=order,
        )  # fmt: skip


@transaction.atomic
def survey_create(
    *,
    actor,
    owner_org: Org,
    title: str,
    template: str,
    mode: str,
    hierarchy: str,
    audience_orgs: Iterable[Org] = (),
    audience_units: Iterable[Unit] = (),
    schedule: str = Schedule.ONCE,
    wave_days: int = 14,
    description: str = "",
) -> Survey:
    """Create a draft survey for the owner org; a template fills its dimensions and questions."""
    _require_manager(actor, owner_org)
    errors: dict[str, str] = {}
    if template not in Template.values:
        errors["template"] = "请选择问卷模板。"
    if mode not in SurveyMode.values:
        errors["mode"] = "请选择作答方式（匿名或实名）。"
    if hierarchy not in Hierarchy.values:
        errors["hierarchy"] = "请选择统计分组方式。"
    errors.update(_check_schedule(schedule, wave_days))
    if errors:
        raise ValidationError(errors)
    data = template_for(template)
    try:
        title = _clean_title(title or data["title"])
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    orgs, units = list(audience_orgs), list(audience_units)
    errors.update(_check_audience(owner_org, hierarchy, orgs, units))
    if errors:
        raise ValidationError(errors)
    if not orgs and not units:
        # The default audience is the owner org's subtree, stored so members find the survey.
        orgs = [owner_org]
    survey = Survey.objects.create(
        title=title,
        description=(description or "").strip() or data["description"],
        template=template,
        mode=mode,
        hierarchy=hierarchy,
        owner_org=owner_org,
        schedule=schedule,
        wave_days=wave_days,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    survey.audience_orgs.set(orgs)
    survey.audience_units.set(units)
    _copy_template(survey, data)
    audit.record(
        actor, "survey_create", survey,
        {"template": template, "mode": mode, "hierarchy": hierarchy, "owner_org": owner_org.pk,
         "audience_orgs": sorted(o.pk for o in orgs), "audience_units": sorted(u.pk for u in units)},
    )  # fmt: skip
    return survey


_UNSET = object()


@transaction.atomic
def survey_update(
    *,
    actor,
    survey: Survey,
    version: int,
    title=_UNSET,
    description=_UNSET,
    schedule=_UNSET,
    wave_days=_UNSET,
    audience_orgs=_UNSET,
    audience_units=_UNSET,
    mode=_UNSET,
    hierarchy=_UNSET,
) -> Survey:
    """Edit a survey: title, description, schedule and wave length while not closed; the audience
    only while a draft; the mode and the hierarchy never."""
    _require_manager(actor, survey)
    fresh = _locked(survey)
    if (mode is not _UNSET and mode != fresh.mode) or (
        hierarchy is not _UNSET and hierarchy != fresh.hierarchy
    ):
        raise ValidationError(
            {"mode" if mode is not _UNSET and mode != fresh.mode else "hierarchy": MSG_FIXED}
        )
    if fresh.state == SurveyState.CLOSED:
        raise Conflict("问卷已结束，不能再修改。")
    changes: dict = {}
    if title is not _UNSET:
        changes["title"] = _clean_title(title)
    if description is not _UNSET:
        changes["description"] = (description or "").strip()
    errors = _check_schedule(
        fresh.schedule if schedule is _UNSET else schedule,
        fresh.wave_days if wave_days is _UNSET else wave_days,
    )
    if errors:
        raise ValidationError(errors)
    if schedule is not _UNSET:
        changes["schedule"] = schedule
    if wave_days is not _UNSET:
        changes["wave_days"] = wave_days
    changed = sorted(k for k, v in changes.items() if getattr(fresh, k) != v)
    audience_changed = False
    if audience_orgs is not _UNSET or audience_units is not _UNSET:
        orgs = list(fresh.audience_orgs.all() if audience_orgs is _UNSET else audience_orgs)
        units = list(fresh.audience_units.all() if audience_units is _UNSET else audience_units)
        before = (
            set(fresh.audience_orgs.values_list("pk", flat=True)),
            set(fresh.audience_units.values_list("pk", flat=True)),
        )
        after = ({o.pk for o in orgs}, {u.pk for u in units})
        if before != after:
            if fresh.state != SurveyState.DRAFT:
                raise Conflict("问卷已发布，调查对象不能再修改。")
            errors = _check_audience(fresh.owner_org, fresh.hierarchy, orgs, units)
            if errors:
                raise ValidationError(errors)
            if not orgs and not units:
                orgs = [fresh.owner_org]
            audience_changed = True
    if not changed and not audience_changed:
        if version != fresh.version:
            raise Conflict(MSG_STALE)
        return fresh
    _cas(fresh, version, **{k: changes[k] for k in changed})
    if audience_changed:
        fresh.audience_orgs.set(orgs)
        fresh.audience_units.set(units)
        changed += ["audience"]
    audit.record(actor, "survey_update", fresh, {"fields": changed})
    return fresh


@transaction.atomic
def survey_delete(*, actor, survey: Survey) -> None:
    """Delete a draft survey with its dimensions and questions (a published one is kept)."""
    _require_manager(actor, survey)
    fresh = _require_draft(survey)
    pk = fresh.pk
    audit.record(actor, "survey_delete", ("insight.survey", pk), {"owner_org": fresh.owner_org_id})
    fresh.delete()


def _transition(survey: Survey, version: int, to: str) -> None:
    if (survey.state, to) not in TRANSITIONS:
        labels = dict(SurveyState.choices)
        raise Conflict(f"问卷当前为“{labels.get(survey.state, survey.state)}”，不能改为“{labels[to]}”。")
    _cas(survey, version, state=to)


@transaction.atomic
def survey_publish(*, actor, survey: Survey, version: int, opens_on: date | None = None) -> Survey:
    """Publish a draft and open its first wave (today, or planned for ``opens_on``)."""
    _require_manager(actor, survey)
    fresh = _locked(survey)
    questions = list(fresh.questions.all())
    if not questions:
        raise ValidationError("问卷还没有题目，请至少添加一道题目后再发布。")
    bad = [
        q
        for q in questions
        if q.kind in (QuestionKind.SINGLE, QuestionKind.MULTI) and len(q.options) < OPTIONS_MIN
    ]
    if bad:
        raise ValidationError(f"题目“{bad[0].text[:20]}”的选项少于 {OPTIONS_MIN} 个，请补充后再发布。")
    _transition(fresh, version, SurveyState.PUBLISHED)
    audit.record(actor, "survey_publish", fresh, {"questions": len(questions)})
    wave_open(actor=actor, survey=fresh, opens_on=opens_on)
    return fresh


@transaction.atomic
def survey_close(*, actor, survey: Survey, version: int) -> Survey:
    """End a survey: its running wave closes, a planned one is cancelled, no new waves open."""
    _require_manager(actor, survey)
    fresh = _locked(survey)
    _transition(fresh, version, SurveyState.CLOSED)
    for wave in fresh.waves.filter(state__in=[WaveState.OPEN, WaveState.PLANNED]):
        if wave.state == WaveState.OPEN:
            _close(actor, wave)
        else:
            _cancel(actor, wave)
    audit.record(actor, "survey_close", fresh, {})
    return fresh


# --- dimensions and questions (drafts only) --------------------------------------------------


def _renumber(rows: list) -> None:
    for i, row in enumerate(rows, 1):
        if row.order != i:
            row.order = i
            type(row).objects.filter(pk=row.pk).update(order=i)


def _swap(rows: list, obj, offset: int) -> bool:
    """Move ``obj`` one place up (-1) or down (+1) among ``rows``; False at either end."""
    _renumber(rows)
    index = next(i for i, r in enumerate(rows) if r.pk == obj.pk)
    other = index + offset
    if offset not in (-1, 1) or not 0 <= other < len(rows):
        return False
    a, b = rows[index], rows[other]
    a.order, b.order = b.order, a.order
    type(a).objects.filter(pk=a.pk).update(order=a.order)
    type(b).objects.filter(pk=b.pk).update(order=b.order)
    obj.order = a.order
    return True


@transaction.atomic
def dimension_add(*, actor, survey: Survey, name: str) -> Dimension:
    """Add a dimension (a group of questions reported together) at the end."""
    _require_manager(actor, survey)
    fresh = _require_draft(survey)
    name = _clean_title(name, "name", NAME_MAX, "请填写维度名称。")
    if fresh.dimensions.count() >= DIMENSIONS_MAX:
        raise ValidationError({"name": f"一份问卷最多设 {DIMENSIONS_MAX} 个维度。"})
    if fresh.dimensions.filter(name=name).exists():
        raise ValidationError({"name": f"已有名为“{name}”的维度。"})
    order = (fresh.dimensions.aggregate(m=Max("order"))["m"] or 0) + 1
    dimension = Dimension.objects.create(survey=fresh, name=name, order=order)
    audit.record(actor, "dimension_add", dimension, {"survey": fresh.pk})
    return dimension


@transaction.atomic
def dimension_update(*, actor, dimension: Dimension, name: str) -> Dimension:
    """Rename a dimension."""
    _require_manager(actor, dimension.survey)
    _require_draft(dimension.survey)
    name = _clean_title(name, "name", NAME_MAX, "请填写维度名称。")
    if Dimension.objects.filter(survey_id=dimension.survey_id, name=name).exclude(pk=dimension.pk).exists():
        raise ValidationError({"name": f"已有名为“{name}”的维度。"})
    if name != dimension.name:
        Dimension.objects.filter(pk=dimension.pk).update(name=name)
        dimension.name = name
        audit.record(
            actor, "dimension_update", dimension, {"survey": dimension.survey_id, "fields": ["name"]}
        )
    return dimension


@transaction.atomic
def dimension_remove(*, actor, dimension: Dimension) -> None:
    """Remove a dimension; its questions stay, ungrouped."""
    _require_manager(actor, dimension.survey)
    _require_draft(dimension.survey)
    audit.record(
        actor, "dimension_remove", ("insight.dimension", dimension.pk), {"survey": dimension.survey_id}
    )
    dimension.delete()


@transaction.atomic
def dimension_move(*, actor, dimension: Dimension, offset: int) -> bool:
    """Move a dimension one place up (-1) or down (+1)."""
    _require_manager(actor, dimension.survey)
    survey = _require_draft(dimension.survey)
    moved = _swap(list(survey.dimensions.order_by("order", "pk")), dimension, offset)
    if moved:
        audit.record(actor, "dimension_move", dimension, {"survey": survey.pk, "offset": offset})
    return moved


def clean_options(kind: str, options: Iterable[str]) -> list[str]:
    """A choice question's options: trimmed, blank lines and repeats dropped; [] for other kinds."""
    if kind not in (QuestionKind.SINGLE, QuestionKind.MULTI):
        return []
    out: list[str] = []
    for raw in options or ():
        label = str(raw).strip()
        if label and label not in out:
            out.append(label)
    if len(out) < OPTIONS_MIN:
        raise ValidationError({"options": f"单选题和多选题至少需要 {OPTIONS_MIN} 个不同的选项，每行一个。"})
    if len(out) > OPTIONS_MAX:
        raise ValidationError({"options": f"选项不得超过 {OPTIONS_MAX} 个。"})
    long = [o for o in out if len(o) > OPTION_MAX]
    if long:
        raise ValidationError({"options": f"每个选项不得超过 {OPTION_MAX} 个字：“{long[0][:20]}…”过长。"})
    return out


def _check_dimension(survey: Survey, dimension: Dimension | None) -> None:
    if dimension is not None and dimension.survey_id != survey.pk:
        raise ValidationError({"dimension": "所选维度不属于本问卷。"})


@transaction.atomic
def question_add(
    *,
    actor,
    survey: Survey,
    kind: str,
    text: str,
    options: Iterable[str] = (),
    required: bool = True,
    dimension: Dimension | None = None,
) -> Question:
    """Add a question at the end of its dimension (or of the ungrouped questions)."""
    _require_manager(actor, survey)
    fresh = _require_draft(survey)
    if kind not in QuestionKind.values:
        raise ValidationError({"kind": "请选择题型。"})
    text = _clean_title(text, "text", QUESTION_MAX, "请填写题目。")
    options = clean_options(kind, options)
    _check_dimension(fresh, dimension)
    if fresh.questions.count() >= QUESTIONS_MAX:
        raise ValidationError(f"一份问卷最多 {QUESTIONS_MAX} 道题目。")
    order = (fresh.questions.aggregate(m=Max("order"))["m"] or 0) + 1
    question = Question.objects.create(
        survey=fresh,
        dimension=dimension,
        kind=kind,
        text=text,
        options=options,
        required=bool(required),
        order=order,
    )
    audit.record(actor, "question_add", question, {"survey": fresh.pk, "kind": kind})
    return question


@transaction.atomic
def question_update(
    *, actor, question: Question, kind=_UNSET, text=_UNSET, options=_UNSET, required=_UNSET, dimension=_UNSET
) -> Question:
    """Edit a draft's question (kind, text, options, required, dimension)."""
    survey = question.survey
    _require_manager(actor, survey)
    _require_draft(survey)
    new_kind = question.kind if kind is _UNSET else kind
    if new_kind not in QuestionKind.values:
        raise ValidationError({"kind": "请选择题型。"})
    changes = {"kind": new_kind}
    if text is not _UNSET:
        changes["text"] = _clean_title(text, "text", QUESTION_MAX, "请填写题目。")
    changes["options"] = clean_options(new_kind, question.options if options is _UNSET else options)
    if required is not _UNSET:
        changes["required"] = bool(required)
    if dimension is not _UNSET:
        _check_dimension(survey, dimension)
        changes["dimension_id"] = dimension.pk if dimension is not None else None
    changed = sorted(k for k, v in changes.items() if getattr(question, k) != v)
    if changed:
        Question.objects.filter(pk=question.pk).update(**{k: changes[k] for k in changed})
        for k in changed:
            setattr(question, k, changes[k])
        if "dimension_id" in changed:
            question.dimension = dimension
        audit.record(actor, "question_update", question, {"survey": survey.pk, "fields": changed})
    return question


@transaction.atomic
def question_remove(*, actor, question: Question) -> None:
    """Remove a draft's question."""
    _require_manager(actor, question.survey)
    _require_draft(question.survey)
    audit.record(actor, "question_remove", ("insight.question", question.pk), {"survey": question.survey_id})
    question.delete()


@transaction.atomic
def question_move(*, actor, question: Question, offset: int) -> bool:
    """Move a question one place up (-1) or down (+1) within its dimension."""
    _require_manager(actor, question.survey)
    survey = _require_draft(question.survey)
    siblings = list(survey.questions.filter(dimension_id=question.dimension_id).order_by("order", "pk"))
    moved = _swap(siblings, question, offset)
    if moved:
        audit.record(actor, "question_move", question, {"survey": survey.pk, "offset": offset})
    return moved


# --- waves -----------------------------------------------------------------------------------


def period_of(survey: Survey, day: date) -> Period | None:
    """The schedule's period containing ``day`` (None for a one-off survey)."""
    kind = PERIOD_OF.get(survey.schedule)
    return Period.containing(kind, day) if kind else None  # type: ignore[arg-type]


def wave_label(survey: Survey, number: int, opens_on: date) -> str:
    """The wave's name: "2026年第四季度" for a scheduled survey (plus the round when a period has two), else "第3轮"."""
    period = period_of(survey, opens_on)
    if period is None:
        return f"第{number}轮"
    label = period.label
    if survey.waves.filter(label=label).exists():
        label = f"{label}（第{number}轮）"
    return label


def is_open(wave: Wave, day: date | None = None) -> bool:
    """Whether the wave takes answers on ``day`` (today by default)."""
    day = day or timezone.localdate()
    return wave.state == WaveState.OPEN and wave.opens_on <= day <= wave.closes_on


def answer_url(survey: Survey) -> str:
    try:
        return reverse("insight:answer", args=[survey.pk])
    except NoReverseMatch:
        return f"/insight/surveys/{survey.pk}/answer/"


@transaction.atomic
def wave_open(*, actor, survey: Survey, opens_on: date | None = None) -> Wave:
    """Create the survey's next wave: open now (audience counts fixed, audience told) or planned."""
    _require_manager(actor, survey)
    fresh = _locked(survey)
    if fresh.state != SurveyState.PUBLISHED:
        raise Conflict("只有已发布且未结束的问卷才能开始新一轮调查。")
    if fresh.waves.filter(state__in=[WaveState.OPEN, WaveState.PLANNED]).exists():
        raise Conflict(MSG_RUNNING)
    today = timezone.localdate()
    opens_on = opens_on or today
    if opens_on < today:
        raise ValidationError({"opens_on": "开始日期不能早于今天。"})
    if opens_on > today + timedelta(days=366):
        raise ValidationError({"opens_on": "开始日期不能晚于一年以后。"})
    number = (fresh.waves.aggregate(m=Max("number"))["m"] or 0) + 1
    try:
        with transaction.atomic():
            wave = Wave.objects.create(
                survey=fresh,
                number=number,
                label=wave_label(fresh, number, opens_on),
                opens_on=opens_on,
                closes_on=opens_on + timedelta(days=fresh.wave_days - 1),
                state=WaveState.PLANNED,
            )
    except IntegrityError:
        # Two openers raced for the same number: exactly one wave exists.
        raise Conflict(MSG_RUNNING) from None
    audit.record(
        actor, "wave_open", wave, {"survey": fresh.pk, "number": number, "opens_on": opens_on.isoformat()}
    )
    if opens_on <= today:
        wave_activate(wave=wave)
    return wave


@transaction.atomic
def wave_activate(*, wave: Wave) -> bool:
    """A planned wave starts: fix the expected respondents per leaf group and tell the audience."""
    survey = wave.survey
    people = list(reporting.audience(survey).only("pk", "org_id", "unit_id", "office_id", "user_id"))
    leaf = reporting.leaf_groups(survey, people)
    counts = Counter(g for g in leaf.values() if g)
    if not Wave.objects.filter(pk=wave.pk, state=WaveState.PLANNED).update(
        state=WaveState.OPEN, audience_counts=dict(sorted(counts.items()))
    ):
        return False
    wave.state, wave.audience_counts = WaveState.OPEN, dict(sorted(counts.items()))
    user_ids = [p.user_id for p in people if p.user_id]
    title = f"请参加问卷调查：{survey.title}"[:200]
    body = f"{survey.title}（{wave.label}）已开始，请在{wave.closes_on:%Y年%m月%d日}前完成作答。" + (
        "本问卷为匿名问卷，答卷不与您的身份关联。" if survey.is_anonymous else ""
    )
    url = answer_url(survey)
    transaction.on_commit(lambda: _notify_ids(user_ids, title=title, body=body, url=url))
    return True


def _notify_ids(user_ids: list[int], *, title: str, body: str, url: str) -> None:
    from sizheng.core.models import User

    notify(User.objects.filter(pk__in=user_ids, is_active=True), title=title, body=body, url=url)


def _cancel(actor, wave: Wave) -> None:
    audit.record(actor, "wave_cancel", wave, {"survey": wave.survey_id})
    wave.delete()


@transaction.atomic
def wave_cancel(*, actor, wave: Wave) -> None:
    """Drop a planned wave that has not started (nobody could have answered it)."""
    _require_manager(actor, wave.survey)
    if not Wave.objects.select_for_update().filter(pk=wave.pk, state=WaveState.PLANNED).exists():
        raise Conflict("只有尚未开始的轮次可以取消。")
    _cancel(actor, wave)


@transaction.atomic
def wave_close(*, actor, wave: Wave) -> Wave:
    """Close an open wave: write pending answers, shuffle the wave's rows, scan for risk phrases."""
    _require_manager(actor, wave.survey)
    return _close(actor, wave)


def _close(actor, wave: Wave) -> Wave:
    fresh = Wave.objects.select_for_update().select_related("survey").get(pk=wave.pk)
    if fresh.state != WaveState.OPEN:
        raise Conflict("该轮调查不在作答中，不能结束。")
    today = timezone.localdate()
    changes = {"state": WaveState.CLOSED}
    if today < fresh.closes_on:
        changes["closes_on"] = max(today, fresh.opens_on)
    Wave.objects.filter(pk=fresh.pk).update(**changes)
    for k, v in changes.items():
        setattr(fresh, k, v)
    anon_store.pool_flush(KIND, str(fresh.pk), writer=_writer(fresh.pk))
    if fresh.survey.is_anonymous:
        _reshuffle(fresh)
    alerts = risk_scan(fresh)
    audit.record(actor, "wave_close", fresh, {"survey": fresh.survey_id, "risk_alerts": len(alerts)})
    for k, v in changes.items():
        setattr(wave, k, v)
    return fresh


def _writer(wave_id: int):
    """The pool's writer for one wave: a shuffled batch of anonymous answer sheets."""

    def write(items: list[dict]) -> None:
        AnonymousResponse.objects.bulk_create(
            [
                AnonymousResponse(
                    key=uuid.UUID(i["key"]),
                    wave_id=wave_id,
                    group=i["group"],
                    answers=json.dumps(i["answers"]),
                )
                for i in items
            ]
        )

    return write


def _reshuffle(wave: Wave) -> None:
    """Write the closed wave's anonymous answers and its ledger again, each in a random order.

    While the wave was open, batches reached the table in time order, so a batch's position told
    which ≥ k people it came from. Deleting and re-inserting in random order (same keys) leaves no
    insertion order, row id or physical position that follows the order in which people answered.
    """
    rows = list(AnonymousResponse.objects.filter(wave=wave).values_list("key", "group", "answers"))
    _rng.shuffle(rows)
    AnonymousResponse.objects.filter(wave=wave).delete()
    AnonymousResponse.objects.bulk_create(
        [AnonymousResponse(key=k, wave_id=wave.pk, group=g, answers=a) for k, g, a in rows]
    )
    ledger = list(AnswerLedger.objects.filter(wave=wave).values_list("person_id", flat=True))
    _rng.shuffle(ledger)
    AnswerLedger.objects.filter(wave=wave).delete()
    AnswerLedger.objects.bulk_create([AnswerLedger(wave_id=wave.pk, person_id=p) for p in ledger])


# --- risk alerts -----------------------------------------------------------------------------


def _group_totals(wave: Wave) -> dict[str, int]:
    """Answer sheets per leaf group of a closed wave."""
    if wave.survey.is_anonymous:
        return {g: n for (_, g), n in anon_store.tallies(KIND, str(wave.pk)).items()}
    return dict(Counter(NamedResponse.objects.filter(wave=wave).values_list("group", flat=True)))


def _roll_up(survey: Survey, totals: dict[str, int], risky: Counter) -> Counter:
    """Move each risky leaf group's count up to the nearest group (itself or an ancestor) with at
    least ``ANONYMITY_MIN_GROUP`` respondents, so an alert never points at a handful of people."""
    parent = {g.id: g.parent_id for g in reporting.groups(survey)}
    subtree: Counter = Counter()
    for group, n in totals.items():
        node: str | None = group
        seen = set()
        while node is not None and node not in seen:
            seen.add(node)
            subtree[node] += n
            node = parent.get(node)
    k = settings.ANONYMITY_MIN_GROUP
    out: Counter = Counter()
    for group, n in risky.items():
        node = group
        while subtree[node] < k and parent.get(node) is not None:
            node = parent[node]  # type: ignore[assignment]
        out[node] += n
    return out


def group_org(group: str) -> Org | None:
    """The org whose counselors look after a reporting group (for units and offices: the unit's
    机关党委 / 党总支 / 党支部)."""
    kind, _, raw = group.partition(":")
    if not raw.isdigit():
        return None
    if kind == "org":
        return Org.objects.filter(pk=int(raw)).first()
    unit_id = (
        int(raw)
        if kind == "unit"
        else Office.objects.filter(pk=int(raw)).values_list("unit_id", flat=True).first()
    )
    if unit_id is None:
        return None
    return (
        Org.objects.filter(units=unit_id, depth__lte=1)
        .exclude(kind=Org.Kind.LEADING_GROUP)
        .order_by("-depth", "path")
        .first()
    )


def group_names(survey: Survey) -> dict[str, str]:
    return {g.id: g.name for g in reporting.groups(survey)}


def risk_scan(wave: Wave) -> list[RiskAlert]:
    """Count answer sheets of the wave whose free text holds a risk phrase, per reporting group,
    and alert that group's counselors — with the group and the count, never a person or a text."""
    try:
        text_analysis = importlib.import_module("sizheng.insight.text")
    except ImportError:
        log.warning("insight risk scan skipped for wave %s: text analysis is not available", wave.pk)
        return []
    survey = wave.survey
    text_ids = [
        str(pk) for pk in survey.questions.filter(kind=QuestionKind.TEXT).values_list("pk", flat=True)
    ]
    if not text_ids:
        return []
    if survey.is_anonymous:
        sheets = (
            (g, json.loads(a or "{}"))
            for g, a in AnonymousResponse.objects.filter(wave=wave).values_list("group", "answers")
        )
    else:
        sheets = NamedResponse.objects.filter(wave=wave).values_list("group", "answers")
    risky: Counter = Counter()
    for group, answers in sheets:
        texts = [answers.get(q) for q in text_ids if isinstance(answers.get(q), str) and answers.get(q)]
        # Risk phrases need no segmentation: closing a wave from the browser does not load jieba.
        if any(text_analysis.is_risk(t) for t in texts):
            risky[group] += 1
    if not risky:
        return []
    alerts = []
    names = group_names(survey)
    for group, count in sorted(_roll_up(survey, _group_totals(wave), risky).items()):
        alert, created = RiskAlert.objects.get_or_create(wave=wave, group=group, defaults={"count": count})
        if not created:
            RiskAlert.objects.filter(pk=alert.pk).update(count=count)
            alert.count = count
        audit.record(None, "risk_alert", alert, {"wave": wave.pk, "group": group})
        _alert_counselors(alert, survey, names.get(group, "相关群体"))
        alerts.append(alert)
    return alerts


def risk_alerts_url() -> str:
    try:
        return reverse("insight:risk_alerts")
    except NoReverseMatch:
        return ""


def counselors_of(group: str) -> list:
    """The primary and backup counselors covering a reporting group's org."""
    try:
        from sizheng.care.wellbeing import backup_counselors, primary_counselor
    except ImportError:
        return []
    org = group_org(group)
    if org is None:
        return []
    users = [primary_counselor(org), *backup_counselors(org)]
    seen, out = set(), []
    for u in users:
        if u is not None and u.pk not in seen:
            seen.add(u.pk)
            out.append(u)
    return out


def _alert_counselors(alert: RiskAlert, survey: Survey, group_name: str) -> None:
    users = counselors_of(alert.group)
    if not users:
        log.warning("insight risk alert %s has no counselor to notify", alert.pk)
        return
    title = "问卷匿名意见中出现需要关注的情况"
    body = (
        f"“{survey.title}”（{alert.wave.label}）中，{group_name}有 {alert.count} 份答卷的文字意见出现了可能涉及"
        "心理危机的表述。答卷不含任何身份信息，请面向该群体全体人员开展心理关爱，"
        "例如推送心理援助热线、组织心理健康讲座、开放谈心渠道。"
    )
    url = risk_alerts_url()
    transaction.on_commit(lambda: notify(users, title=title, body=body, url=url))


@transaction.atomic
def risk_alert_ack(*, actor, alert: RiskAlert) -> RiskAlert:
    """A counselor confirms they have taken up a risk alert (once)."""
    now = timezone.now()
    if not RiskAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=actor
    ):
        raise Conflict("该风险提示已被确认。")
    alert.acknowledged_at, alert.acknowledged_by = now, actor
    audit.record(actor, "risk_alert_ack", alert, {"wave": alert.wave_id})
    return alert


# --- answers ---------------------------------------------------------------------------------


def own_person(user) -> Person | None:
    """The signed-in user's current roster record."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Person.objects.filter(user=user, left_on__isnull=True).first()


def in_audience(survey: Survey, person: Person | None) -> bool:
    return person is not None and reporting.audience(survey).filter(pk=person.pk).exists()


def has_answered(wave: Wave, person: Person) -> bool:
    """Whether the person has answered the wave (the ledger for anonymous surveys)."""
    if wave.survey.is_anonymous:
        return AnswerLedger.objects.filter(wave=wave, person=person).exists()
    return NamedResponse.objects.filter(wave=wave, person=person).exists()


def _option_index(q: Question, value) -> int:
    if isinstance(value, bool):
        raise ValueError("请选择一个选项。")
    if isinstance(value, str):
        if value in q.options:
            return q.options.index(value)
        if value.strip().isdigit():
            value = int(value.strip())
        else:
            raise ValueError("所选选项不在本题的选项中。")
    if not isinstance(value, int) or not 0 <= value < len(q.options):
        raise ValueError("所选选项不在本题的选项中。")
    return value


def _int_in(value, low: int, high: int, message: str) -> int:
    if isinstance(value, bool):
        raise ValueError(message)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not low <= value <= high:
        raise ValueError(message)
    return value


def clean_value(q: Question, value):
    """One answer in its stored form (ValueError with a Chinese reason when it does not fit)."""
    if q.kind == QuestionKind.LIKERT:
        if isinstance(value, str) and value in LIKERT_LABELS:
            return LIKERT_LABELS.index(value) + 1
        return _int_in(value, 1, 5, "请在 1（非常不同意）到 5（非常同意）之间选择。")
    if q.kind == QuestionKind.RATING:
        return _int_in(value, 0, RATING_MAX, f"请打 0 到 {RATING_MAX} 分。")
    if q.kind == QuestionKind.SINGLE:
        return _option_index(q, value)
    if q.kind == QuestionKind.MULTI:
        values = value if isinstance(value, list | tuple) else [value]
        return sorted({_option_index(q, v) for v in values})
    if not isinstance(value, str):
        raise ValueError("请填写文字。")
    value = value.strip()
    if len(value) > TEXT_ANSWER_MAX:
        raise ValueError(f"不得超过 {TEXT_ANSWER_MAX} 个字（现有 {len(value)} 个字）。")
    return value


def _blank(value) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, list | tuple) and not value)
    )


def clean_answers(questions: list[Question], answers: dict) -> dict:
    """Check answers against the questions (in asking order): required ones given, each value of
    the right form; returns ``{str(question_id): value}``. Errors are keyed ``q<id>``."""
    if not isinstance(answers, dict):
        raise ValidationError({"answers": "答卷格式不正确。"})
    known = {str(q.pk) for q in questions}
    raw = {str(k): v for k, v in answers.items()}
    errors: dict[str, str] = {}
    unknown = sorted(set(raw) - known)
    if unknown:
        errors["answers"] = f"答卷中含有本问卷以外的题目（编号 {'、'.join(unknown[:5])}）。"
    out: dict = {}
    for number, q in enumerate(questions, 1):
        value = raw.get(str(q.pk))
        if _blank(value):
            if q.required:
                errors[f"q{q.pk}"] = f"请回答第 {number} 题。"
            continue
        try:
            out[str(q.pk)] = clean_value(q, value)
        except ValueError as exc:
            errors[f"q{q.pk}"] = f"第 {number} 题：{exc}"
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def response_submit(*, actor, wave: Wave, answers: dict) -> None:
    """The actor answers an open wave of a survey asking them, once (see the module docstring)."""
    person = own_person(actor)
    if person is None:
        # An account without a roster record is asked by no survey.
        raise Http404(MSG_NOT_AUDIENCE)
    locked = Wave.objects.select_for_update().select_related("survey").filter(pk=wave.pk).first()
    if locked is None:
        raise Http404(MSG_NOT_AUDIENCE)
    survey = locked.survey
    if not in_audience(survey, person):
        raise Http404(MSG_NOT_AUDIENCE)
    if not is_open(locked):
        raise Conflict(MSG_NO_WAVE)
    if has_answered(locked, person):
        raise Conflict(MSG_ANSWERED)
    cleaned = clean_answers(ordered_questions(survey), answers)
    group = reporting.leaf_groups(survey, [person]).get(person.pk)
    if group is None:
        raise Http404(MSG_NOT_AUDIENCE)
    if survey.is_anonymous:
        # No audit row, no log line, no notification: the ledger and the tally are all that is kept.
        try:
            with transaction.atomic():
                AnswerLedger.objects.create(wave=locked, person=person)
        except IntegrityError:
            raise Conflict(MSG_ANSWERED) from None
        item = {"key": str(uuid.uuid4()), "group": group, "answers": cleaned}
        anon_store.pool_add(KIND, str(locked.pk), item, writer=_writer(locked.pk))
        anon_store.tally(KIND, str(locked.pk), group)
        return None
    try:
        with transaction.atomic():
            response = NamedResponse.objects.create(wave=locked, person=person, group=group, answers=cleaned)
    except IntegrityError:
        raise Conflict(MSG_ANSWERED) from None
    audit.record(actor, "survey_response", response, {"survey": survey.pk, "wave": locked.pk})
    return None


# --- reads shared by views, the API and jobs ---------------------------------------------------


def answered_count(wave: Wave) -> int:
    """Answer sheets received in a wave (the tallies for anonymous surveys)."""
    if wave.survey.is_anonymous:
        return sum(anon_store.tallies(KIND, str(wave.pk)).values())
    return NamedResponse.objects.filter(wave=wave).count()


def expected_count(wave: Wave) -> int:
    return sum((wave.audience_counts or {}).values())


def current_wave(survey: Survey) -> Wave | None:
    """The survey's running wave, else its planned one."""
    waves = [w for w in survey.waves.all() if w.state in (WaveState.OPEN, WaveState.PLANNED)]
    return sorted(waves, key=lambda w: (w.state != WaveState.OPEN, w.number))[0] if waves else None


def holder_paths(person: Person) -> list[str]:
    """Paths of the orgs a non-member counts in (their unit's 机关党委 / 党总支 / 党支部)."""
    if person.org_id:
        return []
    return list(
        Org.objects.filter(units=person.unit_id, depth=1)
        .exclude(kind=Org.Kind.LEADING_GROUP)
        .values_list("path", flat=True)
    )


def asks(survey: Survey, person: Person, person_org_path: str | None, holders: list[str]) -> bool:
    """``in_audience`` without queries, from prefetched audience orgs and units (for lists)."""
    if person.left_on is not None:
        return False
    roots = [o.path for o in survey.audience_orgs.all()]
    units = {u.pk for u in survey.audience_units.all()}
    if not roots and not units:
        roots = [survey.owner_org.path]
    if person.unit_id in units:
        return True
    if person_org_path:
        return any(person_org_path.startswith(r) for r in roots)
    return any(h.startswith(r) for h in holders for r in roots)


def my_open_waves(user) -> list[dict]:
    """Open waves of surveys asking the user, each with whether they have answered it (a fixed
    number of queries whatever the number of surveys)."""
    person = (
        Person.objects.select_related("org").filter(user=user, left_on__isnull=True).first()
        if getattr(user, "is_authenticated", False)
        else None
    )
    if person is None:
        return []
    today = timezone.localdate()
    waves = list(
        Wave.objects.filter(
            state=WaveState.OPEN,
            opens_on__lte=today,
            closes_on__gte=today,
            survey__state=SurveyState.PUBLISHED,
        )
        .select_related("survey__owner_org")
        .prefetch_related("survey__audience_orgs", "survey__audience_units")
        .order_by("closes_on", "pk")
    )
    holders = holder_paths(person)
    org_path = person.org.path if person.org_id else None
    waves = [w for w in waves if asks(w.survey, person, org_path, holders)]
    ids = [w.pk for w in waves]
    done = set(AnswerLedger.objects.filter(wave_id__in=ids, person=person).values_list("wave_id", flat=True))
    done |= set(
        NamedResponse.objects.filter(wave_id__in=ids, person=person).values_list("wave_id", flat=True)
    )
    return [{"wave": w, "survey": w.survey, "answered": w.pk in done} for w in waves]


def answered_counts(waves: list[Wave]) -> dict[int, int]:
    """Answer sheets received per wave, for many waves in two queries."""
    from django.db.models import Count, Sum

    from sizheng.core.models import AnonymousTally

    anonymous = [w for w in waves if w.survey.is_anonymous]
    named = [w.pk for w in waves if not w.survey.is_anonymous]
    out = {w.pk: 0 for w in waves}
    if anonymous:
        rows = (
            AnonymousTally.objects.filter(kind=KIND, wave__in=[str(w.pk) for w in anonymous])
            .values("wave")
            .annotate(n=Sum("count"))
        )
        out.update({int(r["wave"]): r["n"] or 0 for r in rows})
    if named:
        rows = NamedResponse.objects.filter(wave_id__in=named).values("wave_id").annotate(n=Count("pk"))
        out.update({r["wave_id"]: r["n"] for r in rows})
    return out


def _group_places(group_ids: set[str]) -> dict[str, tuple[str, str]]:
    """Reporting group id → (name, path of the org whose counselors look after it), batched."""
    by_kind: dict[str, set[int]] = {"org": set(), "unit": set(), "office": set()}
    for g in group_ids:
        kind, _, raw = g.partition(":")
        if kind in by_kind and raw.isdigit():
            by_kind[kind].add(int(raw))
    out: dict[str, tuple[str, str]] = {}
    for pk, name, path in Org.objects.filter(pk__in=by_kind["org"]).values_list("pk", "name", "path"):
        out[f"org:{pk}"] = (name, path)
    offices = {
        pk: (name, unit_id)
        for pk, name, unit_id in Office.objects.filter(pk__in=by_kind["office"]).values_list(
            "pk", "name", "unit_id"
        )
    }
    unit_ids = by_kind["unit"] | {u for _, u in offices.values()}
    units = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "name"))
    holders: dict[int, str] = dict(
        Org.objects.filter(units__in=unit_ids, depth=1)
        .exclude(kind=Org.Kind.LEADING_GROUP)
        .order_by("-path")
        .values_list("units", "path")
    )
    for pk in by_kind["unit"]:
        out[f"unit:{pk}"] = (units.get(pk, ""), holders.get(pk, ""))
    for pk, (name, unit_id) in offices.items():
        out[f"office:{pk}"] = (f"{units.get(unit_id, '')} · {name}", holders.get(unit_id, ""))
    return out


def risk_alerts_for(user, limit: int = 500) -> list[RiskAlert]:
    """Risk alerts of the reporting groups whose orgs the user looks after as a counselor, newest
    first, each with ``group_name`` (a fixed number of queries)."""
    from sizheng.core.models import Role
    from sizheng.org.access import scope_of

    scope = scope_of(user)
    if not (scope.has_everything(Role.COUNSELOR) or scope.paths(Role.COUNSELOR)):
        return []
    alerts = list(
        RiskAlert.objects.select_related("wave__survey", "acknowledged_by").order_by("-created_at", "-pk")[
            :limit
        ]
    )
    places = _group_places({a.group for a in alerts})
    out = []
    for a in alerts:
        name, path = places.get(a.group, ("", ""))
        if scope.covers(Role.COUNSELOR, path):
            a.group_name = name or a.group
            out.append(a)
    return out
