"""The search page: the GET form, validation, empty states, grouping, limits and links, the query
budget (flat as data grows), and the API giving the same answer as the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.org.models import Org
from sizheng.org.testing import make_org, make_person
from sizheng.search import registry
from sizheng.search.tests.conftest import API, URL, duty, material, meeting, page

pytestmark = pytest.mark.django_db


def test_anonymous_users_are_sent_to_sign_in(client, cast):
    response = client.get(URL, {"q": "王建国"})
    assert response.status_code == 302 and "login" in response["Location"]
    assert client.get(API, {"q": "王建国"}).status_code == 401


def test_the_empty_page_says_what_can_be_searched(client, cast):
    client.force_login(cast.member)
    for params in ({}, {"q": ""}, {"q": "   "}):
        response = client.get(URL, params)
        assert response.status_code == 200
        body = response.content.decode()
        assert "请在上面输入关键词" in body
        for src in registry.sources():
            assert src.label in body and src.searches in body
        assert "谈心谈话、关心关爱、心理自评、调查问卷和分析研判的内容不在搜索范围内" in body
        assert response.context["groups"] == []
        assert 'method="get"' in body and 'name="q"' in body


def test_a_query_over_50_characters_is_refused_with_what_to_do(client, cast):
    client.force_login(cast.committee_admin)
    response = client.get(URL, {"q": "王" * 51})
    assert response.status_code == 422
    assert "关键词最多 50 个字，请缩短后再查找。" in response.content.decode()
    assert response.context["groups"] == []
    assert client.get(URL, {"q": "王" * 50}).status_code == 200
    api = client.get(API, {"q": "王" * 51})
    assert api.status_code == 422 and api.json()["detail"]
    empty = client.get(API, {"q": "  "})
    assert empty.status_code == 422 and empty.json()["detail"] == "请输入要查找的关键词（1 至 50 个字）。"
    assert client.get(API).status_code == 422


def test_no_hits_says_so_and_what_to_try(client, cast):
    client.force_login(cast.committee_admin)
    body = client.get(URL, {"q": "不存在的名字"}).content.decode()
    assert "在您的查看范围内没有找到与“不存在的名字”相符的内容" in body
    assert "可以查找" in body


def test_results_are_grouped_with_counts_links_and_the_modules_own_lists(client, cast):
    person = make_person("王建设", cast.unit_a, org=cast.branch_a1)
    d = duty(cast, cast.branch_a1, "建设学习型支部")
    m = meeting(cast, cast.branch_a1, "建设学习型机关专题党课")
    a = material(cast, cast.root, "建设学习型政党", summary="读本")
    found, response = page(client, cast.committee_admin, "建设")
    assert found == {
        "people": ["王建设"],
        "duties": ["建设学习型支部"],
        "meetings": ["建设学习型机关专题党课"],
        "library": ["建设学习型政党"],
    }
    body = response.content.decode()
    for url in (
        f"/org/people/{person.pk}/",
        f"/duties/{d.pk}/",
        f"/life/meetings/{m.pk}/",
        f"/library/{a.pk}/",
        "/org/people/?q=%E5%BB%BA%E8%AE%BE",
        "/duties/?q=%E5%BB%BA%E8%AE%BE",
        "/life/meetings/?q=%E5%BB%BA%E8%AE%BE",
        "/library/?q=%E5%BB%BA%E8%AE%BE",
    ):
        assert url in body, url
    assert 'href="#sz-search-people"' in body and "人员 1" in body
    assert "以下类别没有找到相符的内容：党组织。" in body
    # Every hit opens for the user who found it.
    for g in response.context["groups"]:
        for hit in g.hits:
            assert client.get(hit.url).status_code == 200, hit.url
    # The library finds by summary as well.
    assert page(client, cast.committee_admin, "读本")[0] == {"library": ["建设学习型政党"]}


def test_each_source_lists_at_most_20_and_says_there_are_more(client, cast):
    for i in range(23):
        duty(cast, cast.branch_a1, f"批量事项{i:02d}")
    found, response = page(client, cast.committee_admin, "批量事项")
    assert len(found["duties"]) == 20
    group = next(g for g in response.context["groups"] if g.kind == "duties")
    assert group.has_more and group.more_url == "/duties/?q=%E6%89%B9%E9%87%8F%E4%BA%8B%E9%A1%B9"
    body = response.content.decode()
    assert "超过 20 条，只列出前 20 条" in body and "责任事项 20+" in body
    api = client.get(API, {"q": "批量事项", "limit": 5}).json()
    duties = next(g for g in api["groups"] if g["kind"] == "duties")
    assert duties["count"] == 5 and duties["has_more"] is True and api["count"] == 5


def test_the_box_in_the_header_keeps_the_query_on_the_results_page(client, cast):
    from django.template.loader import render_to_string
    from django.test import RequestFactory
    from django.urls import resolve

    request = RequestFactory().get(URL, {"q": "王建国"})
    request.resolver_match = resolve(URL)
    html = render_to_string("search/_box.html", request=request)
    assert 'action="/search/"' in html and 'method="get"' in html and 'value="王建国"' in html
    assert 'maxlength="50"' in html and '<label class="visually-hidden" for="sz-search-box">' in html
    request = RequestFactory().get("/duties/", {"q": "x"})
    request.resolver_match = resolve("/duties/")
    assert "value=" not in render_to_string("search/_box.html", request=request)


def _api_hits(client, q: str) -> list[tuple[str, str, str]]:
    body = client.get(API, {"q": q}).json()
    return [(h["kind"], h["title"], h["url"]) for h in body["items"]]


@pytest.mark.parametrize(
    "persona", ["committee_admin", "secretary_a", "secretary_b", "member", "leader", "outsider"]
)
def test_the_api_gives_the_same_results_as_the_page(client, cast, persona):
    duty(cast, cast.branch_a1, "党建专项A")
    duty(cast, cast.branch_b1, "党建专项B")
    meeting(cast, cast.branch_c, "党建专项学习C")
    material(cast, cast.root, "党建专项读本")
    user = getattr(cast, persona)
    for q in ("党建 专项", "王建国", "局", "支部"):
        _found, response = page(client, user, q)
        on_page = [(h.kind, h.title, h.url) for g in response.context["groups"] for h in g.hits]
        assert _api_hits(client, q) == on_page, (persona, q)
    api = client.get(API, {"q": "党建"}).json()
    assert [g["kind"] for g in api["groups"]] == ["people", "orgs", "duties", "meetings", "library"]
    assert api["query"] == "党建"


def _grow(cast, n: int) -> None:
    """n more branches in unit A, each with a member, a duty, a meeting and an article, all matching “增长”."""
    start = Org.objects.count()
    for i in range(n):
        org = make_org(
            f"增长支部{start + i}", Org.Kind.BRANCH, cast.committee_a, f"G{start + i}", units=[cast.unit_a]
        )
        make_person(f"增长{start + i}", cast.unit_a, org=org)
        duty(cast, org, f"增长事项{start + i}")
        meeting(cast, org, f"增长会议{start + i}")
        material(cast, org, f"增长资料{start + i}", audience=org)


def _count(client, q: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, {"q": q})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("persona", ["committee_admin", "secretary_a", "member", "leader"])
def test_the_page_costs_the_same_queries_as_data_grows(client, cast, persona, django_assert_max_num_queries):
    client.force_login(getattr(cast, persona))
    _grow(cast, 2)
    client.get(URL, {"q": "预热"})  # the first request of a session fills per-process caches
    small = _count(client, "增长")
    _grow(cast, 8)
    large = _count(client, "增长 长")
    assert large == small, (small, large)
    # Session, user, grants, scope (2), the menu's unread count; the sources one query each, the
    # library two (the reader's own orgs, cached for the request).
    with django_assert_max_num_queries(12):
        client.get(URL, {"q": "增长"})
    found, _ = page(client, cast.committee_admin, "增长")
    assert len(found["duties"]) == 10 and len(found["orgs"]) == 10


def test_the_api_costs_the_same_queries_as_data_grows(client, cast):
    client.force_login(cast.committee_admin)
    _grow(cast, 2)
    client.get(API, {"q": "预热"})
    with CaptureQueriesContext(connection) as small:
        client.get(API, {"q": "增长"})
    _grow(cast, 8)
    with CaptureQueriesContext(connection) as large:
        client.get(API, {"q": "增长"})
    assert len(small.captured_queries) == len(large.captured_queries)


def test_a_person_who_has_left_is_not_found(search, cast):
    from django.utils import timezone

    gone = make_person("钱离职", cast.unit_a, org=cast.branch_a1)
    assert search(cast.committee_admin, "钱离职") == {"people": ["钱离职"]}
    type(gone).objects.filter(pk=gone.pk).update(left_on=timezone.localdate() - timedelta(days=1))
    assert search(cast.committee_admin, "钱离职") == {}
