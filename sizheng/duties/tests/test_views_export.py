"""The Excel ledger of a filtered board (audited, sensitive rows generic) and the 督办通知 Word file."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from sizheng.core.models import AuditEvent, Role, RoleGrant, User
from sizheng.duties import services
from sizheng.duties.models import Duty, SourceKind
from sizheng.duties.views import LEDGER_HEADERS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-03-10 10:00 +0800", tick=False):
        yield


def _open(cast, org=None, *, title="组织开展主题党日活动", due=date(2026, 4, 10), **extra) -> Duty:
    return services.duty_open(org=org or cast.branch_a1, title=title, due_on=due, actor=cast.committee_admin,
                              assigning_org=extra.pop("assigning_org", cast.root), **extra)  # fmt: skip


def _sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return book.worksheets[0]


def _rows(ws) -> list[list]:
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r[: len(LEDGER_HEADERS)] == LEDGER_HEADERS)
    return [r[: len(LEDGER_HEADERS)] for r in rows[start + 1 :] if any(v not in (None, "") for v in r)]


# --- the ledger --------------------------------------------------------------------------------


def test_it_exports_the_filtered_board_as_a_ledger_with_an_audit_row(client, cast):
    _open(
        cast,
        title="早已逾期的事项",
        due=date(2026, 2, 2),
        category="分析研判",
        owner=cast.person(cast.member),
    )
    _open(cast, cast.branch_b1, title="教育局的事项")
    _open(cast, title="与某同志谈心", source=(SourceKind.TALK, 3), category="谈心谈话")
    client.force_login(cast.committee_admin)
    ws = _sheet(client.get(reverse("duties:export"), {"org": cast.branch_a1.pk}))
    rows = {r[0]: r for r in _rows(ws)}
    assert set(rows) == {"早已逾期的事项", "谈心谈话提醒"}
    row = rows["早已逾期的事项"]
    assert row[1:5] == ["分析研判", "市财政局机关第一支部委员会", "刘洋", "市直机关工委"]
    assert row[6:8] == ["已部署", "红色预警"] and row[9] == "是" and row[12] == "手工部署"
    assert rows["谈心谈话提醒"][1] in (None, "")  # nothing of a sensitive duty but its generic title
    audit = AuditEvent.objects.get(action="duty_export")
    assert audit.detail["count"] == 2 and audit.detail["filter"] == {"org": str(cast.branch_a1.pk)}


def test_it_exports_only_the_duties_in_scope_and_refuses_bad_filters(client, cast):
    _open(cast, title="第一支部的事项")
    _open(cast, cast.branch_b1, title="教育局的事项")
    client.force_login(cast.secretary_b)
    assert [r[0] for r in _rows(_sheet(client.get(reverse("duties:export"))))] == ["教育局的事项"]
    response = client.get(reverse("duties:export"), {"org": cast.branch_a1.pk})
    assert response.status_code == 422
    assert "所选项不在您的查看范围内，请重新选择。" in response.content.decode()
    assert client.post(reverse("duties:export")).status_code == 405
    assert AuditEvent.objects.filter(action="duty_export").count() == 1


# --- the 督办通知 -------------------------------------------------------------------------------


def _document_xml(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml"
    )
    with zipfile.ZipFile(io.BytesIO(response.content)) as z:
        return z.read("word/document.xml").decode()


def test_it_writes_the_urge_notice_for_the_assigner_with_an_audit_row(client, cast):
    duty = _open(cast, title="报送思想动态分析报告", due=date(2026, 3, 2), description="按季度报送。")
    client.force_login(cast.committee_admin)
    xml = _document_xml(client.get(reverse("duties:urge_notice", args=[duty.pk])))
    assert "关于督办《报送思想动态分析报告》事项的通知" in xml
    assert "中共市财政局机关第一支部委员会：" in xml
    assert "已超过完成时限" in xml and "按季度报送。" in xml
    assert "2026年3月17日前" in xml  # five workdays to report
    assert "中共市直机关工委" in xml and "2026年3月10日" in xml
    assert AuditEvent.objects.filter(action="duty_urge_notice", object_id=str(duty.pk)).exists()


def test_it_gives_the_urge_notice_to_a_supervisor_and_refuses_everyone_else(client, cast):
    duty = _open(cast, supervising_org=cast.committee_a)
    jiwei = User.objects.create_user(username="jiwei", password="x")
    RoleGrant.objects.create(user=jiwei, role=Role.SECRETARY, scope_kind=RoleGrant.ScopeKind.ORG,
                             scope_id=cast.committee_a.pk)  # fmt: skip
    url = reverse("duties:urge_notice", args=[duty.pk])
    client.force_login(jiwei)
    assert "中共市财政局机关委员会" in _document_xml(client.get(url))  # signed by the supervising org
    client.force_login(cast.secretary_a)
    assert client.get(url).status_code == 403
    client.force_login(cast.secretary_b)
    assert client.get(url).status_code == 404
    client.force_login(cast.committee_admin)
    assert client.post(url).status_code == 405
