"""The dashboard API: the caller's cards and one card's values as JSON — the same access, the same
value cache and the same figures as the screens (``scope`` as on the card URLs: ``all``,
``org:<id>``, ``unit:<id>``, ``me``; by default the caller's own page)."""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from typing import Any

from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema

from sizheng.core.apitools import ErrorOut
from sizheng.dashboard import cards

router = Router(tags=["驾驶舱"])

_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut}
_YEAR = "年度（近五年），不填为今年"
_SCOPE = "范围：all（机关工委）、org:<党组织编号>、unit:<单位编号>、me（本人）；不填为当前用户自己的驾驶舱"


class CardOut(Schema):
    """One card of a dashboard page."""

    name: str
    title: str
    description: str
    metrics: list[str]
    url: str = Field(..., description="卡片的网页地址（完整页面）")
    api_url: str = Field(..., description="卡片数据的接口地址")


class CardListOut(Schema):
    scope: str
    year: int
    count: int
    items: list[CardOut]


class CardValuesOut(Schema):
    """One card's figures: metric values as numbers (null when withheld, with the reason)."""

    name: str
    title: str
    scope: str
    year: int
    link: str = Field(..., description="卡片背后的明细列表")
    data: dict[str, Any]


def _ctx(request: HttpRequest, scope: str | None, year: int | None, full: bool = False) -> cards.Ctx:
    return cards.context_for(request.user, scope or cards.default_scope(request.user), year=year, full=full)


@router.get(
    "/cards", response={200: CardListOut, **_ERRORS}, url_name="dashboard-cards", summary="我的驾驶舱卡片"
)
def card_list(
    request: HttpRequest,
    scope: str | None = Query(None, description=_SCOPE),
    year: int | None = Query(None, description=_YEAR),
):
    """The cards of a dashboard page the caller may open (404 for a page outside their scope)."""
    ctx = _ctx(request, scope, year)
    query = f"?scope={ctx.scope_param}&year={ctx.year}"
    items = [
        {
            "name": c.name,
            "title": c.title,
            "description": c.description,
            "metrics": list(c.metrics),
            "url": f"{reverse('dashboard:card', args=[c.name])}{query}&full=1",
            "api_url": f"{request.path.rstrip('/')}/{c.name}{query}",
        }
        for c in cards.cards_for(ctx.kind)
    ]
    return {"scope": ctx.scope_param, "year": ctx.year, "count": len(items), "items": items}


@router.get(
    "/cards/{name}",
    response={200: CardValuesOut, **_ERRORS},
    url_name="dashboard-card",
    summary="驾驶舱卡片数据",
)
def card_values(
    request: HttpRequest,
    name: str,
    scope: str | None = Query(None, description=_SCOPE),
    year: int | None = Query(None, description=_YEAR),
):
    """One card's values (the full lists, as on the card's own page)."""
    c = cards.CARDS.get(name)
    if c is None:
        raise Http404
    ctx = _ctx(request, scope, year, full=True)
    if ctx.kind not in c.scopes:
        raise Http404
    data = c.build(ctx)
    return {
        "name": c.name,
        "title": c.title,
        "scope": ctx.scope_param,
        "year": ctx.year,
        "link": c.link(ctx),
        "data": data,
    }
