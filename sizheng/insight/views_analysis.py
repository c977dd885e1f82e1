"""Screens of 分析研判: a wave's text analysis, the theme lexicon, analysis reports (list, draft,
edit, workflow, Word, charts, recommendations) and "你们提出的 → 我们做了".

``analysis_urlpatterns`` is appended by ``insight/urls.py`` (namespace "insight"). 404 outside
scope, 403 for a visible report the user may not change, 409 for a stale version or a state that
does not allow the step, 422 for bad input, 405 for a wrong method.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.core import audit, formflow
from sizheng.core.apitools import Conflict
from sizheng.core.docx import docx_response
from sizheng.core.paging import paginate
from sizheng.core.rules import Period
from sizheng.core.xlsx import write_ledger, xlsx_response
from sizheng.insight import analysis
from sizheng.insight import forms_analysis as forms
from sizheng.insight import reports as svc
from sizheng.insight.access import may_manage, may_see_results
from sizheng.insight.models import InsightReport, ReportState, Survey, Wave, WaveState
from sizheng.org.access import require, scope_of

READ_ONLY = "您可以查看该报告，但没有修改它的权限。"
STATE_BADGES = {
    ReportState.DRAFT: "bg-secondary-lt",
    ReportState.FINAL: "bg-blue-lt",
    ReportState.SUBMITTED: "bg-orange-lt",
    ReportState.RECEIVED: "bg-green-lt",
}
EXPORT_LIMIT = 5000


# --- a wave's analysis -----------------------------------------------------------------------


def _wave_or_404(user, pk: int) -> Wave:
    wave = get_object_or_404(
        Wave.objects.select_related("survey", "survey__owner_org").filter(
            survey__in=Survey.objects.visible_to(user).values("pk")
        ),
        pk=pk,
    )
    if not may_see_results(user, wave.survey):
        raise Http404("未找到该轮调查的分析结果，或您无权查看。")
    return wave


@login_required
@require_GET
def wave_analysis(request: HttpRequest, pk: int) -> HttpResponse:
    """Themes, negative shares, keywords and emerging themes of a closed wave, per visible group."""
    from sizheng.insight.results import visible_group_ids

    wave = _wave_or_404(request.user, pk)
    survey = wave.survey
    ctx: dict = {"wave": wave, "survey": survey, "k": analysis.k_min()}
    if wave.state != WaveState.CLOSED:
        ctx["pending"] = True
        return render(request, "insight/analysis.html", ctx)
    result = analysis.wave_analysis(wave)
    visible = set(
        visible_group_ids(request.user, survey, [g for g in result.groups if g.id != analysis.VIRTUAL_ROOT])
    )
    if may_manage(request.user, survey):
        visible.add(analysis.VIRTUAL_ROOT)
    groups = [g for g in result.groups if g.id in visible]
    selected_id = request.GET.get("group") or (groups[0].id if groups else None)
    if selected_id and selected_id not in visible:
        raise Http404("未找到该统计组，或您无权查看。")
    selected = result.group(selected_id)
    tags = None
    if may_manage(request.user, survey):
        period = Period.containing("half", wave.closes_on)
        tags = analysis.talk_tags(survey.owner_org, period, actor=request.user)
        tags = {"period": period, "groups": [g for g in tags.groups if g.depth <= 2]}
    subtree = [g for g in result.subtree(selected_id) if g.id in visible][1:] if selected else []
    ctx.update(
        result=result,
        groups=[{"g": g, "indent": "　" * g.depth} for g in groups],
        selected=selected,
        previous=result.previous(selected_id) if selected else None,
        # Indented under the selected group so the hierarchy reads as one (the list is parents first).
        subtree=[{"g": g, "indent": "　" * max(0, g.depth - selected.depth - 1)} for g in subtree],
        # Shares in percent with one decimal, and the change without its sign (the badge says 上升/下降).
        emerging=[
            {"e": e, "before": 100 * e.share_before, "now": 100 * e.share_now, "change": abs(e.points)}
            for e in (selected.emerging if selected and selected.published else ())
        ],
        tags=tags,
        lexicon=analysis.lexicon_active(),
        can_draft=svc.may_write_reports(request.user),
    )
    return render(request, "insight/analysis.html", ctx)


# --- the lexicon -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def lexicon(request: HttpRequest) -> HttpResponse:
    """The theme and sentiment lexicon: managers read it, the committee admin edits it."""
    if not (analysis.may_edit_lexicon(request.user) or svc.may_write_reports(request.user)):
        raise Http404("未找到该页面。")
    editable = analysis.may_edit_lexicon(request.user)
    if request.method == "POST":
        require(editable, "只有机关工委管理员可以修改主题词库。")
    active = analysis.lexicon_active()
    initial = {**forms.lexicon_initial(active.data), "version": active.version}
    form = forms.LexiconForm(request.POST or None, initial=initial)
    if not editable:
        # Read-only viewers see the words in greyed boxes, not editable boxes without a save button.
        for field in form.fields.values():
            field.disabled = True

    def save(data):
        if data["version"] != active.version:
            raise Conflict("主题词库已被他人修改，请刷新页面后重新填写。")
        return analysis.lexicon_update(
            actor=request.user, data=form.to_data(active.data), version=data["version"]
        )

    saved, status = formflow.run(request, form, save)
    if saved is not None:
        messages.success(request, "主题词库已保存，之后的分析将使用新的词库。")
        return redirect("insight:lexicon")
    ctx = {"form": form, "editable": editable, "active": active}
    return render(request, "insight/lexicon.html", ctx, status=status)


# --- reports: list, export, draft ------------------------------------------------------------


def _filtered(request: HttpRequest):
    user = request.user
    qs = svc.visible_reports(user)
    orgs = svc.report_orgs(user)
    form = forms.ReportFilterForm(request.GET or None, orgs=orgs)
    data = form.cleaned_data if form.is_valid() else {}
    if data.get("org"):
        qs = qs.filter(Q(org=data["org"]) | Q(submitted_to=data["org"]))
    for name in ("kind", "state", "period"):
        if data.get(name):
            qs = qs.filter(**{name: data[name]})
    if data.get("q"):
        qs = qs.filter(title__icontains=data["q"])
    return form, qs.select_related("org", "submitted_to").order_by("-created_at", "-pk")


@login_required
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    """分析研判报告: the user's orgs' reports and those submitted to them."""
    form, qs = _filtered(request)
    page = paginate(request, qs)
    for r in page.object_list:
        r.badge = STATE_BADGES.get(r.state, "")
        r.period_label = _period_label(r.period)
        # Reports sent to the viewer's org wait for a receipt: say so in the list (no query: scope is cached).
        r.awaiting_me = r.state == ReportState.SUBMITTED and svc.may_receive(request.user, r)
    ctx = {
        "form": form,
        "page": page,
        "can_draft": svc.may_write_reports(request.user),
        "export_query": request.GET.urlencode(),
    }
    return render(request, "insight/report_list.html", ctx)


@login_required
@require_GET
def report_export(request: HttpRequest) -> HttpResponse:
    """The filtered report ledger as Excel (titles, orgs, states, dates — no section text)."""
    _form, qs = _filtered(request)
    rows = [
        [
            r.org.name,
            r.get_kind_display(),
            _period_label(r.period),
            r.title,
            r.get_state_display(),
            r.submitted_to.name if r.submitted_to else "",
            timezone.localtime(r.submitted_at).date() if r.submitted_at else None,
            timezone.localtime(r.received_at).date() if r.received_at else None,
        ]
        for r in qs[:EXPORT_LIMIT]
    ]
    data = write_ledger(
        title="分析研判报告台账",
        headers=["党组织", "类型", "分析期间", "标题", "状态", "报送至", "报送日期", "签收日期"],
        rows=rows,
        note=f"导出时间：{timezone.localtime():%Y年%m月%d日 %H:%M}；共 {len(rows)} 份。",
    )
    audit.record(
        request.user, "insight_report_export", None, {"rows": len(rows), "query": request.GET.urlencode()}
    )
    return xlsx_response(data, f"分析研判报告台账{timezone.localdate():%Y%m%d}")


def _period_label(key: str) -> str:
    try:
        return Period.parse(key).label
    except ValueError:
        return key


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request: HttpRequest) -> HttpResponse:
    """Draft a report from the data: choose the org, the kind, the period and the waves."""
    user = request.user
    if not svc.may_write_reports(user):
        raise Http404("未找到该页面。")
    orgs = svc.report_orgs(user)
    form = forms.ReportDraftForm(request.POST or None, orgs=orgs, waves=forms.closed_waves_for(user))
    if not request.POST:
        form.initial["period"] = Period.containing("half", timezone.localdate()).key
        own = scope_of(user).own_org_id
        first = orgs.filter(pk=own).first() or orgs.first()
        if first:
            form.initial["org"] = first.pk
        # "起草报告" from a wave's analysis preselects that wave (ignored unless it is one of the choices).
        wave = request.GET.get("wave", "")
        chosen = form.fields["waves"].queryset.filter(pk=int(wave)).first() if wave.isdigit() else None
        if chosen is not None:
            form.initial["waves"] = [chosen.pk]
            form.initial["period"] = Period.containing("half", chosen.closes_on).key

    def save(data):
        return svc.report_draft(
            actor=user, org=data["org"], kind=data["kind"], period=data["period"], waves=list(data["waves"])
        )

    report, status = formflow.run(request, form, save)
    if report is not None:
        messages.success(request, "已根据数据生成报告初稿，请修改完善后定稿。")
        return redirect("insight:report_edit", pk=report.pk)
    return render(request, "insight/report_new.html", {"form": form}, status=status)


# --- one report ------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, report: InsightReport, **extra) -> dict:
    user = request.user
    editable = svc.may_edit(user, report)
    recs = list(report.recommendations.order_by("pk"))
    groups = svc.recommendation_groups(report) if editable or recs else []
    names = dict(groups)
    for r in recs:
        r.group_name = names.get(r.group, "") or names.get("", "")
    rec_form = extra.pop("rec_form", None) or forms.RecommendationForm(groups=groups if editable else [])
    # <input type="date"> only takes ISO dates; the locale's "2026/12/29" left the deadline blank.
    rec_form.fields["due_on"].widget.format = "%Y-%m-%d"
    waves = list(report.waves.select_related("survey").order_by("closes_on", "pk"))
    seen: dict[int, bool] = {}
    for w in waves:
        # The analysis page is for those who may see the survey's results; others get the name only.
        if w.survey_id not in seen:
            seen[w.survey_id] = may_see_results(user, w.survey)
        w.linkable = seen[w.survey_id]
    ctx = {
        "report": report,
        "badge": STATE_BADGES.get(report.state, ""),
        "period_label": _period_label(report.period),
        "sections": [(label, getattr(report, name)) for name, label in svc.SECTIONS],
        "actions": [(a, svc.ACTION_LABELS[a]) for a in svc.available_actions(user, report)],
        "version_form": forms.VersionForm(initial={"version": report.version}),
        "editable": editable,
        "can_edit": editable and report.state == ReportState.DRAFT,
        "can_recommend": editable and report.state != ReportState.DRAFT,
        "rec_form": rec_form,
        "recommendations": recs,
        "waves": waves,
        "charts": _chart_names(report),
    }
    ctx.update(extra)
    return ctx


def _chart_names(report: InsightReport) -> list[tuple[str, str]]:
    from sizheng.insight.documents import chart_names, facts_of

    return chart_names(facts_of(report))


def _render_detail(
    request: HttpRequest, report: InsightReport, status: int = 200, message: str = "", **extra
):
    ctx = _detail_context(request, report, message=message, **extra)
    return render(request, "insight/report_detail.html", ctx, status=status)


@login_required
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A report: its sections, charts, sources, receipt and recommendations."""
    return _render_detail(request, svc.get_report_or_404(request.user, pk))


