"""Screens of the results area: a round's results (summary, grade distribution, the ranked table and
the sensitivity chart, the recorded methods), one unit's result page, and their downloads (the
Excel ledger, the 通报 and the per-unit feedback report).

Access (``assess.access``): results are shown where ``sees_results`` — the round's managers once
computed, everyone who sees the round once published. Before that a manager gets a page saying
what to do next, everyone else 404; the ranked table lists the targets the user may see
(``visible_targets``). The 通报 names every unit, so only the round's managers download it (403
for others who see the round). Downloads are audited.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from sizheng.assess import access, documents, results
from sizheng.assess.models import Assessment, RoundState, Target
from sizheng.core import audit
from sizheng.core.docx import docx_response
from sizheng.core.paging import paginate
from sizheng.core.xlsx import xlsx_response
from sizheng.org.access import require

NOT_MANAGER_BULLETIN = "只有本轮考核的组织单位可以下载结果通报。"


def _round_for_results(request: HttpRequest, pk: int) -> Assessment:
    """The round when the user may see its results (404 otherwise)."""
    assessment = access.get_round_or_404(request.user, pk)
    if not access.sees_results(request.user, assessment):
        raise Http404
    return assessment


def _target_for_results(request: HttpRequest, pk: int) -> Target:
    target = access.get_target_or_404(request.user, pk)
    if not access.sees_results(request.user, target.assessment):
        raise Http404
    return target


def _filtered(request: HttpRequest, assessment: Assessment):
    """The targets the user may see, filtered by the search box (org name) and the grade."""
    qs = access.visible_targets(request.user, assessment)
    q = request.GET.get("q", "").strip()[:50]
    grade = request.GET.get("grade", "").strip()[:8]
    if q:
        qs = qs.filter(org__name__icontains=q)
    if grade:
        qs = qs.filter(grade=grade)
    return results.ranked(qs), {"q": q, "grade": grade}


def _sensitivity_data(targets) -> list[dict]:
    return [
        {
            "name": t.org.name,
            "rank": t.rank,
            "min": t.rank_min,
            "max": t.rank_max,
            "p": round(t.grade_change_probability * 100, 1)
            if t.grade_change_probability is not None
            else None,
        }
        for t in targets
        if t.rank is not None and t.rank_min is not None and t.rank_max is not None
    ]


@login_required
@require_GET
def results_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A round's results: cards, grade distribution, the ranked table, sensitivity, methods."""
    user = request.user
    assessment = access.get_round_or_404(user, pk)
    manages = access.manages_round(user, assessment)
    if not access.sees_results(user, assessment):
        if not manages:
            raise Http404
        return render(request, "assess/results/not_ready.html", {"assessment": assessment})
    summary = results.summary(assessment)
    qs, filters = _filtered(request, assessment)
    page = paginate(request, qs)
    rows = list(page.object_list)
    chart = {
        "grades": [d["grade"] for d in summary["distribution"]],
        "counts": [d["count"] for d in summary["distribution"]],
        "units": _sensitivity_data(rows),
        "total": summary["count"],
    }
    ctx = {
        "assessment": assessment,
        "system": assessment.system,
        "summary": summary,
        "page": page,
        "rows": rows,
        "filters": filters,
        "chart_data": chart,
        "record_rows": results.record_rows(assessment),
        "weights": results.record_weights(assessment),
        "manages": manages,
        "published": assessment.state == RoundState.PUBLISHED,
    }
    return render(request, "assess/results/results.html", ctx)


@login_required
@require_GET
def results_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    """The results ledger (Excel) of the targets shown on the page, with the same filters; audited."""
    assessment = _round_for_results(request, pk)
    qs, filters = _filtered(request, assessment)
    targets = list(qs)
    data = results.ledger_xlsx(assessment, targets, exported_by=str(request.user))
    audit.record(
        request.user,
        "assess_results_export",
        assessment,
        {"rows": len(targets), "query": request.GET.urlencode()},
        request=request,
    )
    return xlsx_response(data, f"{assessment.title}结果台账{timezone.localdate():%Y%m%d}")


@login_required
@require_GET
def bulletin_docx(request: HttpRequest, pk: int) -> HttpResponse:
    """The round's 通报 (Word, 公文 layout); the round's managers only; audited."""
    assessment = _round_for_results(request, pk)
    require(access.manages_round(request.user, assessment), NOT_MANAGER_BULLETIN)
    data = documents.bulletin_docx(assessment)
    audit.record(
        request.user, "assess_bulletin_download", assessment, {"state": assessment.state}, request=request
    )
    suffix = "" if assessment.state == RoundState.PUBLISHED else "（未发布）"
    return docx_response(data, f"{assessment.title}结果通报{suffix}")


@login_required
@require_GET
def result_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One unit's result: total, grade, rank, the indicators against the average, rectification."""
    target = _target_for_results(request, pk)
    detail = results.target_detail(target)
    ctx = {
        "target": target,
        "assessment": target.assessment,
        "d": detail,
        "published": target.assessment.state == RoundState.PUBLISHED,
        "manages": access.manages_round(request.user, target.assessment),
    }
    return render(request, "assess/results/result.html", ctx)


@login_required
@require_GET
def feedback_docx(request: HttpRequest, pk: int) -> HttpResponse:
    """The unit's feedback report (Word, 公文 layout); audited."""
    target = _target_for_results(request, pk)
    data = documents.feedback_docx(target)
    audit.record(
        request.user, "assess_feedback_download", target, {"round": target.assessment_id}, request=request
    )
    suffix = "" if target.assessment.state == RoundState.PUBLISHED else "（未发布）"
    return docx_response(data, f"{target.org.name}{target.assessment.title}结果反馈{suffix}")


urlpatterns = [
    path("rounds/<int:pk>/results/", results_page, name="results"),
    path("rounds/<int:pk>/results.xlsx", results_xlsx, name="results_xlsx"),
    path("rounds/<int:pk>/bulletin.docx", bulletin_docx, name="bulletin_docx"),
    path("targets/<int:pk>/result/", result_page, name="result"),
    path("targets/<int:pk>/feedback.docx", feedback_docx, name="feedback_docx"),
]
