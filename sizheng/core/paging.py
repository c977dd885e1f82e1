"""Pagination shared by every list page: ?page=N, 50 rows, other query parameters kept."""

from __future__ import annotations

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator

PER_PAGE = 50


def paginate(request, queryset, per_page: int = PER_PAGE, *, count: int | None = None):
    """A page of ``queryset`` and the query string to append to page links. ``count``: the number of
    rows when the page already computed it (e.g. in its aggregates), saving the COUNT query."""
    paginator = Paginator(queryset, per_page)
    if count is not None:
        paginator.__dict__["count"] = count  # Paginator.count is a cached_property
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except PageNotAnInteger:
        page = paginator.page(1)
    except EmptyPage:
        page = paginator.page(paginator.num_pages)
    params = request.GET.copy()
    params.pop("page", None)
    page.querystring = params.urlencode()
    return page
