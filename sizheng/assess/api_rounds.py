"""Assessment rounds and their results (issue 9 §7): ``GET /assess/rounds``, ``/assess/rounds/{id}``,
``/assess/rounds/{id}/results`` and ``/assess/rounds/{id}/targets/{tid}``.

Scope is the screens' (``assess.access``): a round outside the caller's business answers 404, and
so do results the caller may not see yet (``sees_results``: the managers once computed, everyone who
sees the round once published). The results list the targets the caller may see; the summary (grade
distribution, mean, median) covers the whole round. Figures are T0: totals, grades, ranks, scores.
"""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from datetime import date, datetime

from django.db.models import Count
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from sizheng.assess import access, results
from sizheng.assess.models import Assessment, Target
from sizheng.core.apitools import ErrorOut, Paged

router = Router(tags=["考核轮次与结果"])
_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}


# --- schemas -------------------------------------------------------------------------------------


class _RoundFields(Schema):
    """A round as lists show it."""

    id: int
    title: str
    system_id: int
    system_name: str
    system_year: int
    system_number: int
    owner_org_id: int
    owner_org_name: str
    period_start: date
    period_end: date
    state: str
    state_label: str
    use_topsis: bool
    rectify_below: float
    target_count: int = Field(..., description="参加考核的党组织数")
    computed_at: datetime | None
    published_at: datetime | None
    results_visible: bool = Field(..., description="调用者现在能否查看本轮结果")


class RoundOut(_RoundFields):
    """A round in the list (read from the model)."""

    @staticmethod
    def resolve_system_name(obj: Assessment) -> str:
        return obj.system.name

    @staticmethod
    def resolve_system_year(obj: Assessment) -> int:
        return obj.system.year

    @staticmethod
    def resolve_system_number(obj: Assessment) -> int:
        return obj.system.number

    @staticmethod
    def resolve_owner_org_name(obj: Assessment) -> str:
        return obj.owner_org.name

    @staticmethod
    def resolve_state_label(obj: Assessment) -> str:
        return obj.get_state_display()

    @staticmethod
    def resolve_results_visible(obj: Assessment, context) -> bool:
        return access.sees_results(context["request"].auth, obj)


class RoundDetailOut(_RoundFields):
    """One round, with the computation's record once the caller may see results."""

    record: dict | None = Field(None, description="计算所用的方法和参数（可查看结果时提供）")


class GradeCountOut(Schema):
    grade: str
    range: str
    count: int
    percent: float


class SummaryOut(Schema):
    count: int
    scored: int
    mean: float | None
    median: float | None
    max: float | None
    min: float | None
    distribution: list[GradeCountOut]


class TargetResultOut(Schema):
    """One unit's result in a round."""

    id: int
    org_id: int
    org_name: str
    unit_id: int | None
    base_total: float | None
    bonus: float | None
    total: float | None
    grade: str
    grade_reason: str
    rank: int | None
    closeness: float | None
    topsis_rank: int | None
    rank_min: int | None
    rank_max: int | None
    grade_change_probability: float | None
    missing: list[str]


class ResultsOut(Schema):
    round: RoundDetailOut
    summary: SummaryOut
    targets: list[TargetResultOut]


class LineOut(Schema):
    code: str
    name: str
    raw: float | None
    score: float | None = Field(None, description="百分制得分（加分项为加分）")
    average: float | None = Field(None, description="本轮有数据单位的平均得分")
    diff: float | None
    global_weight: float
    points: float | None
    status: str
    status_label: str
    missing_text: str
    duty_id: int | None


class GroupOut(Schema):
    code: str
    name: str
    weight: float
    subtotal: float
    average: float | None
    lines: list[LineOut]


class DutyStateOut(Schema):
    duty_id: int
    title: str
    code: str
    indicator: str
    state: str
    state_label: str
    closed: bool
    due_on: date
    closed_on: date | None


class PreviousOut(Schema):
    round_id: int
    round_title: str
    duties: list[DutyStateOut]


class TargetDetailOut(TargetResultOut):
    round_id: int
    rank_of: int
    groups: list[GroupOut]
    strongest: list[LineOut]
    weakest: list[LineOut]
    missing_lines: list[LineOut]
    bonus_lines: list[LineOut]
    duties: list[DutyStateOut]
    previous: PreviousOut | None


# --- shaping -------------------------------------------------------------------------------------


def _rounds(user):
    return (
        access.visible_rounds(user)
        .select_related("system", "owner_org")
        .annotate(target_count=Count("targets", distinct=True))
    )


def _round_out(user, assessment: Assessment, *, with_record: bool) -> dict:
    return {
        "id": assessment.pk,
        "title": assessment.title,
        "system_id": assessment.system_id,
        "system_name": assessment.system.name,
        "system_year": assessment.system.year,
        "system_number": assessment.system.number,
        "owner_org_id": assessment.owner_org_id,
        "owner_org_name": assessment.owner_org.name,
        "period_start": assessment.period_start,
        "period_end": assessment.period_end,
        "state": assessment.state,
        "state_label": assessment.get_state_display(),
        "use_topsis": assessment.use_topsis,
        "rectify_below": assessment.rectify_below,
        "target_count": assessment.target_count,
        "computed_at": assessment.computed_at,
        "published_at": assessment.published_at,
        "results_visible": access.sees_results(user, assessment),
        "record": (assessment.record or {}) if with_record else None,
    }


