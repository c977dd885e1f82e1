"""Survey screens (问卷调查): the list and its Excel ledger, creating and editing a survey, the
builder (dimensions and questions of a draft), publishing, waves, the mobile answer page,
"我的问卷" and the counselors' risk alerts.

Each view checks access (404 outside scope or audience, 403 for a visible survey the user may not
manage), validates a form, calls one service and renders; a failed form re-renders with 422, a
stale version or a state that does not allow the change with 409. Destructive actions (deleting a
draft survey, dimension or question; closing a wave or a survey) ask for confirmation on a page of
their own first, so they work without JavaScript.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.core import audit, formflow
from sizheng.core.models import Role
from sizheng.core.paging import paginate
from sizheng.core.xlsx import write_ledger, xlsx_response
from sizheng.insight import access, forms, services
from sizheng.insight.models import (
    Dimension,
    Question,
    Survey,
    SurveyState,
    Wave,
    WaveState,
)
from sizheng.org.access import require, scope_of

READ_ONLY = "您可以查看该问卷，但没有管理它的权限。只有问卷所属党组织的书记、党务干部或机关工委可以修改。"
NOT_CREATOR = "只有党组织书记、党务干部和机关工委可以发起问卷调查。"
LEDGER_LIMIT = 5000
STATE_BADGES = {
    SurveyState.DRAFT: "bg-secondary-lt",
    SurveyState.PUBLISHED: "bg-green-lt",
    SurveyState.CLOSED: "bg-blue-lt",
}
WAVE_BADGES = {
    WaveState.PLANNED: "bg-secondary-lt",
    WaveState.OPEN: "bg-green-lt",
    WaveState.CLOSED: "bg-blue-lt",
}


def optional_url(name: str, *args) -> str:
    """A URL of a screen another part of the app may not have yet ("" when it does not resolve)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


# --- access ----------------------------------------------------------------------------------


def _managed(request: HttpRequest, pk: int) -> Survey:
    """A survey the user manages (404 outside scope, 403 read-only)."""
    survey = access.get_survey_or_404(request.user, pk)
    require(access.may_manage(request.user, survey), READ_ONLY)
    return survey


def _dimension(request: HttpRequest, pk: int) -> Dimension:
    dimension = (
        Dimension.objects.select_related("survey__owner_org")
        .filter(pk=pk, survey__in=Survey.objects.visible_to(request.user).values("pk"))
        .first()
    )
    if dimension is None:
        raise Http404("未找到该维度，或您无权查看。")
    require(access.may_manage(request.user, dimension.survey), READ_ONLY)
    return dimension


def _question(request: HttpRequest, pk: int) -> Question:
    question = (
        Question.objects.select_related("survey__owner_org", "dimension")
        .filter(pk=pk, survey__in=Survey.objects.visible_to(request.user).values("pk"))
        .first()
    )
    if question is None:
        raise Http404("未找到该题目，或您无权查看。")
    require(access.may_manage(request.user, question.survey), READ_ONLY)
    return question


def _wave(request: HttpRequest, pk: int) -> Wave:
    wave = (
        Wave.objects.select_related("survey__owner_org")
        .filter(pk=pk, survey__in=Survey.objects.visible_to(request.user).values("pk"))
        .first()
    )
    if wave is None:
        raise Http404("未找到该调查轮次，或您无权查看。")
    require(access.may_manage(request.user, wave.survey), READ_ONLY)
    return wave


# --- the list and the ledger -----------------------------------------------------------------


def _filtered(request: HttpRequest):
    user = request.user
    form = forms.SurveyFilterForm(request.GET or None, user=user)
    data = form.cleaned_data if form.is_valid() else {}
    waves = Wave.objects.filter(survey=OuterRef("pk"))
    qs = (
        Survey.objects.visible_to(user)
        .select_related("owner_org")
        .annotate(
            waves_n=Subquery(waves.values("survey").annotate(n=Count("pk")).values("n")[:1]),
            current_label=Subquery(
                waves.filter(state__in=[WaveState.OPEN, WaveState.PLANNED])
                .order_by("number")
                .values("label")[:1]
            ),
        )
    )
    if data.get("q"):
        qs = qs.filter(title__icontains=data["q"].strip())
    if data.get("state"):
        qs = qs.filter(state=data["state"])
    if data.get("template"):
        qs = qs.filter(template=data["template"])
    if data.get("org"):
        qs = qs.filter(owner_org__path__startswith=data["org"].path)
    return form, qs.order_by("-created_at", "-pk")


