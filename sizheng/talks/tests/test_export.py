"""谈心谈话台账 (Excel): who, when, mode, status and org only — no T2 inside the unzipped file; scoped; audited."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from sizheng.core.models import AuditEvent
from sizheng.org.testing import make_person
from sizheng.talks.tests.test_services import CANARY, TODAY, record

pytestmark = pytest.mark.django_db


def _unzipped(body: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


@time_machine.travel(TODAY, tick=False)
def test_it_exports_the_ledger_without_any_content(client, cast):
    record(cast, is_wellbeing=True, counterparts=[cast.person(cast.member), cast.person(cast.org_admin)])
    record(cast, mode="phone", held_on=TODAY - timedelta(days=9))
    other = make_person("吴晓", cast.unit_b, org=cast.branch_b1)
    record(cast, actor=cast.secretary_b, org=cast.branch_b1, initiator=cast.person(cast.secretary_b),
           counterparts=[other])  # fmt: skip
    client.force_login(cast.secretary_a)
    response = client.get(reverse("talks:ledger_xlsx"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = response.content
    text = _unzipped(body)
    for marker in (CANARY, "家庭变故或困难必谈", "心理压力", "涉及心理健康"):
        assert marker not in text, marker
    rows = [list(r) for r in load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True)]
    assert rows[0][0] == "谈心谈话台账"
    assert rows[2] == ["序号", "谈话日期", "谈话人", "谈话对象", "谈话方式", "状态", "记录所在党组织"]
    data = rows[3:]
    assert len(data) == 2  # not branch B1's talk
    assert data[0][2:] == ["王建国", "刘洋、赵敏", "面谈", "已谈话", "市财政局机关第一支部委员会"]
    assert data[1][4] == "电话"
    event = AuditEvent.objects.get(action="talks_ledger_export", actor=cast.secretary_a)
    assert event.detail["rows"] == 2 and CANARY not in json.dumps(event.detail, ensure_ascii=False)
    assert not AuditEvent.objects.filter(action="read_sensitive").exists()


@time_machine.travel(TODAY, tick=False)
def test_it_exports_the_filtered_ledger_only(client, cast):
    record(cast)
    record(cast, mode="phone")
    client.force_login(cast.committee_admin)
    body = client.get(reverse("talks:ledger_xlsx"), {"mode": "phone"}).content
    rows = list(load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))[3:]
    assert [r[4] for r in rows] == ["电话"]
    assert AuditEvent.objects.get(action="talks_ledger_export").detail["query"] == "mode=phone"


@time_machine.travel(TODAY, tick=False)
def test_it_exports_a_members_own_talks_only(client, cast):
    record(cast)
    record(cast, counterparts=[cast.person(cast.org_admin)])
    client.force_login(cast.member)
    body = client.get(reverse("talks:ledger_xlsx")).content
    rows = list(load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))[3:]
    assert [r[3] for r in rows] == ["刘洋"]
    assert client.post(reverse("talks:ledger_xlsx")).status_code == 405