def _target_out(t: Target) -> dict:
    return {
        "id": t.pk,
        "org_id": t.org_id,
        "org_name": t.org.name,
        "unit_id": t.unit_id,
        **{
            f: getattr(t, f)
            for f in (
                "base_total", "bonus", "total", "grade", "grade_reason", "rank", "closeness", "topsis_rank",
                "rank_min", "rank_max", "grade_change_probability",
            )
        },
        "missing": list(t.missing or []),
    }  # fmt: skip


def _line_out(r: dict) -> dict:
    line = r.get("line")
    return {
        "code": r["indicator"].code,
        "name": r["indicator"].name,
        "raw": r.get("raw"),
        "score": r.get("score", r.get("points")),
        "average": r.get("average"),
        "diff": r.get("diff"),
        "global_weight": line.global_weight if line is not None else 0.0,
        "points": line.points if line is not None else None,
        "status": r.get("status", "ok"),
        "status_label": line.get_status_display() if line is not None else "无数据",
        "missing_text": r.get("missing_text", ""),
        "duty_id": line.duty_id if line is not None else None,
    }


def _duty_out(indicator, duty) -> dict:
    from sizheng.duties.models import State

    return {
        "duty_id": duty.pk,
        "title": duty.title,
        "code": indicator.code,
        "indicator": indicator.name,
        "state": duty.state,
        "state_label": duty.get_state_display(),
        "closed": duty.state == State.CLOSED,
        "due_on": duty.due_on,
        "closed_on": duty.closed_on,
    }


# --- endpoints -----------------------------------------------------------------------------------


@router.get(
    "/rounds", response={200: list[RoundOut], **_ERRORS}, url_name="assess-rounds", summary="考核轮次列表"
)
@paginate(Paged)
def round_list(request: HttpRequest):
    """Rounds the caller has business with (managed, assigned, own unit assessed, published in scope)."""
    return _rounds(request.auth)


@router.get(
    "/rounds/{round_id}",
    response={200: RoundDetailOut, **_ERRORS},
    url_name="assess-round",
    summary="考核轮次",
)
def round_detail(request: HttpRequest, round_id: int):
    """One round; ``record`` (methods and parameters) only once the caller may see its results."""
    assessment = access.get_round_or_404(request.auth, round_id)
    assessment = _rounds(request.auth).get(pk=assessment.pk)
    return _round_out(request.auth, assessment, with_record=access.sees_results(request.auth, assessment))


@router.get(
    "/rounds/{round_id}/results",
    response={200: ResultsOut, **_ERRORS},
    url_name="assess-round-results",
    summary="考核结果",
)
def round_results(request: HttpRequest, round_id: int):
    """The round's summary and the results of the targets the caller may see, by rank (404 before
    the caller may see results)."""
    user = request.auth
    assessment = access.get_round_or_404(user, round_id)
    if not access.sees_results(user, assessment):
        raise Http404
    summary = results.summary(assessment)
    visible = set(access.visible_targets(user, assessment).values_list("pk", flat=True))
    return {
        "round": _round_out(user, _rounds(user).get(pk=assessment.pk), with_record=True),
        "summary": {
            k: summary[k] for k in ("count", "scored", "mean", "median", "max", "min", "distribution")
        },
        "targets": [_target_out(t) for t in summary["targets"] if t.pk in visible],
    }


@router.get(
    "/rounds/{round_id}/targets/{target_id}",
    response={200: TargetDetailOut, **_ERRORS},
    url_name="assess-round-target",
    summary="单位考核结果",
)
def target_result(request: HttpRequest, round_id: int, target_id: int):
    """One unit's result: level-1 subtotals, each indicator against the average, the strongest and
    weakest, indicators without data, rectification duties and the previous round's."""
    user = request.auth
    target = access.get_target_or_404(user, target_id)
    if target.assessment_id != round_id or not access.sees_results(user, target.assessment):
        raise Http404
    d = results.target_detail(target)
    prev = d["previous"]
    return {
        **_target_out(target),
        "round_id": target.assessment_id,
        "rank_of": d["rank_of"],
        "groups": [
            {
                "code": g["indicator"].code,
                "name": g["indicator"].name,
                "weight": g["weight"],
                "subtotal": g["subtotal"],
                "average": g["average"] if g["has_average"] else None,
                "lines": [_line_out(r) for r in g["rows"]],
            }
            for g in d["groups"]
        ],
        "strongest": [_line_out(r) for r in d["strongest"]],
        "weakest": [_line_out(r) for r in d["weakest"]],
        "missing_lines": [_line_out(r) for r in d["missing"]],
        "bonus_lines": [_line_out(r) for r in d["bonus"]],
        "duties": [_duty_out(r["indicator"], r["duty"]) for r in d["duties"]],
        "previous": (
            {
                "round_id": prev[0]["assessment"].pk,
                "round_title": prev[0]["assessment"].title,
                "duties": [_duty_out(p["indicator"], p["duty"]) for p in prev],
            }
            if prev
            else None
        ),
    }
