"""``core.paging.paginate``: the page links' query string never carries ``page`` (the links add
their own), and a view may give the parameters its links carry instead of ``request.GET``."""

from __future__ import annotations

from django.http import QueryDict
from django.test import RequestFactory

from sizheng.core.paging import paginate

ROWS = list(range(120))


def _request(query: str):
    return RequestFactory().get(f"/list/?{query}")


def test_it_keeps_the_other_parameters_and_drops_page():
    page = paginate(_request("q=王&page=2&tag=a&tag=b"), ROWS)
    assert page.number == 2 and list(page.object_list) == list(range(50, 100))
    assert QueryDict(page.querystring) == QueryDict("q=王&tag=a&tag=b")


def test_it_links_with_the_given_parameters_but_reads_the_page_from_the_request():
    request = _request("org_q=第二支部&org=&page=2")
    canonical = QueryDict("org=12&page=2&page=3")  # as a view may copy it from request.GET
    page = paginate(request, ROWS, params=canonical)
    assert page.number == 2
    assert page.querystring == "org=12"
    page = paginate(request, ROWS, params={"org": 12, "tag": ["a", "b"], "page": 3})
    assert page.number == 2 and page.querystring == "org=12&tag=a&tag=b"
    assert paginate(_request("page=9"), ROWS, params={}).querystring == ""


def test_it_falls_back_to_the_first_or_last_page():
    assert paginate(_request("page=x"), ROWS).number == 1
    assert paginate(_request("page=99"), ROWS).number == 3
