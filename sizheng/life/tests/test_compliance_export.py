"""导出 Excel of the compliance heatmap: every org of the view (never the summary), the same statuses as
the page, the same scope and 404, an audit row, and a query count flat in orgs.

Cast orgs the default rules bind: A1, A2 (under 市财政局机关委员会), 市财政局党组, B1 (under 市教育局
机关总支部委员会) and C. On 2026-08-20 with no meetings, every binding quarter up to Q2 is a 提醒.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from sizheng.core.models import AuditEvent
from sizheng.life import compliance, services, views_compliance
from sizheng.life.models import MeetingKind
from sizheng.org.models import Org
from sizheng.org.testing import make_org

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
PAGE = "/life/compliance/"
URL = "/life/compliance/export.xlsx"
HEADER_ROW = 3  # title, note, header (core.xlsx)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime(2026, 8, 20, 10, tzinfo=SH), tick=False):
        yield


def _export(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return response, load_workbook(io.BytesIO(response.content), read_only=True)


def _rows(book) -> tuple[list[str], dict[str, list[str]]]:
    """The data sheet's header and {org name: [上级党组织, statuses…]}."""
    values = list(book["合规情况"].iter_rows(values_only=True))
    header = list(values[HEADER_ROW - 1])
    rows = {r[0]: list(r[1:]) for r in values[HEADER_ROW:]}
    assert len(rows) == len(values) - HEADER_ROW  # one row per org, no name twice
    return header, rows


def _about(book) -> dict[str, str]:
    return {r[0]: r[1] for r in list(book["说明"].iter_rows(values_only=True))[2:]}


def _page_statuses(client, **params) -> dict[str, list[str]]:
    """Each org row of the page (not the summary): its cells' statuses in words."""
    html = client.get(PAGE, params).content.decode()
    out = {}
    for name, cells in re.findall(
        r'<tr>\s*<th scope="row"><a href="[^"]*">([^<]+)</a></th>(.*?)</tr>', html, re.S
    ):
        out[name] = [compliance.STATUS_LABELS[s] for s in re.findall(r'data-status="(\w+)"', cells)]
    return out


def test_it_exports_every_org_with_the_statuses_the_page_shows(client, cast):
    services.meeting_record(
        actor=cast.committee_admin, org=cast.branch_a1, kind=MeetingKind.MEMBERS_MEETING, topic="学习",
        starts_at=datetime(2026, 8, 12, 9, tzinfo=SH), ends_at=datetime(2026, 8, 12, 11, tzinfo=SH),
        place="会议室",
    )  # fmt: skip
    client.force_login(cast.committee_admin)
    params = {"year": 2026, "grain": "quarter", "kind": "members_meeting"}
    response, book = _export(client, **params)
    assert book.sheetnames == ["说明", "合规情况"]
    header, rows = _rows(book)
    assert header == ["党组织", "上级党组织", "Q1", "Q2", "Q3", "Q4", "全年"]
    bound = [cast.branch_a1, cast.branch_a2, cast.branch_b1, cast.branch_c]  # a 党组 holds no 党员大会
    page = _page_statuses(client, **params)
    assert set(rows) == set(page) == {o.name for o in bound}
    for org in bound:
        assert rows[org.name][1:] == page[org.name], org.name
    # A1 held its 党员大会 in Q3; A2 did not (Q3 is still running); Q2 was missed by both.
    assert rows[cast.branch_a1.name][1:4] == ["未达标（提醒）", "未达标（提醒）", "已达标"]
    assert rows[cast.branch_a2.name][3] == "尚未到期"
    # 上级党组织: the depth-1 org on its path (an org at depth 1 is its own group, as on the page).
    assert rows[cast.branch_a1.name][0] == cast.committee_a.name
    assert rows[cast.branch_b1.name][0] == cast.general_b.name
    assert rows[cast.branch_c.name][0] == cast.branch_c.name
    about = _about(book)
    assert about["年度"] == "2026年" and about["粒度"] == "按季度" and about["活动"] == "党员大会"
    assert about["范围"] == f"{cast.root.name}（含下级）" and about["党组织数"] == 4
    assert about["生成时间"] == "2026-08-20 10:00"
    disposition = unquote(response["Content-Disposition"])
    assert "组织生活合规_2026_按季度.xlsx" in disposition
    event = AuditEvent.objects.get(action="compliance_heatmap_export")
    assert event.actor == cast.committee_admin
    assert event.detail == {
        "year": 2026,
        "grain": "quarter",
        "kind": "members_meeting",
        "under": None,
        "rows": 4,
    }


