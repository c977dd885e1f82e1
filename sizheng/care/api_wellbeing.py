"""The wellbeing API: ``POST /api/v1/wellbeing/screenings`` — a self-screening of the caller only.

The answer is stored as the caller chooses (anonymous by default) through the same service as the
screen; the response carries the result and where to get help, and the deletion code of an
anonymous screening (shown this once). There is no endpoint that lists or reads screenings.
"""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status
from pydantic import field_validator

from sizheng.care import wellbeing
from sizheng.core.apitools import ErrorOut

router = Router(tags=["心理关怀"])
_ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut}


class ScreeningIn(Schema):
    """A completed PHQ-9 (9 answers) or GAD-7 (7 answers), each 0–3, with the separate consent."""

    instrument: Literal["phq9", "gad7"] = Field(..., description="量表：phq9 或 gad7")
    answers: list[int] = Field(..., description="各题得分，依题目顺序，每题 0–3 分")
    anonymous: bool = Field(True, description="是否匿名提交（默认匿名）")
    consent: bool = Field(False, description="同意处理本次自评的健康信息，必须为 true")

    @field_validator("consent")
    @classmethod
    def _consented(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError(wellbeing.MSG_CONSENT)
        return value


class ResourcesOut(Schema):
    """Where to get help."""

    hotline: str
    hotline_label: str
    local: list[str]


class ScreeningOut(Schema):
    """The result: band, score, whether the crisis resources apply, and the deletion code if anonymous."""

    instrument: str
    score: int
    band: str
    band_label: str
    crisis: bool
    item9_positive: bool
    anonymous: bool
    resources: ResourcesOut
    deletion_code: str | None = None
    screening_id: int | None = None


@router.post(
    "/wellbeing/screenings",
    response={201: ScreeningOut, **_ERRORS},
    url_name="care-wellbeing-screening",
    summary="提交心理自评（本人）",
    exclude_none=True,
)
def screening_create(request: HttpRequest, payload: ScreeningIn):
    """Score and store the caller's own screening; 422 without consent or with invalid answers."""
    outcome = wellbeing.screening_submit(
        actor=request.user,
        instrument=payload.instrument,
        answers=payload.answers,
        anonymous=payload.anonymous,
        consent=payload.consent,
    )
    r = outcome.result
    body = {
        "instrument": r.instrument,
        "score": r.score,
        "band": r.band,
        "band_label": r.band_label,
        "crisis": r.crisis,
        "item9_positive": r.item9_positive,
        "anonymous": outcome.anonymous,
        "resources": outcome.resources,
        "deletion_code": outcome.deletion_code or None,
        "screening_id": outcome.screening.pk if outcome.screening else None,
    }
    return Status(201, body)