def _editable(request: HttpRequest, pk: int) -> InsightReport:
    report = svc.get_report_or_404(request.user, pk)
    require(svc.may_edit(request.user, report), READ_ONLY)
    return report


@login_required
@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a draft's title and four sections in the browser (charts shown beside them)."""
    report = _editable(request, pk)
    if report.state != ReportState.DRAFT:
        return _render_detail(request, report, 409, "报告已定稿，不能再修改；如需修改，请先退回起草。")
    initial = {"version": report.version, "title": report.title}
    initial.update({name: getattr(report, name) for name, _ in svc.SECTIONS})
    form = forms.ReportEditForm(request.POST or None, initial=initial)

    def save(data):
        if data["version"] != report.version:
            raise Conflict("该报告已被他人修改，请刷新页面后重新填写。")
        return svc.report_update(
            actor=request.user,
            report=report,
            version=data["version"],
            title=data["title"],
            overall=data["overall"],
            performance=data["performance"],
            causes=data["causes"],
            measures=data["measures"],
        )

    saved, status = formflow.run(request, form, save)
    if saved is not None:
        messages.success(request, "报告已保存。")
        return redirect("insight:report_detail", pk=report.pk)
    ctx = {"form": form, "report": report, "charts": _chart_names(report)}
    return render(request, "insight/report_edit.html", ctx, status=status)