@login_required
@require_GET
def surveys(request: HttpRequest) -> HttpResponse:
    """问卷调查: the surveys the user manages or is asked by, with filters and pages."""
    form, qs = _filtered(request)
    page = paginate(request, qs)
    for s in page.object_list:
        s.badge = STATE_BADGES.get(s.state, "")
    ctx = {"form": form, "page": page, "can_create": access.may_create(request.user),
           "export_query": request.GET.urlencode()}  # fmt: skip
    return render(request, "insight/survey_list.html", ctx)


@login_required
@require_GET
def surveys_xlsx(request: HttpRequest) -> HttpResponse:
    """问卷调查台账 (Excel) of the filtered list; the download is audited."""
    _form, qs = _filtered(request)
    rows = list(qs[:LEDGER_LIMIT])
    data = write_ledger(
        title="问卷调查台账",
        headers=[
            "问卷名称",
            "模板",
            "作答方式",
            "统计分组",
            "组织单位",
            "频次",
            "状态",
            "轮次数",
            "当前轮次",
            "创建日期",
        ],
        rows=(
            [
                s.title,
                s.get_template_display(),
                s.get_mode_display(),
                s.get_hierarchy_display(),
                s.owner_org.name,
                s.get_schedule_display(),
                s.get_state_display(),
                s.waves_n or 0,
                s.current_label or "",
                timezone.localtime(s.created_at).date(),
            ]
            for s in rows
        ),  # fmt: skip
        note=f"导出时间：{timezone.localtime():%Y年%m月%d日 %H:%M}；共 {len(rows)} 条。",
    )
    audit.record(
        request.user, "surveys_ledger_export", None, {"rows": len(rows), "query": request.GET.urlencode()}
    )
    return xlsx_response(data, f"问卷调查台账{timezone.localdate():%Y%m%d}")


# --- a survey --------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, survey: Survey, **extra) -> dict:
    user = request.user
    manage = access.may_manage(user, survey)
    # Results and analysis links only for those who may open them (staff in the audience get 404 there).
    see_results = access.may_see_results(user, survey)
    waves = list(survey.waves.order_by("-number"))
    for w in waves:
        w.survey = survey
    counts = services.answered_counts(waves) if manage else {}
    for w in waves:
        w.badge = WAVE_BADGES.get(w.state, "")
        w.answered = counts.get(w.pk, 0)
        w.expected = services.expected_count(w)
        closed = w.state == WaveState.CLOSED
        w.results_url = optional_url("insight:wave_results", w.pk) if closed and see_results else ""
        w.analysis_url = optional_url("insight:wave_analysis", w.pk) if closed and see_results else ""
    person = services.own_person(user)
    current = next((w for w in waves if w.state == WaveState.OPEN), None)
    can_answer = bool(current) and services.is_open(current) and services.in_audience(survey, person)
    answered = can_answer and services.has_answered(current, person)
    ctx = {
        "survey": survey,
        "badge": STATE_BADGES.get(survey.state, ""),
        "manage": manage,
        "sections": services.sections(survey),
        "waves": waves,
        "current": current,
        "running": next((w for w in waves if w.state in (WaveState.OPEN, WaveState.PLANNED)), None),
        "can_answer": can_answer,
        "answered": answered,
        "publish_form": forms.PublishForm(initial={"version": survey.version}),
        "audience_orgs": list(survey.audience_orgs.order_by("path")),
        "audience_units": list(survey.audience_units.order_by("order", "pk")),
        "results_url": optional_url("insight:survey_results", survey.pk) if see_results else "",
        "k": settings.ANONYMITY_MIN_GROUP,
    }
    ctx.update(extra)
    return ctx


def _render_detail(request: HttpRequest, survey: Survey, status: int = 200, message: str = "", **extra):
    ctx = _detail_context(request, survey, message=message, **extra)
    return render(request, "insight/survey_detail.html", ctx, status=status)


