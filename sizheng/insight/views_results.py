"""Survey results on screen and in Excel: distributions, the group × dimension heatmap, trends,
participation and comments — only over the survey's fixed reporting groups the viewer may see, only
for closed waves, and with every suppressed group shown as "＊ 人数不足，不予显示" and no value.

``results_urlpatterns`` is appended by ``insight/urls.py`` (namespace "insight").
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from sizheng.core import audit
from sizheng.core.paging import paginate
from sizheng.core.xlsx import xlsx_response
from sizheng.insight import results as R
from sizheng.insight.access import get_survey_or_404, may_manage, may_see_results
from sizheng.insight.export import results_xlsx
from sizheng.insight.models import Survey, SurveyMode, Wave

NOT_FOUND = "未找到该问卷的结果，或您无权查看。"
NO_WAVE = "未找到该轮次的结果：结果只在每轮调查结束后公布。"
NO_GROUP = "未找到该统计组，或您无权查看。"
COMMENTS_SHOWN = 20  # comments listed per question before "展开其余"; a wave can have a thousand


def results_survey_or_404(user, pk: int) -> Survey:
    """A survey whose results the user may see, else 404 (outsiders and audience members alike)."""
    survey = get_survey_or_404(user, pk)
    if not may_see_results(user, survey):
        raise Http404(NOT_FOUND)
    return survey


def pick_wave(by_number: dict, raw: str | None):
    """The closed wave (or its results) asked for by number, or the latest closed one; else 404."""
    if raw in (None, ""):
        return by_number[max(by_number)]
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise Http404(NO_WAVE) from None
    if number not in by_number:
        raise Http404(NO_WAVE)
    return by_number[number]


def heat_css(index: float | None) -> str:
    """A heatmap cell's colour band (0–100 index)."""
    if index is None:
        return ""
    if index >= 80:
        return "bg-green-lt"
    if index >= 70:
        return "bg-lime-lt"
    if index >= 60:
        return "bg-yellow-lt"
    if index >= 50:
        return "bg-orange-lt"
    return "bg-red-lt"


@dataclass
class OptionView:
    key: str
    label: str
    count: int
    share: float | None


@dataclass
class QuestionView:
    q: R.QuestionResult
    n: int | None
    options: list[OptionView]
    skipped: int | None
    mean: float | None
    comments: list[str]


def _question_views(wr: R.WaveResults, gid: str, comments: dict[int, list[str]]) -> list[QuestionView]:
    out = []
    for q in wr.questions:
        row = q.rows.get(gid)
        if row is None:
            out.append(QuestionView(q, None, [], None, None, []))
            continue
        n = row[R.TOTAL]
        options = [OptionView(c.key, c.label, row[c.key], R.percent(row[c.key], n)) for c in q.answer_columns]
        out.append(QuestionView(q, n, options, row.get(R.SKIP), q.means.get(gid), comments.get(q.id, [])))
    return out


def scored_dimensions(wr: R.WaveResults) -> list[R.DimensionResult]:
    """Dimensions with a scored question (Likert, 0–10): only they have an index to show."""
    scored = {q.dimension_id for q in wr.questions if q.scored}
    return [d for d in wr.dimensions if d.id in scored]


def _chart_data(
    wr: R.WaveResults, selected: str, figures: dict, trend: list[R.TrendPoint], dims: list[R.DimensionResult]
) -> dict:
    """The JSON data island the charts are drawn from (the same figures the tables show)."""
    return {
        "selected": selected,
        "figures": figures,
        "questions": [
            {
                "key": q.key,
                "kind": q.kind,
                "columns": [c.key for c in q.answer_columns],
                "labels": [c.label for c in q.answer_columns],
            }
            for q in wr.questions
        ],
        "trend": {
            "waves": [p.label for p in trend],
            "series": [{"name": d.name, "data": [p.index.get(d.id) for p in trend]} for d in dims],
        },
    }


def _pending_wave(survey: Survey, request: HttpRequest, closed: dict) -> Wave | None:
    """The wave asked for when it exists but is still open (or planned): its results come at close."""
    raw = request.GET.get("wave")
    if not raw or not raw.isdigit() or int(raw) in closed:
        return None
    return survey.waves.filter(number=int(raw)).first()


