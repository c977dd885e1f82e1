"""The board as the tree grows: the org and list filters are pickers (no option per org), the page
stays at ten queries or fewer, the roll-up shows the ten orgs needing attention first and links to
the full roll-up page (paginated, searchable, exportable; committee only, or whoever sees the org)."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sizheng.core.models import AuditEvent
from sizheng.duties import services
from sizheng.duties.models import Duty, DutyList, State
from sizheng.org.models import Org
from sizheng.org.testing import make_org

pytestmark = pytest.mark.django_db

BOARD = reverse("duties:board")
ROLLUP = reverse("duties:rollup")
RED_DUE = date(2026, 1, 5)  # long overdue on 10 March: a red warning
LATER = date(2026, 6, 1)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-03-10 10:00 +0800", tick=False):
        yield


def _open(cast, org, title: str, due: date = LATER) -> Duty:
    return services.duty_open(
        org=org, title=title, due_on=due, actor=cast.committee_admin, assigning_org=cast.root
    )


def _plant(cast, n: int, *, parent: Org | None = None, red: dict[int, int] | None = None, prefix="新增支部"):
    """n more orgs under ``parent`` (the root), each with a duty and a year's list; ``red``: org
    number → how many red (long overdue) duties it gets besides."""
    parent = parent or cast.root
    orgs = [
        make_org(f"{prefix}{i}", Org.Kind.BRANCH, parent, f"{prefix[:1]}{parent.pk}-{i}") for i in range(n)
    ]
    duties = [
        Duty(title=f"{o.name}的事项", assignee_org=o, assigning_org=cast.root, due_on=LATER) for o in orgs
    ]
    for i, count in (red or {}).items():
        duties += [Duty(title=f"{orgs[i].name}的逾期事项{k}", assignee_org=orgs[i], assigning_org=cast.root,
                        due_on=RED_DUE) for k in range(count)]  # fmt: skip
    Duty.objects.bulk_create(duties)
    DutyList.objects.bulk_create(
        [DutyList(org=o, year=2026, title=f"{o.name}2026年度思想政治工作责任清单") for o in orgs]
    )
    return orgs


def _count(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content.decode()[:300]
    return len(ctx.captured_queries), response


def _filters(response) -> str:
    html = response.content.decode()
    start = html.index('<form method="get" class="card')
    return html[start : html.index("</form>", start)]


def _errors(response) -> list[str]:
    return re.findall(r'invalid-feedback d-block">([^<]*)<', response.content.decode())


def _titles(response) -> set[str]:
    return {r.duty.title for r in response.context["rows"]}


# --- queries and options, flat in the size of the tree ------------------------------------------


def test_it_keeps_the_board_at_ten_queries_flat_as_orgs_lists_and_duties_grow(client, cast):
    _open(cast, cast.branch_a1, "一支部的事项", RED_DUE)
    _open(cast, cast.branch_b1, "教育局的事项")
    a_list = DutyList.objects.create(org=cast.branch_a1, year=2026, title="第一支部2026年度清单")
    client.force_login(cast.committee_admin)
    cases = [
        (BOARD, {}),
        (BOARD, {"org": cast.committee_a.pk}),
        (BOARD, {"duty_list": a_list.pk}),
        (BOARD, {"state": "open", "warning": "red", "sort": "org"}),
        (reverse("duties:org_board", args=[cast.committee_a.pk]), {}),
        (ROLLUP, {}),
        (ROLLUP, {"org": cast.committee_a.pk, "name": "财政"}),
    ]
    client.get(BOARD)  # the first request loads the workday calendar
    few = [_count(client, url, params) for url, params in cases]
    _plant(cast, 200, red={3: 2, 7: 1})
    _plant(cast, 20, parent=cast.committee_a, prefix="财政局新支部")
    many = [_count(client, url, params) for url, params in cases]
    assert [n for n, _ in few] == [n for n, _ in many]
    # Five are paid by every signed-in page; issue 10's target for a list page is ten at most.
    assert max(n for n, _ in many) <= 10
    for (_, small), (_, large) in zip(few[:5], many[:5], strict=True):
        assert _filters(small).count("<option") == _filters(large).count("<option")
        assert "新增支部" not in _filters(large) and "财政局新支部" not in _filters(large)
    assert many[0][1].context["counts"]["total"] == 2 + 200 + 3 + 20


def test_it_renders_the_org_and_list_filters_as_pickers(client, cast):
    client.force_login(cast.committee_admin)
    html = _filters(client.get(BOARD))
    assert '<label class="form-label" for="id_org">责任单位（含下级）</label>' in html
    assert 'name="org_q"' in html and '<input type="hidden" name="org" value="" id="id_org_pk"' in html
    assert f'hx-get="{reverse("org:pick", args=["org"])}?scope=visible"' in html
    assert (
        'name="duty_list_q"' in html
        and f'hx-get="{reverse("org:pick", args=["duty_list"])}?scope=visible"' in html
    )
    assert '<select name="org"' not in html and '<select name="duty_list"' not in html
    assert '<select name="campaign"' in html  # a handful of campaigns: still a select
    org_board = _filters(client.get(reverse("duties:org_board", args=[cast.committee_a.pk])))
    assert 'name="org_q"' not in org_board  # the org board's org is fixed
    assert f"scope=visible&amp;within={cast.committee_a.pk}" in org_board


# --- the org picker and the list picker ---------------------------------------------------------


def test_it_filters_by_an_org_typed_or_chosen_and_links_by_pk(client, cast):
    _open(cast, cast.branch_a1, "一支部的事项")
    _open(cast, cast.branch_a2, "二支部的事项")
    _open(cast, cast.branch_b1, "教育局的事项")
    client.force_login(cast.committee_admin)
    assert _titles(client.get(BOARD, {"org": cast.committee_a.pk})) == {"一支部的事项", "二支部的事项"}
    response = client.get(BOARD, {"org_q": "财政局机关第二支部", "org": "", "state": "open"})
    assert response.status_code == 200
    assert _titles(response) == {"二支部的事项"}
    html = response.content.decode()
    assert f'name="org" value="{cast.branch_a2.pk}"' in html
    assert "org_q" not in response.context["export_url"]
    assert f"org={cast.branch_a2.pk}" in response.context["export_url"]
    assert all(f"org={cast.branch_a2.pk}" in s["url"] for s in response.context["counts"]["states"])
    response = client.get(BOARD, {"org_q": "第一支部"})
    assert response.status_code == 422
    assert _errors(response) == [
        "有 2 个党组织名称包含“第一支部”（如 市财政局机关第一支部委员会、市教育局机关第一支部委员会），"
        "请输入更完整的名称。"
    ]
    client.force_login(cast.secretary_a)
    response = client.get(BOARD, {"org_q": "教育局"})
    assert _errors(response) == ["没有找到名称包含“教育局”的党组织。请检查输入，或清空此项查看全部。"]
    outside, missing = client.get(BOARD, {"org": cast.branch_b1.pk}), client.get(BOARD, {"org": 999999})
    assert outside.status_code == missing.status_code == 422
    assert _errors(outside) == _errors(missing) == ["所选项不在您的查看范围内，请重新选择。"]


def test_it_filters_by_a_list_by_pk_or_by_name_within_the_org_board(client, cast):
    a_list = DutyList.objects.create(org=cast.branch_a1, year=2026, title="第一支部2026年度清单")
    b_list = DutyList.objects.create(org=cast.branch_b1, year=2026, title="教育局支部2026年度清单")
    Duty.objects.filter(pk=_open(cast, cast.branch_a1, "清单里的事项").pk).update(duty_list=a_list)
    _open(cast, cast.branch_a1, "不在清单里的事项")
    client.force_login(cast.committee_admin)
    assert _titles(client.get(BOARD, {"duty_list": a_list.pk})) == {"清单里的事项"}  # the detail page's link
    assert _titles(client.get(BOARD, {"duty_list_q": "第一支部2026"})) == {"清单里的事项"}
    # As the browser submits a chosen list: the pk and its label.
    chosen = client.get(BOARD, {"duty_list": a_list.pk, "duty_list_q": "第一支部2026年度清单"})
    assert _titles(chosen) == {"清单里的事项"}
    org_board = reverse("duties:org_board", args=[cast.committee_a.pk])
    response = client.get(org_board, {"duty_list_q": "教育局支部"})
    assert _errors(response) == ["没有找到名称包含“教育局支部”的责任清单。请检查输入，或清空此项查看全部。"]
    assert client.get(org_board, {"duty_list": b_list.pk}).status_code == 422
    pick = reverse("org:pick", args=["duty_list"])
    labels = re.findall(r'data-label="([^"]*)"', client.get(pick, {"q": "2026"}).content.decode())
    assert set(labels) == {"第一支部2026年度清单", "教育局支部2026年度清单"}
    within = client.get(pick, {"q": "2026", "within": cast.committee_a.pk}).content.decode()
    assert re.findall(r'data-label="([^"]*)"', within) == ["第一支部2026年度清单"]
    client.force_login(cast.secretary_a)
    assert re.findall(r'data-label="([^"]*)"', client.get(pick, {"q": "2026"}).content.decode()) == [
        "第一支部2026年度清单"
    ]
    client.force_login(cast.outsider)
    assert client.get(pick, {"q": "2026"}).status_code == 404


def test_it_narrows_the_list_suggestions_only_within_an_org_the_user_sees(client, cast):
    """``within`` is resolved among the orgs the user sees: a hidden ancestor of a visible org
    answers as an unknown pk (no lists), so the suggestions never tell which hidden orgs are above."""
    DutyList.objects.create(org=cast.branch_a1, year=2026, title="第一支部2026年度清单")
    DutyList.objects.create(org=cast.branch_b1, year=2026, title="教育局支部2026年度清单")
    pick = reverse("org:pick", args=["duty_list"])

    def labels(**params) -> list[str]:
        response = client.get(pick, {"q": "2026", "scope": "visible", **params})
        assert response.status_code == 200
        return re.findall(r'data-label="([^"]*)"', response.content.decode())

    client.force_login(cast.secretary_a)  # sees 第一支部 only, not the 机关委员会 above it nor the root
    assert labels(within=cast.branch_a1.pk) == ["第一支部2026年度清单"]
    for hidden in (cast.committee_a.pk, cast.root.pk, cast.general_b.pk, 999999):
        assert labels(within=hidden) == []
    client.force_login(cast.leader)  # sees the orgs of unit A, not the root
    assert labels(within=cast.committee_a.pk) == ["第一支部2026年度清单"]
    assert labels(within=cast.root.pk) == labels(within=999999) == []
    client.force_login(cast.committee_admin)
    assert labels(within=cast.root.pk) == ["教育局支部2026年度清单", "第一支部2026年度清单"]


def test_it_links_the_next_page_and_the_ledger_with_one_page_parameter_at_most(client, cast):
    Duty.objects.bulk_create(
        [Duty(title=f"事项{i}", assignee_org=cast.branch_a1, assigning_org=cast.root, due_on=LATER)
         for i in range(120)]
    )  # fmt: skip
    client.force_login(cast.committee_admin)
    response = client.get(BOARD, {"org_q": "A1", "org": "", "page": 2})
    assert response.status_code == 200 and response.context["page"].number == 2
    html = response.content.decode().replace("&amp;", "&")
    assert f'href="?org={cast.branch_a1.pk}&page=3">下一页' in html
    assert f'href="?org={cast.branch_a1.pk}&page=1">上一页' in html
    assert "page=" not in response.context["export_url"]
    assert "page=" not in response.context["rollup_url"]


def test_it_exports_the_ledger_with_the_same_query_strings(client, cast):
    _open(cast, cast.branch_a2, "二支部的事项")
    _open(cast, cast.branch_b1, "教育局的事项")
    client.force_login(cast.committee_admin)
    export = reverse("duties:export")
    for params in ({"org": cast.branch_a2.pk}, {"org_q": "财政局机关第二支部"}):
        response = client.get(export, params)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        event = AuditEvent.objects.filter(action="duty_export").latest("pk")
        assert event.detail == {"count": 1, "filter": {"org": str(cast.branch_a2.pk)}}
    assert client.get(export, {"org_q": "第一支部"}).status_code == 422  # several: the board and its error


# --- the roll-up --------------------------------------------------------------------------------


def test_it_shows_the_ten_orgs_needing_attention_first_and_links_to_all(client, cast):
    _plant(cast, 14, red={5: 3, 9: 2, 2: 1})
    client.force_login(cast.committee_admin)
    response = client.get(BOARD, {"state": "open"})
    rollup = response.context["rollup"]
    assert len(rollup) == 10
    assert [r["org"].name for r in rollup[:3]] == ["新增支部5", "新增支部9", "新增支部2"]
    assert [r["red"] for r in rollup[:4]] == [3, 2, 1, 0]
    html = response.content.decode()
    assert "共 14 个单位，仅显示需关注的前 10 个。" in html
    assert f'href="{ROLLUP}?state=open"' in html
    assert f"{reverse('duties:org_board', args=[rollup[0]['org'].pk])}?state=open" in html


def test_it_shows_the_whole_roll_up_when_it_is_short(client, cast):
    _plant(cast, 4)
    client.force_login(cast.committee_admin)
    response = client.get(BOARD)
    assert len(response.context["rollup"]) == 4
    assert "仅显示需关注的前" not in response.content.decode()


def test_it_limits_the_org_board_roll_up_of_child_orgs_too(client, cast):
    _plant(cast, 12, parent=cast.committee_a, red={11: 1}, prefix="财政局新支部")
    client.force_login(cast.committee_admin)
    response = client.get(reverse("duties:org_board", args=[cast.committee_a.pk]))
    assert len(response.context["rollup"]) == 10
    assert response.context["rollup"][0]["org"].name == "财政局新支部11"
    html = response.content.decode()
    assert "共 12 个单位，仅显示需关注的前 10 个。" in html
    assert f'href="{reverse("duties:org_rollup", args=[cast.committee_a.pk])}"' in html


def test_it_lists_every_org_on_the_roll_up_page_paginated_searchable_and_filtered(client, cast):
    orgs = _plant(cast, 60, red={40: 1})
    Duty.objects.filter(assignee_org=orgs[0]).update(state=State.CLOSED)
    client.force_login(cast.committee_admin)
    response = client.get(ROLLUP)
    assert response.status_code == 200
    assert response.context["total"] == 60
    page = response.context["page"]
    assert page.paginator.count == 60 and len(page.object_list) == 50
    assert page.object_list[0]["org"].name == "新增支部40"  # attention first
    second = client.get(ROLLUP, {"page": 2, "order": "tree"})
    assert len(second.context["page"].object_list) == 10
    assert second.context["page"].querystring == "order=tree"
    assert 'href="?order=tree&page=1">上一页' in second.content.decode()
    assert "page=" not in second.context["export_url"] and "page=" not in second.context["board_url"]
    tree = client.get(ROLLUP, {"order": "tree"}).context["page"].object_list
    assert [r["org"].name for r in tree[:2]] == ["新增支部0", "新增支部1"]
    found = client.get(ROLLUP, {"name": "新增支部1"}).context["page"].object_list
    assert sorted(r["org"].name for r in found) == sorted(
        ["新增支部1", *(f"新增支部{i}" for i in range(10, 20))]
    )
    closed = client.get(ROLLUP, {"state": "closed"})
    assert [(r["org"].name, r["closed"]) for r in closed.context["page"].object_list] == [("新增支部0", 1)]
    html = closed.content.decode()
    assert '<input type="hidden" name="state" value="closed">' in html  # the search keeps the filters
    assert f'href="{BOARD}?state=closed"' in html
    empty = client.get(ROLLUP, {"name": "火星"})
    assert "没有名称包含“火星”的党组织。请换个说法，或清空“党组织名称”查看全部。" in empty.content.decode()


def test_it_exports_the_roll_up_to_excel_and_audits_it(client, cast):
    _plant(cast, 3)
    client.force_login(cast.committee_admin)
    response = client.get(ROLLUP, {"format": "xlsx", "state": "open"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    event = AuditEvent.objects.get(action="duty_rollup_export")
    assert event.detail == {"count": 3, "filter": {"state": "open"}}


def test_it_keeps_the_roll_up_pages_for_whom_they_are_meant(client, cast):
    _open(cast, cast.branch_a1, "一支部的事项")
    for who in ("secretary_a", "outsider", "member", "org_admin"):
        client.force_login(getattr(cast, who))
        assert client.get(ROLLUP).status_code == 404
    org_rollup = reverse("duties:org_rollup", args=[cast.committee_a.pk])
    client.force_login(cast.secretary_b)
    assert client.get(org_rollup).status_code == 404
    client.force_login(cast.committee_admin)
    response = client.get(org_rollup)
    assert response.status_code == 200
    assert [r["org"].name for r in response.context["page"].object_list] == ["市财政局机关第一支部委员会"]
    client.force_login(cast.secretary_a)
    own = client.get(reverse("duties:org_rollup", args=[cast.branch_a1.pk]))
    assert own.status_code == 200
    assert [(r["org"].name, r["own"]) for r in own.context["page"].object_list] == [
        ("市财政局机关第一支部委员会", True)
    ]
