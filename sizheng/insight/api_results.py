"""Survey results API: the reporting groups a user may see, and one group's results for a closed wave.

Scope and suppression are the page's (``insight.results``): a suppressed group's figures are
``{"suppressed": true}`` with no value key at all.
"""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from django.http import Http404, HttpRequest
from ninja import Router, Schema

from sizheng.core.apitools import ErrorOut
from sizheng.insight import results as R
from sizheng.insight.groups import groups as survey_groups
from sizheng.insight.views_results import NO_GROUP, NO_WAVE, pick_wave, results_survey_or_404

router = Router(tags=["问卷结果"])
_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}
SUPPRESSED = {"suppressed": True}


class GroupOut(Schema):
    """A reporting group; ``parent_id`` is None for a top group of what the user may see."""

    id: str
    name: str
    parent_id: str | None


@router.get(
    "/surveys/{survey_id}/groups",
    response={200: list[GroupOut], **_ERRORS},
    url_name="insight-survey-groups",
    summary="问卷的统计组",
)
def survey_group_list(request: HttpRequest, survey_id: int):
    """The survey's fixed reporting groups the caller may see results for (never free filters)."""
    survey = results_survey_or_404(request.user, survey_id)
    items = survey_groups(survey)
    visible = R.visible_group_ids(request.user, survey, items)
    return [{k: g[k] for k in ("id", "name", "parent_id")} for g in R.group_tree(items, visible)]


def question_result(q: R.QuestionResult, gid: str) -> dict:
    """One question for one group: counts per answer, "未作答" and the mean, or suppressed."""
    row = q.rows.get(gid)
    if row is None:
        return dict(SUPPRESSED)
    out = {
        "n": row[R.TOTAL],
        "options": [{"key": c.key, "label": c.label, "count": row[c.key]} for c in q.answer_columns],
        "skipped": row[R.SKIP],
    }
    if q.scored:
        out["mean"] = q.means.get(gid)
    return out


def group_results(wr: R.WaveResults, gid: str, name: str, parent_id) -> dict:
    """The whole answer for one group (the group need not be in the wave's hierarchy: then all suppressed)."""
    row = wr.group(gid)
    shown = row is not None and row.n is not None
    return {
        "survey_id": wr.survey.pk,
        "wave": {"number": wr.wave.number, "label": wr.wave.label},
        "k": wr.k,
        "group": {"id": gid, "name": name, "parent_id": parent_id},
        "participation": (
            {
                "n": row.n,
                "audience": row.audience,
                "rate": round(row.rate, 4) if row.rate is not None else None,
            }
            if shown
            else dict(SUPPRESSED)
        ),
        "questions": [
            {
                "id": q.id,
                "number": q.number,
                "text": q.text,
                "kind": q.kind,
                "dimension_id": q.dimension_id,
                **question_result(q, gid),
            }
            for q in wr.questions
        ],
        "dimensions": [
            {"id": d.id, "name": d.name, **({"n": row.n, "index": d.index.get(gid)} if shown else SUPPRESSED)}
            for d in wr.dimensions
        ],
    }


@router.get(
    "/surveys/{survey_id}/results",
    response={200: dict, **_ERRORS},
    url_name="insight-survey-results",
    summary="问卷结果（某统计组）",
)
def survey_results(request: HttpRequest, survey_id: int, group: str | None = None, wave: int | None = None):
    """Results of a closed wave (default: the latest) for one reporting group (default: the caller's
    first). Per question and dimension ``{"n": …}`` or ``{"suppressed": true}`` with no value."""
    survey = results_survey_or_404(request.user, survey_id)
    waves = {w.number: w for w in R.closed_waves(survey)}
    if not waves:
        raise Http404(NO_WAVE)
    wr = R.wave_results(pick_wave(waves, None if wave is None else str(wave)))
    items = survey_groups(survey)
    visible = R.visible_group_ids(request.user, survey, items)
    tree = {g["id"]: g for g in R.group_tree(items, visible)}
    if not tree:
        raise Http404(NO_GROUP)
    gid = group or next(iter(tree))
    if gid not in tree:
        raise Http404(NO_GROUP)
    return group_results(wr, gid, tree[gid]["name"], tree[gid]["parent_id"])
