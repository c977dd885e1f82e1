"""The search API: the same sources, scope and limits as the search page (``/search/?q=``).

Not audited and never logged (README, "审计与日志"): it reads only T0 data and names in scope.
"""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from dataclasses import asdict
from datetime import date

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from sizheng.core.apitools import ErrorOut
from sizheng.search import registry

router = Router(tags=["搜索"])

_ERRORS = {401: ErrorOut, 422: ErrorOut, 429: ErrorOut}
EMPTY = f"请输入要查找的关键词（1 至 {registry.MAX_QUERY} 个字）。"


class HitOut(Schema):
    """One result; ``url`` is the page that opens it (the same access rule as the result)."""

    kind: str = Field(..., description="类别：people、orgs、duties、meetings、library")
    title: str
    subtitle: str
    url: str
    date: date | None


class GroupOut(Schema):
    """One category's answer: ``count`` results listed, ``has_more`` when there are more."""

    kind: str
    label: str
    searches: str = Field(..., description="本类查找的内容")
    count: int
    has_more: bool
    more_url: str | None = Field(None, description="该模块自己的列表（按关键词筛选），可查看全部")


class SearchOut(Schema):
    query: str
    count: int = Field(..., description="列出的结果总数（各类之和）")
    groups: list[GroupOut]
    items: list[HitOut]


@router.get("", response={200: SearchOut, **_ERRORS}, url_name="search", summary="跨模块搜索")
def search(
    request: HttpRequest,
    q: str = Query(..., max_length=registry.MAX_QUERY, description="关键词；多个词用空格分开，须全部相符"),
    limit: int = Query(registry.PER_SOURCE, ge=1, le=50, description="每类最多列出几条"),
):
    """People, orgs, duties, meetings and library materials in the caller's scope whose short T0
    fields contain every word of ``q`` (never 身份证号, phone numbers, talks, care cases, wellbeing,
    survey answers or analysis texts)."""
    query = registry.clean(q)
    if not query:
        raise ValidationError(EMPTY)
    groups = registry.search(request.user, query, limit)
    items = [hit for g in groups for hit in g.hits]
    return {
        "query": query,
        "count": len(items),
        "groups": [
            {
                "kind": g.kind,
                "label": g.label,
                "searches": g.source.searches,
                "count": g.count,
                "has_more": g.has_more,
                "more_url": g.more_url,
            }
            for g in groups
        ],
        "items": [asdict(hit) for hit in items],
    }