@login_required
@require_GET
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A survey: who it asks, its questions, its waves with participation counts, its actions."""
    return _render_detail(request, access.get_survey_or_404(request.user, pk))


@login_required
@require_http_methods(["GET", "POST"])
def survey_create(request: HttpRequest) -> HttpResponse:
    """Create a survey from a template or blank; the mode and the hierarchy are chosen here, once."""
    user = request.user
    require(access.may_create(user), NOT_CREATOR)
    scope = scope_of(user)
    choices = forms.audience_org_choices(user)
    default = choices.filter(pk=scope.own_org_id).first() if scope.own_org_id else None
    default = default or choices.first()
    form = forms.SurveyCreateForm(request.POST or None, user=user, initial={"owner_org": default})

    def save(_data):
        return services.survey_create(actor=user, **form.service_kwargs())

    survey, status = formflow.run(request, form, save)
    if survey is not None:
        messages.success(request, "问卷已创建。请检查和调整题目，确认无误后发布。")
        return redirect("insight:builder", pk=survey.pk)
    return render(request, "insight/survey_form.html", {"form": form, "creating": True}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def survey_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a survey's title, description, schedule (and audience while a draft)."""
    survey = _managed(request, pk)
    if survey.state == SurveyState.CLOSED:
        return _render_detail(request, survey, 409, "问卷已结束，不能再修改。")
    initial = {
        "version": survey.version, "title": survey.title, "description": survey.description,
        "schedule": survey.schedule, "wave_days": survey.wave_days,
        "audience_orgs": list(survey.audience_orgs.values_list("pk", flat=True)),
        "audience_units": list(survey.audience_units.values_list("pk", flat=True)),
    }  # fmt: skip
    form = forms.SurveyEditForm(request.POST or None, initial=initial, user=request.user, survey=survey)

    def save(data):
        return services.survey_update(
            actor=request.user, survey=survey, version=data["version"], **form.service_kwargs()
        )

    saved, status = formflow.run(request, form, save)
    if saved is not None:
        messages.success(request, "问卷已保存。")
        return redirect("insight:survey_detail", pk=survey.pk)
    return render(request, "insight/survey_form.html", {"form": form, "survey": survey, "creating": False},
                  status=status)  # fmt: skip