def test_it_exports_every_org_not_the_summary(client, cast, monkeypatch):
    monkeypatch.setattr(views_compliance, "SUMMARY_OVER", 0)  # the page summarises
    client.force_login(cast.committee_admin)
    html = client.get(PAGE, {"year": 2026, "grain": "month"}).content.decode()
    assert "按直属党组织汇总" in html and "导出 Excel" in html
    assert "/life/compliance/export.xlsx?year=2026&amp;grain=month" in html
    _, book = _export(client, year=2026, grain="month")
    header, rows = _rows(book)
    assert header[2:] == [*(f"{m}月" for m in range(1, 13)), "全年"]
    assert len(rows) == 5 and cast.committee_a.name not in rows  # its branches, not its summary


def test_it_exports_the_under_subtree_with_its_children_as_parents(client, cast):
    general = make_org("市财政局离退休干部党总支", Org.Kind.GENERAL_BRANCH, cast.committee_a, "A-R")
    retired = make_org("离退休第一支部委员会", Org.Kind.BRANCH, general, "A-R1")
    client.force_login(cast.committee_admin)
    response, book = _export(client, year=2026, grain="quarter", under=cast.committee_a.pk)
    _, rows = _rows(book)
    # A 党总支 is not bound by the default rules: its branch is, under it.
    assert set(rows) == {cast.branch_a1.name, cast.branch_a2.name, retired.name}
    assert rows[retired.name][0] == general.name and rows[cast.branch_a1.name][0] == cast.branch_a1.name
    assert _about(book)["范围"] == f"{cast.committee_a.name}（含下级）"
    assert "组织生活合规_2026_按季度_市财政局机关委员会.xlsx" in unquote(response["Content-Disposition"])
    event = AuditEvent.objects.get(action="compliance_heatmap_export")
    assert event.object_id == str(cast.committee_a.pk) and event.detail["rows"] == 3


def test_it_exports_only_a_secretarys_subtree(client, cast):
    group = make_org("第一党小组", Org.Kind.GROUP, cast.branch_a1, "A1-G1")
    client.force_login(cast.secretary_a)
    _, book = _export(client, year=2026, grain="quarter")
    _, rows = _rows(book)
    assert set(rows) == {cast.branch_a1.name, group.name}
    assert rows[group.name][0] == cast.branch_a1.name
    assert _about(book)["范围"] == f"{cast.branch_a1.name}（含下级）"
    assert client.get(URL, {"under": cast.committee_a.pk}).status_code == 404


def test_it_gives_an_outsider_404_outside_their_scope_and_no_audit_row(client, cast):
    client.force_login(cast.outsider)
    assert client.get(URL, {"under": cast.committee_a.pk}).status_code == 404
    assert client.get(URL, {"under": 999_999}).status_code == 404
    assert not AuditEvent.objects.filter(action="compliance_heatmap_export").exists()
    _, book = _export(client, year=2026, grain="quarter")
    assert set(_rows(book)[1]) == {cast.branch_c.name}


def test_it_asks_for_a_login_and_answers_get_only(client, cast):
    assert client.get(URL).status_code == 302
    client.force_login(cast.committee_admin)
    assert client.post(URL).status_code == 405


def test_it_keeps_its_query_count_flat_in_orgs(client, cast, django_assert_max_num_queries):
    client.force_login(cast.committee_admin)
    views = [
        {"year": 2026, "grain": "quarter"},
        {"year": 2026, "grain": "month", "kind": "members_meeting"},
        {"year": 2026, "grain": "quarter", "under": cast.general_b.pk},
    ]

    def counts() -> list[int]:
        out = []
        for params in views:
            cache.delete(compliance.VERSION_KEY)  # evaluated every time, not read from the cache
            with CaptureQueriesContext(connection) as ctx, django_assert_max_num_queries(10):
                assert client.get(URL, params).status_code == 200
            out.append(len(ctx.captured_queries))
        return out

    for params in views:
        client.get(URL, params)  # warm-up: the session, the calendar
    few = counts()
    for i in range(100):
        make_org(f"X第{i}支部委员会", Org.Kind.BRANCH, cast.general_b, f"X{i}")
    many = counts()
    assert few == many
    _, book = _export(client, year=2026, grain="quarter", under=cast.general_b.pk)
    assert len(_rows(book)[1]) == 101
