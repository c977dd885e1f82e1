"""The funds screens: who sees what (404 / 403), writes with audit, 405, 422, 409, flat query counts."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sizheng.core.models import AuditEvent
from sizheng.funds.models import Budget, Spending
from sizheng.funds.tests.conftest import budget, spend
from sizheng.life.models import MeetingKind
from sizheng.study.tests.helpers import lecture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today")]
D = Decimal
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def _today():
    with time_machine.travel(date(2026, 6, 15), tick=False):
        yield


def _audited(action, obj=None) -> bool:
    qs = AuditEvent.objects.filter(action=action)
    return (qs.filter(object_id=str(obj.pk)) if obj is not None else qs).exists()


def _amount(html: str, element_id: str) -> Decimal:
    m = re.search(rf'id="{element_id}"[^>]*data-amount="([0-9.\-]+)"', html) or re.search(
        rf'data-amount="([0-9.\-]+)"[^>]*id="{element_id}"', html
    )
    assert m, f"no {element_id} on the page"
    return Decimal(m.group(1))


def _spending_data(fc, **kw):
    data = {"unit": fc.unit_a.pk, "spent_on": "2026-06-01", "amount": "1,286.40", "category": "activity",
            "purpose": "七一主题党日活动", "activity_kind": "", "activity_id": ""}  # fmt: skip
    data.update(kw)
    return data


# --- access --------------------------------------------------------------------------------------


def test_it_shows_a_units_execution_to_its_managers_and_leaders_only(client, fc):
    budget(fc)
    spend(fc, "100.05")
    url = reverse("funds:unit", args=[fc.unit_a.pk])
    for user in (fc.committee_admin, fc.manager, fc.leader):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert _amount(response.content.decode(), "sz-spent") == D("100.05")
    for user in (
        fc.secretary_a,
        fc.org_admin,
        fc.member,
        fc.outsider,
        fc.manager_c,
        fc.counselor,
        fc.auditor,
    ):
        client.force_login(user)
        assert client.get(url).status_code == 404, user
    client.force_login(fc.manager)
    assert client.get(reverse("funds:unit", args=[fc.unit_c.pk])).status_code == 404
    assert client.get(reverse("funds:unit", args=[999999])).status_code == 404


def test_it_lists_the_readable_units_on_the_overview(client, fc):
    budget(fc)
    client.force_login(fc.leader)
    html = client.get(reverse("funds:overview")).content.decode()
    assert "市财政局" in html and "市司法局" not in html and "支出台账" not in html
    client.force_login(fc.committee_admin)
    html = client.get(reverse("funds:overview")).content.decode()
    assert all(name in html for name in ("市财政局", "市教育局", "市司法局")) and "未编制" in html
    client.force_login(fc.secretary_a)
    response = client.get(reverse("funds:overview"))
    assert response.status_code == 200 and "您不负责任何单位的经费管理" in response.content.decode()


def test_it_hides_spending_rows_from_leaders_and_outsiders(client, fc):
    s = spend(fc, "12.34")
    client.force_login(fc.leader)
    assert client.get(reverse("funds:spending_detail", args=[s.pk])).status_code == 404
    assert "12.34" not in client.get(reverse("funds:spending_list")).content.decode()
    assert client.get(reverse("funds:ledger")).status_code == 403
    for user in (fc.outsider, fc.manager_c, fc.secretary_a):
        client.force_login(user)
        for name in ("funds:spending_detail", "funds:spending_edit", "funds:spending_delete"):
            assert client.get(reverse(name, args=[s.pk])).status_code == 404
        assert client.post(reverse("funds:spending_delete", args=[s.pk]), {"version": 1}).status_code == 404
    assert Spending.objects.filter(pk=s.pk).exists()


# --- budget --------------------------------------------------------------------------------------


def test_it_draws_up_a_budget_on_the_page_with_audit(client, fc):
    client.force_login(fc.manager)
    url = reverse("funds:budget_edit", args=[fc.unit_a.pk, 2026])
    assert client.get(url).status_code == 200
    data = {"amount_study": "30,000.00", "amount_care": "15000.5", "note": "年初预算", "version": ""}
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("funds:unit", args=[fc.unit_a.pk])
    )
    b = Budget.objects.get()
    assert b.lines.get(category="care").amount == D("15000.50") and b.lines.get(category="other").amount == 0
    assert _audited("funds_budget_create", b)
    # The edit form shows the amounts with two places and the version; a stale version gets 409.
    html = client.get(url).content.decode()
    assert 'value="15000.50"' in html and 'name="version" value="1"' in html
    assert client.post(url, {**data, "amount_care": "16000", "version": "1"}).status_code == 302
    stale = client.post(url, {**data, "amount_care": "17000", "version": "1"})
    assert stale.status_code == 409 and "已被他人修改" in stale.content.decode()
    assert Budget.objects.get().version == 2 and b.lines.get(category="care").amount == D("16000.00")


def test_it_refuses_a_negative_budget_with_422_and_readers_with_403(client, fc):
    url = reverse("funds:budget_edit", args=[fc.unit_a.pk, 2026])
    client.force_login(fc.manager)
    response = client.post(url, {"amount_study": "-100", "version": ""})
    assert response.status_code == 422 and "学习教育（元）不能为负数。" in response.content.decode()
    client.force_login(fc.leader)
    assert client.get(url).status_code == 403
    assert client.post(url, {"amount_study": "100"}).status_code == 403
    client.force_login(fc.outsider)
    assert client.post(url, {"amount_study": "100"}).status_code == 404
    assert not Budget.objects.exists()


def test_it_answers_405_to_wrong_methods(client, fc):
    s = spend(fc, "1")
    client.force_login(fc.manager)
    assert client.put(reverse("funds:budget_edit", args=[fc.unit_a.pk, 2026])).status_code == 405
    assert client.post(reverse("funds:overview")).status_code == 405
    assert client.post(reverse("funds:unit", args=[fc.unit_a.pk])).status_code == 405
    assert client.post(reverse("funds:spending_list")).status_code == 405
    assert client.post(reverse("funds:ledger")).status_code == 405
    assert client.post(reverse("funds:spending_detail", args=[s.pk])).status_code == 405
    assert client.delete(reverse("funds:spending_delete", args=[s.pk])).status_code == 405
    assert client.put(reverse("funds:spending_edit", args=[s.pk])).status_code == 405
    assert client.patch(reverse("funds:spending_create")).status_code == 405


# --- spending ------------------------------------------------------------------------------------


def test_it_records_a_spending_with_a_receipt_and_an_activity(client, fc):
    meeting = lecture(fc.cast, date(2026, 5, 20), kind=MeetingKind.THEME_DAY, topic="重温入党誓词")
    client.force_login(fc.manager)
    url = reverse("funds:spending_create")
    assert client.get(url).status_code == 200
    receipt = SimpleUploadedFile("发票.pdf", PDF, content_type="application/pdf")
    response = client.post(
        url, _spending_data(fc, activity_kind="meeting", activity_id=meeting.pk, receipt=receipt)
    )
    s = Spending.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "funds:spending_detail", args=[s.pk]
    )
    assert s.amount == D("1286.40") and s.activity_id == meeting.pk and s.receipt is not None
    assert _audited("funds_spending_record", s)
    html = client.get(response["Location"]).content.decode()
    assert "主题党日：重温入党誓词" in html and "1,286.40" in html
    assert client.get(reverse("core:file", args=[s.receipt.uid])).status_code == 200
    client.force_login(fc.committee_admin)  # not the uploader, but manages the unit
    assert client.get(reverse("core:file", args=[s.receipt.uid])).status_code == 200
    client.force_login(fc.leader)
    assert client.get(reverse("core:file", args=[s.receipt.uid])).status_code == 404


def test_it_refuses_bad_spending_input_with_422_and_non_managers_with_403(client, fc):
    client.force_login(fc.manager)
    url = reverse("funds:spending_create")
    response = client.post(url, _spending_data(fc, amount="-5"))
    assert response.status_code == 422 and "支出金额（元）不能为负数。" in response.content.decode()
    response = client.post(url, _spending_data(fc, activity_kind="meeting"))
    assert response.status_code == 422 and "选择了活动类型时请填写活动编号" in response.content.decode()
    response = client.post(url, _spending_data(fc, activity_kind="care_case", activity_id=424242))
    assert response.status_code == 422 and "未找到编号为 424242 的困难诉求" in response.content.decode()
    response = client.post(url, _spending_data(fc, unit=fc.unit_c.pk))  # not a unit this manager has
    assert response.status_code == 422
    for user in (fc.leader, fc.secretary_a, fc.member):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, _spending_data(fc)).status_code == 403
    assert not Spending.objects.exists()


def test_it_edits_a_spending_with_its_version(client, fc):
    s = spend(fc, "10.00")
    client.force_login(fc.manager)
    url = reverse("funds:spending_edit", args=[s.pk])
    html = client.get(url).content.decode()
    assert 'value="10.00"' in html and 'name="version" value="1"' in html and 'value="2026-03-10"' in html
    data = {**_spending_data(fc, amount="10.01", version=1)}
    data.pop("unit")
    assert client.post(url, data).status_code == 302
    s.refresh_from_db()
    assert s.amount == D("10.01") and s.version == 2 and _audited("funds_spending_update", s)
    stale = client.post(url, {**data, "amount": "99"})
    assert stale.status_code == 409 and "已被他人修改或删除" in stale.content.decode()
    assert client.post(url, {**data, "amount": "1.001", "version": 2}).status_code == 422
    s.refresh_from_db()
    assert s.amount == D("10.01")


def test_it_confirms_before_deleting_a_spending(client, fc):
    s = spend(fc, "66.60")
    client.force_login(fc.manager)
    url = reverse("funds:spending_delete", args=[s.pk])
    html = client.get(url).content.decode()
    assert "确认删除" in html and "66.60" in html and Spending.objects.exists()
    assert client.post(url, {"version": 5}).status_code == 409
    assert client.post(url, {}).status_code == 422
    response = client.post(url, {"version": 1})
    assert response.status_code == 302 and not Spending.objects.exists()
    assert AuditEvent.objects.filter(action="funds_spending_delete", object_id=str(s.pk)).exists()


def test_it_filters_and_totals_the_spending_list(client, fc):
    spend(fc, "0.10", category="care", purpose="慰问住院党员")
    spend(fc, "0.20", category="care", purpose="慰问老党员", on=date(2026, 4, 2))
    spend(fc, "5.00", category="study")
    spend(fc, "7.00", on=date(2025, 3, 1))
    spend(fc, "9.00", unit=fc.unit_c)
    client.force_login(fc.manager)
    url = reverse("funds:spending_list")
    assert _amount(client.get(url).content.decode(), "sz-list-total") == D("5.30")
    assert _amount(client.get(url, {"category": "care"}).content.decode(), "sz-list-total") == D("0.30")
    assert _amount(client.get(url, {"q": "老党员"}).content.decode(), "sz-list-total") == D("0.20")
    assert _amount(client.get(url, {"since": "2026-04-01"}).content.decode(), "sz-list-total") == D("0.20")
    assert _amount(client.get(url, {"year": "2025"}).content.decode(), "sz-list-total") == D("7.00")
    client.force_login(fc.committee_admin)
    assert _amount(client.get(url).content.decode(), "sz-list-total") == D("14.30")
    assert _amount(client.get(url, {"unit": fc.unit_c.pk}).content.decode(), "sz-list-total") == D("9.00")
    client.force_login(fc.secretary_a)
    assert "您不负责任何单位的经费管理" in client.get(url).content.decode()


def test_it_exports_the_ledger_with_audit(client, fc):
    spend(fc, "1.23")
    client.force_login(fc.manager)
    response = client.get(reverse("funds:ledger"), {"year": 2026})
    assert response.status_code == 200 and response["Content-Type"].startswith(
        "application/vnd.openxmlformats"
    )
    assert AuditEvent.objects.filter(action="funds_ledger_export", actor=fc.manager).exists()


# --- query counts ---------------------------------------------------------------------------------


def _queries(client, url, params=None) -> int:
    client.get(url, params or {})  # the first request of a session does a little more
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx.captured_queries)


def test_it_keeps_the_spending_list_flat_as_rows_grow(client, fc):
    meeting = lecture(fc.cast, date(2026, 5, 20), kind=MeetingKind.THEME_DAY)
    spend(fc, "1.01", category="activity", activity_kind="meeting", activity_id=meeting.pk)
    client.force_login(fc.manager)
    url = reverse("funds:spending_list")
    one = _queries(client, url)
    for i in range(12):
        spend(fc, f"{i}.37", category="activity", activity_kind="meeting", activity_id=meeting.pk)
        spend(fc, f"{i}.11", unit=fc.unit_a, category="care")
    assert _queries(client, url) == one
    assert _queries(client, reverse("funds:ledger")) == _queries(client, reverse("funds:ledger"))


def test_it_keeps_the_overview_and_unit_pages_flat_as_units_and_rows_grow(client, fc):
    budget(fc)
    spend(fc, "1.00")
    client.force_login(fc.committee_admin)
    overview, unit = reverse("funds:overview"), reverse("funds:unit", args=[fc.unit_a.pk])
    before = _queries(client, overview), _queries(client, unit)
    for unit_ in (fc.unit_b, fc.unit_c):
        budget(fc, unit=unit_)
        for i in range(10):
            spend(fc, f"{i}.99", unit=unit_, category="training")
    for i in range(10):
        spend(fc, f"{i}.49")
    assert (_queries(client, overview), _queries(client, unit)) == before