@login_required
@require_GET
def results(request: HttpRequest, pk: int) -> HttpResponse:
    """One survey's results for a closed wave and one of the viewer's reporting groups."""
    survey = results_survey_or_404(request.user, pk)
    all_results = R.survey_results(survey)
    base = {
        "survey": survey,
        "suppressed_text": R.SUPPRESSED_TEXT,
        "pending": _pending_wave(survey, request, all_results),
    }
    if not all_results:
        return render(request, "insight/results.html", {**base, "wr": None})
    wr = pick_wave(all_results, None if base["pending"] else request.GET.get("wave"))
    visible = R.visible_group_ids(request.user, survey, wr.groups)
    tree = [{**g, "indent": "　" * g["depth"]} for g in R.group_tree(wr.groups, visible)]
    base |= {"wr": wr, "waves": sorted(all_results.values(), key=lambda r: -r.wave.number), "tree": tree}
    if not visible:
        return render(request, "insight/results.html", {**base, "selected": None})
    raw_group = request.GET.get("group") or visible[0]
    if raw_group not in visible:
        raise Http404(NO_GROUP)
    selected = wr.group(raw_group)
    figures = R.served_figures(wr, visible, detail=[selected.id])
    trend = R.trend_of(all_results.values(), selected.id)
    comments = R.comments_by_question(wr.wave).get(selected.id, {}) if selected.n is not None else {}
    dims = scored_dimensions(wr)
    heat = []
    for item in tree:
        row = wr.group(item["id"])
        cells = [(d.index.get(row.id), heat_css(d.index.get(row.id))) for d in dims]
        heat.append({"row": row, "cells": cells, "indent": item["indent"]})
    named = survey.mode == SurveyMode.NAMED and may_manage(request.user, survey)
    missing = paginate(request, R.non_respondents(wr.wave, request.user)) if named else None
    context = {
        **base,
        "selected": selected,
        "heat": heat,
        "questions": _question_views(wr, selected.id, comments),
        "trend": trend,
        "trend_shown": sum(1 for p in trend if p.n is not None),
        "trend_rows": [{"point": p, "cells": [p.index.get(d.id) for d in dims]} for p in trend],
        "dims": dims,
        "figures": figures,
        "chart_data": _chart_data(wr, selected.id, figures, trend, dims),
        "has_text": any(q.kind == "text" for q in wr.questions),
        "comments_shown": COMMENTS_SHOWN,
        "comments_slice": f":{COMMENTS_SHOWN}",
        "comments_rest": f"{COMMENTS_SHOWN}:",
        "comments_minus": -COMMENTS_SHOWN,
        "named": named,
        "missing": missing,
    }
    return render(request, "insight/results.html", context)


@login_required
@require_GET
def results_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The results of a closed wave as Excel, over the viewer's groups with the same suppression (audited)."""
    survey = results_survey_or_404(request.user, pk)
    waves = {w.number: w for w in R.closed_waves(survey)}
    if not waves:
        raise Http404(NO_WAVE)
    wr = R.wave_results(pick_wave(waves, request.GET.get("wave")))
    visible = R.visible_group_ids(request.user, survey, wr.groups)
    data = results_xlsx(wr, visible, exported_by=str(request.user))
    audit.record(
        request.user,
        "survey_results_export",
        survey,
        {"wave": wr.wave.number, "groups": len(visible)},
        request=request,
    )
    return xlsx_response(data, f"{survey.title}{wr.wave.label}结果{timezone.localdate():%Y%m%d}")


@login_required
@require_GET
def wave_results(request: HttpRequest, pk: int) -> HttpResponse:
    """A wave's results: the survey's results page for that wave (404 outside scope)."""
    wave = get_object_or_404(Wave.objects.filter(survey__in=Survey.objects.visible_to(request.user)), pk=pk)
    results_survey_or_404(request.user, wave.survey_id)
    url = reverse("insight:survey_results", args=[wave.survey_id])
    return redirect(f"{url}?{urlencode({'wave': wave.number})}")


results_urlpatterns = [
    path("surveys/<int:pk>/results/", results, name="survey_results"),
    path("surveys/<int:pk>/results.xlsx", results_export, name="survey_results_xlsx"),
    path("waves/<int:pk>/results/", wave_results, name="wave_results"),
]