def _step(action: str):
    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        report = svc.get_report_or_404(request.user, pk)
        if action == "receive":
            require(
                svc.may_receive(request.user, report), "只有报告所报送的上级党组织的书记、党务干部可以签收。"
            )
        else:
            require(svc.may_edit(request.user, report), READ_ONLY)
        form = forms.VersionForm(request.POST)

        def save(data):
            return svc.report_transition(
                actor=request.user, report=report, action=action, version=data["version"]
            )

        done, status = formflow.run(request, form, save)
        if done is not None:
            messages.success(request, f"报告已{svc.ACTION_LABELS[action]}。")
            return redirect("insight:report_detail", pk=report.pk)
        errors = [str(e) for errs in form.errors.values() for e in errs] or [
            "提交的内容有误，请刷新页面后重试。"
        ]
        return _render_detail(request, report, status, "；".join(errors))

    view.__name__ = f"report_{action}"
    view.__doc__ = f"{svc.ACTION_LABELS[action]} (POST only)."
    return view


report_finalize = _step("finalize")
report_reopen = _step("reopen")
report_submit = _step("submit")
report_receive = _step("receive")


@login_required
@require_GET
def report_docx(request: HttpRequest, pk: int) -> HttpResponse:
    """The report as a 公文 Word file with its charts."""
    from sizheng.insight.documents import docx_filename
    from sizheng.insight.documents import report_docx as build

    report = svc.get_report_or_404(request.user, pk)
    data = build(report, actor=request.user)
    audit.record(request.user, "insight_report_download", report, {"state": report.state}, request=request)
    return docx_response(data, docx_filename(report))