def _confirm(request, *, title: str, message: str, action: str, back: str, button: str, status: int = 200,
             form=None, danger: bool = True) -> HttpResponse:  # fmt: skip
    ctx = {"title": title, "message": message, "action": action, "back": back, "button": button,
           "form": form, "danger": danger}  # fmt: skip
    return render(request, "insight/survey_confirm.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def survey_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a draft survey, after a confirmation page."""
    survey = _managed(request, pk)
    if survey.state != SurveyState.DRAFT:
        return _render_detail(request, survey, 409, "问卷已发布，不能删除；如不再需要，可以结束问卷。")
    if request.method == "POST":
        services.survey_delete(actor=request.user, survey=survey)
        messages.success(request, f"问卷“{survey.title}”已删除。")
        return redirect("insight:surveys")
    return _confirm(
        request, title="删除问卷", button="确认删除",
        message=f"确定要删除草稿问卷“{survey.title}”吗？它的维度和题目会一并删除，删除后不能恢复。",
        action=reverse("insight:survey_delete", args=[survey.pk]),
        back=reverse("insight:survey_detail", args=[survey.pk]),
    )  # fmt: skip


@login_required
@require_POST
def survey_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish a draft: questions are frozen and the first wave starts (today or on a set day)."""
    survey = _managed(request, pk)
    form = forms.PublishForm(request.POST)

    def save(data):
        return services.survey_publish(
            actor=request.user, survey=survey, version=data["version"], opens_on=data.get("opens_on")
        )

    done, status = formflow.run(request, form, save)
    if done is not None:
        messages.success(request, "问卷已发布。调查开始后，调查对象会收到作答通知。")
        return redirect("insight:survey_detail", pk=survey.pk)
    errors = [str(e) for errs in form.errors.values() for e in errs]
    return _render_detail(request, survey, status, "；".join(errors), publish_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def survey_close(request: HttpRequest, pk: int) -> HttpResponse:
    """End a published survey (its running wave closes), after a confirmation page."""
    survey = _managed(request, pk)
    if survey.state != SurveyState.PUBLISHED:
        return _render_detail(request, survey, 409, "只有已发布且未结束的问卷可以结束。")
    form = forms.VersionForm(request.POST or None, initial={"version": survey.version})

    def save(data):
        return services.survey_close(actor=request.user, survey=survey, version=data["version"])

    done, status = formflow.run(request, form, save)
    if done is not None:
        messages.success(request, "问卷已结束，不会再开始新的一轮调查。")
        return redirect("insight:survey_detail", pk=survey.pk)
    return _confirm(
        request, title="结束问卷", button="确认结束", form=form, status=status,
        message=f"确定要结束问卷“{survey.title}”吗？正在进行的一轮调查会立即截止，之后也不会再开始新的一轮。",
        action=reverse("insight:survey_close", args=[survey.pk]),
        back=reverse("insight:survey_detail", args=[survey.pk]),
    )  # fmt: skip


# --- the builder -----------------------------------------------------------------------------


@login_required
@require_GET
def builder(request: HttpRequest, pk: int) -> HttpResponse:
    """The questionnaire builder: dimensions and questions, edited while the survey is a draft."""
    survey = _managed(request, pk)
    ctx = {
        "survey": survey,
        "draft": survey.state == SurveyState.DRAFT,
        "sections": services.sections(survey),
        "dimension_form": forms.DimensionForm(),
        "publish_form": forms.PublishForm(initial={"version": survey.version}),
    }
    return render(request, "insight/builder.html", ctx)


def _not_draft(request: HttpRequest, survey: Survey) -> HttpResponse:
    return _render_detail(request, survey, 409, services.MSG_NOT_DRAFT)


def _back_to_builder(survey: Survey, anchor: str = "") -> HttpResponse:
    return redirect(reverse("insight:builder", args=[survey.pk]) + (f"#{anchor}" if anchor else ""))


@login_required
@require_http_methods(["GET", "POST"])
def dimension_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a dimension to a draft."""
    survey = _managed(request, pk)
    if survey.state != SurveyState.DRAFT:
        return _not_draft(request, survey)
    form = forms.DimensionForm(request.POST or None)

    def save(data):
        return services.dimension_add(actor=request.user, survey=survey, name=data["name"])

    dimension, status = formflow.run(request, form, save)
    if dimension is not None:
        messages.success(request, f"已添加维度“{dimension.name}”。")
        return _back_to_builder(survey, f"d{dimension.pk}")
    return render(request, "insight/builder_dimension.html", {"form": form, "survey": survey}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def dimension_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename a dimension of a draft."""
    dimension = _dimension(request, pk)
    survey = dimension.survey
    if survey.state != SurveyState.DRAFT:
        return _not_draft(request, survey)
    form = forms.DimensionForm(request.POST or None, initial={"name": dimension.name})

    def save(data):
        return services.dimension_update(actor=request.user, dimension=dimension, name=data["name"])

    done, status = formflow.run(request, form, save)
    if done is not None:
        messages.success(request, "维度名称已保存。")
        return _back_to_builder(survey, f"d{dimension.pk}")
    ctx = {"form": form, "survey": survey, "dimension": dimension}
    return render(request, "insight/builder_dimension.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def dimension_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a dimension of a draft (its questions stay, ungrouped), after a confirmation page."""
    dimension = _dimension(request, pk)
    survey = dimension.survey
    if survey.state != SurveyState.DRAFT:
        return _not_draft(request, survey)
    if request.method == "POST":
        services.dimension_remove(actor=request.user, dimension=dimension)
        messages.success(request, f"维度“{dimension.name}”已删除，其中的题目已移到“未归入维度的题目”。")
        return _back_to_builder(survey)
    return _confirm(
        request, title="删除维度", button="确认删除",
        message=f"确定要删除维度“{dimension.name}”吗？其中的题目会保留，移到“未归入维度的题目”。",
        action=reverse("insight:dimension_delete", args=[dimension.pk]),
        back=reverse("insight:builder", args=[survey.pk]),
    )  # fmt: skip


@login_required
@require_POST
def dimension_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a dimension up or down."""
    dimension = _dimension(request, pk)
    survey = dimension.survey
    if survey.state != SurveyState.DRAFT:
        return _not_draft(request, survey)
    form = forms.MoveForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, survey, 422, "请指定移动方向。")
    services.dimension_move(actor=request.user, dimension=dimension, offset=form.offset)
    return _back_to_builder(survey, f"d{dimension.pk}")


def _question_page(request, survey: Survey, form, status: int, question: Question | None = None):
    ctx = {"form": form, "survey": survey, "question": question}
    return render(request, "insight/builder_question.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def question_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a question to a draft (``?dimension=`` preselects its dimension)."""
    survey = _managed(request, pk)
    if survey.state != SurveyState.DRAFT:
        return _not_draft(request, survey)
    dim = request.GET.get("dimension", "")
    initial = {"dimension": int(dim)} if dim.isdigit() else {}
    form = forms.QuestionForm(request.POST or None, survey=survey, initial=initial)

    def save(_data):
        return services.question_add(actor=request.user, survey=survey, **form.service_kwargs())

    question, status = formflow.run(request, form, save)
    if question is not None:
        messages.success(request, "题目已添加。")
        return _back_to_builder(survey, f"q{question.pk}")
    return _question_page(request, survey, form, status)


@login_required
@require_http_methods(["GET", "POST"])
def question_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a draft's question."""
    question = _question(request, pk)
    survey = question.survey
    if survey.state != SurveyState.DRAFT:
        return _not_draft(request, survey)
    form = forms.QuestionForm(
        request.POST or None, survey=survey, initial=forms.QuestionForm.initial_for(question)
    )

    def save(_data):
        return services.question_update(actor=request.user, question=question, **form.service_kwargs())

    done, status = formflow.run(request, form, save)
    if done is not None:
        messages.success(request, "题目已保存。")
        return _back_to_builder(survey, f"q{question.pk}")
    return _question_page(request, survey, form, status, question)


@login_required
@require_http_methods(["GET", "POST"])
def question_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a draft's question, after a confirmation page."""
    question = _question(request, pk)
    survey = question.survey
    if survey.state != SurveyState.DRAFT:
        return _not_draft(request, survey)
    if request.method == "POST":
        services.question_remove(actor=request.user, question=question)
        messages.success(request, "题目已删除。")
        return _back_to_builder(survey)
    return _confirm(
        request, title="删除题目", button="确认删除",
        message=f"确定要删除题目“{question.text}”吗？删除后不能恢复。",
        action=reverse("insight:question_delete", args=[question.pk]),
        back=reverse("insight:builder", args=[survey.pk]),
    )  # fmt: skip


@login_required
@require_POST
def question_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a question up or down within its dimension."""
    question = _question(request, pk)
    survey = question.survey
    if survey.state != SurveyState.DRAFT:
        return _not_draft(request, survey)
    form = forms.MoveForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, survey, 422, "请指定移动方向。")
    services.question_move(actor=request.user, question=question, offset=form.offset)
    return _back_to_builder(survey, f"q{question.pk}")


@login_required
@require_GET
def survey_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The answer sheet as respondents will see it (nothing can be submitted from here)."""
    survey = _managed(request, pk)
    form = forms.AnswerForm(questions=services.ordered_questions(survey))
    return render(request, "insight/answer.html", {"survey": survey, "form": form, "preview": True})


# --- waves -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def wave_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Start the next wave of a published survey, today or on a later day."""
    survey = _managed(request, pk)
    if survey.state != SurveyState.PUBLISHED:
        return _render_detail(request, survey, 409, "只有已发布且未结束的问卷才能开始新一轮调查。")
    form = forms.WaveOpenForm(request.POST or None)

    def save(data):
        return services.wave_open(actor=request.user, survey=survey, opens_on=data["opens_on"])

    wave, status = formflow.run(request, form, save)
    if wave is not None:
        if wave.state == WaveState.OPEN:
            messages.success(request, f"{wave.label}调查已开始，已通知调查对象。")
        else:
            messages.success(request, f"{wave.label}调查将于{wave.opens_on:%Y年%m月%d日}开始。")
        return redirect("insight:survey_detail", pk=survey.pk)
    return render(request, "insight/wave_form.html", {"form": form, "survey": survey}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def wave_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Close a running wave now (or cancel a planned one), after a confirmation page."""
    wave = _wave(request, pk)
    survey = wave.survey
    if wave.state == WaveState.CLOSED:
        return _render_detail(request, survey, 409, "该轮调查已经结束。")
    planned = wave.state == WaveState.PLANNED
    if request.method == "POST":
        if planned:
            services.wave_cancel(actor=request.user, wave=wave)
            messages.success(request, f"尚未开始的{wave.label}调查已取消。")
        else:
            services.wave_close(actor=request.user, wave=wave)
            messages.success(request, f"{wave.label}调查已结束，可以查看统计结果。")
        return redirect("insight:survey_detail", pk=survey.pk)
    message = (
        f"确定要取消尚未开始的{wave.label}调查吗？"
        if planned
        else f"确定要现在结束{wave.label}调查吗？结束后调查对象不能再作答，原定截止日期为{wave.closes_on:%Y年%m月%d日}。"
    )
    return _confirm(
        request, title="取消本轮调查" if planned else "结束本轮调查", message=message,
        button="确认取消" if planned else "确认结束",
        action=reverse("insight:wave_close", args=[wave.pk]),
        back=reverse("insight:survey_detail", args=[survey.pk]),
    )  # fmt: skip


# --- answering -------------------------------------------------------------------------------


def _asked(request: HttpRequest, pk: int):
    """A published survey asking the user (404 otherwise: outsiders learn nothing)."""
    survey = Survey.objects.select_related("owner_org").exclude(state=SurveyState.DRAFT).filter(pk=pk).first()
    person = services.own_person(request.user)
    if survey is None or not services.in_audience(survey, person):
        raise Http404(services.MSG_NOT_AUDIENCE)
    return survey, person


def _open_wave(survey: Survey) -> Wave | None:
    wave = survey.waves.filter(state=WaveState.OPEN).order_by("-number").first()
    if wave is not None:
        wave.survey = survey
    return wave if wave is not None and services.is_open(wave) else None


@login_required
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    """The answer sheet: one column, large tap targets, no JavaScript needed; once per wave."""
    survey, person = _asked(request, pk)
    wave = _open_wave(survey)
    conflict = 409 if request.method == "POST" else 200
    if wave is None:
        return render(
            request, "insight/answer_done.html", {"survey": survey, "state": "closed"}, status=conflict
        )
    if services.has_answered(wave, person):
        ctx = {"survey": survey, "wave": wave, "state": "answered"}
        return render(request, "insight/answer_done.html", ctx, status=conflict)
    form = forms.AnswerForm(request.POST or None, questions=services.ordered_questions(survey))

    def save(_data):
        services.response_submit(actor=request.user, wave=wave, answers=form.answers())
        return True

    done, status = formflow.run(request, form, save)
    if done:
        messages.success(request, "答卷已提交，感谢您的参与！")
        return redirect("insight:answer", pk=survey.pk)
    ctx = {"survey": survey, "wave": wave, "form": form, "preview": False}
    return render(request, "insight/answer.html", ctx, status=status)


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """我的问卷: surveys asking me that are open now, answered or not."""
    rows = services.my_open_waves(request.user)
    ctx = {"rows": rows, "has_person": services.own_person(request.user) is not None,
           "todo": sum(1 for r in rows if not r["answered"])}  # fmt: skip
    return render(request, "insight/mine.html", ctx)


def home_card(request: HttpRequest) -> dict | None:
    """工作台 card: surveys waiting for my answer (hidden when there are none)."""
    rows = [r for r in services.my_open_waves(request.user) if not r["answered"]]
    if not rows:
        return None
    return {"rows": rows[:3], "count": len(rows)}


# --- risk alerts (counselors) ------------------------------------------------------------------


def _counselor(request: HttpRequest) -> None:
    scope = scope_of(request.user)
    require(
        scope.has_everything(Role.COUNSELOR) or bool(scope.paths(Role.COUNSELOR)),
        "只有心理咨询员可以查看问卷风险提示。",
    )


@login_required
@require_GET
def risk_alerts(request: HttpRequest) -> HttpResponse:
    """Risk alerts of the groups a counselor looks after: survey, wave, group and count only."""
    _counselor(request)
    alerts = services.risk_alerts_for(request.user)
    return render(request, "insight/wave_risk_alerts.html", {"alerts": alerts})


@login_required
@require_POST
def risk_alert_ack(request: HttpRequest, pk: int) -> HttpResponse:
    """A counselor confirms they have taken up an alert."""
    _counselor(request)
    alert = next((a for a in services.risk_alerts_for(request.user) if a.pk == pk), None)
    if alert is None:
        raise Http404("未找到该风险提示，或它不在您负责的范围内。")
    if alert.acknowledged_at is not None:
        return render(request, "insight/wave_risk_alerts.html",
                      {"alerts": services.risk_alerts_for(request.user), "message": "该风险提示已被确认。"},
                      status=409)  # fmt: skip
    services.risk_alert_ack(actor=request.user, alert=alert)
    messages.success(request, "已确认。请面向该群体开展心理关爱工作。")
    return redirect("insight:risk_alerts")
