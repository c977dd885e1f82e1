"""Pagination shared by every list page: ?page=N, 50 rows, other query parameters kept."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import QueryDict

PER_PAGE = 50


def _query(params: QueryDict | Mapping[str, Any]) -> QueryDict:
    """A mutable copy of the parameters (a mapping's list or tuple values repeat the key)."""
    if isinstance(params, QueryDict):
        return params.copy()
    out = QueryDict(mutable=True)
    for key, value in params.items():
        values: Iterable[Any] = value if isinstance(value, list | tuple) else [value]
        out.setlist(key, [str(v) for v in values if v is not None])
    return out


def paginate(
    request,
    queryset,
    per_page: int = PER_PAGE,
    *,
    count: int | None = None,
    params: QueryDict | Mapping[str, Any] | None = None,
):
    """A page of ``queryset`` and, as ``page.querystring``, the query string to append to page links
    (never with ``page``: the links add their own). ``count``: the number of rows when the page
    already computed it (e.g. in its aggregates), saving the COUNT query. ``params``: what the links
    carry instead of ``request.GET`` (e.g. a filter form's canonical parameters); the page number is
    still read from the request."""
    paginator = Paginator(queryset, per_page)
    if count is not None:
        paginator.__dict__["count"] = count  # Paginator.count is a cached_property
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except PageNotAnInteger:
        page = paginator.page(1)
    except EmptyPage:
        page = paginator.page(paginator.num_pages)
    links = _query(request.GET if params is None else params)
    links.pop("page", None)
    page.querystring = links.urlencode()
    return page