@login_required
@require_GET
def report_chart(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """One chart of the report as PNG (from the same suppressed aggregates as the draft)."""
    from sizheng.insight.documents import CHARTS, chart_png, facts_of

    report = svc.get_report_or_404(request.user, pk)
    if name not in CHARTS:
        raise Http404("未找到该图表。")
    png = chart_png(facts_of(report), name)
    if png is None:
        raise Http404("该报告没有可以绘制的数据。")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_POST
def recommendation_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Adopt a measure of 对策建议: a recommendation and its duty."""
    report = _editable(request, pk)
    form = forms.RecommendationForm(request.POST, groups=svc.recommendation_groups(report))

    def save(data):
        return svc.recommendation_add(
            actor=request.user,
            report=report,
            concern=data["concern"],
            action=data["action"],
            group=data.get("group") or "",
            due_on=data["due_on"],
        )

    rec, status = formflow.run(request, form, save)
    if rec is not None:
        messages.success(request, "已生成责任事项，可在责任清单中跟踪办理；办结后干部职工将看到落实情况。")
        return redirect("insight:report_detail", pk=report.pk)
    errors = [str(e) for errs in form.errors.values() for e in errs]
    return _render_detail(request, report, status, "；".join(errors), rec_form=form)


# --- 你们提出的 → 我们做了 -----------------------------------------------------------------------


@login_required
@require_GET
def actions(request: HttpRequest) -> HttpResponse:
    """ "你们提出的 → 我们做了": what was done about the concerns of the user's groups."""
    page = paginate(request, svc.my_actions(request.user))
    return render(request, "insight/actions.html", {"page": page})


analysis_urlpatterns = [
    path("waves/<int:pk>/analysis/", wave_analysis, name="wave_analysis"),
    path("lexicon/", lexicon, name="lexicon"),
    path("reports/", report_list, name="report_list"),
    path("reports/export.xlsx", report_export, name="report_export"),
    path("reports/new/", report_new, name="report_new"),
    path("reports/<int:pk>/", report_detail, name="report_detail"),
    path("reports/<int:pk>/edit/", report_edit, name="report_edit"),
    path("reports/<int:pk>/finalize/", report_finalize, name="report_finalize"),
    path("reports/<int:pk>/reopen/", report_reopen, name="report_reopen"),
    path("reports/<int:pk>/submit/", report_submit, name="report_submit"),
    path("reports/<int:pk>/receive/", report_receive, name="report_receive"),
    path("reports/<int:pk>.docx", report_docx, name="report_docx"),
    path("reports/<int:pk>/charts/<str:name>.png", report_chart, name="report_chart"),
    path("reports/<int:pk>/recommendations/", recommendation_add, name="recommendation_add"),
    path("actions/", actions, name="actions"),
]
