"""困难诉求台账 (Excel): metadata rows in the user's scope, the filters of the list, an audit row, and
never a detail (the file is unzipped and searched for the planted canary)."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from sizheng.care import services
from sizheng.care.export import HEADERS, ledger_xlsx
from sizheng.care.models import CareCase, Category, Handler
from sizheng.core.models import AuditEvent

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 9, tzinfo=SH)
CANARY = "CANARYXLSX"


def _open(cast, user, **kw) -> CareCase:
    case = services.care_case_open(
        actor=user, person=cast.person(user), category=Category.PRESSURE, tier="sudden",
        description=f"{CANARY}-desc", **kw,
    )  # fmt: skip
    fresh = CareCase.objects.metadata_only().select_related("handler_org").get(pk=case.pk)
    if fresh.handler == Handler.SECRETARY and user != cast.outsider:
        services.care_case_transition(
            actor=cast.secretary_a,
            case=fresh,
            action="add_action",
            version=fresh.version,
            note=f"{CANARY}-note",
        )
    return case


def _unzipped(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def _rows(data: bytes) -> list[tuple]:
    ws = load_workbook(io.BytesIO(data), read_only=True).active
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


@time_machine.travel(NOW, tick=False)
def test_it_exports_the_ledger_without_details_and_audits_it(client, cast):
    _open(cast, cast.member)
    _open(cast, cast.member, handler=Handler.UNION)
    _open(cast, cast.outsider)
    client.force_login(cast.committee_admin)
    resp = client.get(reverse("care:ledger"))
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")
    text = _unzipped(resp.content)
    assert CANARY not in text and "工作压力" not in text and "意外致困" not in text
    rows = _rows(resp.content)
    assert rows[0][0] == "困难诉求台账" and "不含困难类别" in rows[1][0]
    assert list(rows[2]) == HEADERS
    data = rows[3:]
    assert len(data) == 3 and {r[2] for r in data} == {"刘洋", "孙丽"}
    assert {r[6] for r in data} == {"党组织书记", "工会"} and {r[8] for r in data} == {"受理"}
    event = AuditEvent.objects.get(action="care_ledger_export", actor=cast.committee_admin)
    assert event.detail["rows"] == 3


@time_machine.travel(NOW, tick=False)
def test_it_exports_only_the_scope_and_the_filters(client, cast):
    _open(cast, cast.member)
    _open(cast, cast.member, handler=Handler.UNION)
    _open(cast, cast.outsider)
    client.force_login(cast.secretary_a)
    assert len(_rows(client.get(reverse("care:ledger")).content)[3:]) == 1
    client.force_login(cast.secretary_b)
    assert _rows(client.get(reverse("care:ledger")).content)[3:] == []
    client.force_login(cast.committee_admin)
    rows = _rows(client.get(reverse("care:ledger"), {"handler": "union"}).content)[3:]
    assert len(rows) == 1 and rows[0][6] == "工会"
    assert client.post(reverse("care:ledger")).status_code == 405


@time_machine.travel(NOW, tick=False)
def test_it_writes_days_and_dates_as_cells(cast):
    case = _open(cast, cast.member)
    fresh = CareCase.objects.metadata_only().select_related("handler_org").get(pk=case.pk)
    CareCase.objects.filter(pk=case.pk).update(opened_at=datetime(2026, 3, 1, 9, tzinfo=SH))
    fresh.opened_at = datetime(2026, 3, 1, 9, tzinfo=SH)
    row = _rows(ledger_xlsx([fresh]))[2]  # no note row: title, header, data
    assert row[0] == 1 and row[1].date() == date(2026, 3, 1) and row[9] == 9 and row[13] == 0
