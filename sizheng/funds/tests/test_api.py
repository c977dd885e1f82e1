"""The funds API: budgets, spending and execution — scoped like the screens, amounts as exact strings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.core.models import AuditEvent
from sizheng.funds.models import Budget, Spending
from sizheng.funds.tests.conftest import budget, spend
from sizheng.life.models import MeetingKind
from sizheng.study.tests.helpers import lecture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today")]
D = Decimal
BUDGETS, SPENDING, EXECUTION = "/api/v1/funds/budgets", "/api/v1/funds/spending", "/api/v1/funds/execution"


@pytest.fixture
def _today():
    with time_machine.travel(date(2026, 6, 15), tick=False):
        yield


def _post(client, user, url, data):
    client.force_login(user)
    return client.post(url, data, content_type="application/json")


def test_it_draws_up_a_budget_and_answers_409_to_a_stale_version(client, fc):
    data = {
        "unit_id": fc.unit_a.pk,
        "year": 2026,
        "amounts": {"study": "1234.50", "care": 0.1},
        "note": "年初",
    }
    response = _post(client, fc.manager, BUDGETS, data)
    assert response.status_code == 201
    body = response.json()
    assert body["total"] == "1234.60" and body["version"] == 1
    assert [(line["category"], line["amount"]) for line in body["lines"]][:3] == [
        ("study", "1234.50"), ("position", "0.00"), ("care", "0.10"),
    ]  # fmt: skip
    b = Budget.objects.get()
    assert AuditEvent.objects.filter(action="funds_budget_create", object_id=str(b.pk)).exists()
    again = _post(client, fc.manager, BUDGETS, {**data, "amounts": {"study": "1"}, "version": 1})
    assert again.status_code == 200 and again.json()["version"] == 2 and again.json()["total"] == "1.00"
    stale = _post(client, fc.manager, BUDGETS, {**data, "version": 1})
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["detail"]
    assert _post(client, fc.manager, BUDGETS, {**data, "version": None}).status_code == 409


def test_it_refuses_bad_budgets_readers_and_outsiders(client, fc):
    data = {"unit_id": fc.unit_a.pk, "year": 2026, "amounts": {"study": "-1"}}
    response = _post(client, fc.manager, BUDGETS, data)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"loc": ["study"], "message": "“学习教育”预算不能为负数。"}]
    response = _post(client, fc.manager, BUDGETS, {**data, "amounts": {"study": "abc"}})
    assert response.status_code == 422 and response.json()["errors"][0]["message"] == "应为数字。"
    assert _post(client, fc.leader, BUDGETS, {**data, "amounts": {}}).status_code == 403
    assert _post(client, fc.outsider, BUDGETS, {**data, "amounts": {}}).status_code == 404
    assert (
        _post(client, fc.manager, BUDGETS, {**data, "unit_id": fc.unit_c.pk, "amounts": {}}).status_code
        == 404
    )
    assert not Budget.objects.exists()


def test_it_lists_budgets_in_scope(client, fc):
    budget(fc)
    budget(fc, year=2025)
    budget(fc, unit=fc.unit_c)
    client.force_login(fc.committee_admin)
    assert client.get(BUDGETS).json()["count"] == 3
    assert client.get(BUDGETS, {"year": 2025}).json()["count"] == 1
    client.force_login(fc.leader)
    body = client.get(BUDGETS).json()
    assert body["count"] == 2 and {b["unit_id"] for b in body["items"]} == {fc.unit_a.pk}
    assert body["items"][0]["total"] == "100000.00"
    assert client.get(BUDGETS, {"unit_id": fc.unit_c.pk}).status_code == 404
    client.force_login(fc.outsider)
    assert client.get(BUDGETS).json() == {"count": 0, "items": []}
    client.logout()
    assert client.get(BUDGETS).status_code == 401


def test_it_records_spending_and_refuses_bad_input_in_chinese(client, fc):
    meeting = lecture(fc.cast, date(2026, 5, 20), kind=MeetingKind.THEME_DAY, topic="重温入党誓词")
    data = {"unit_id": fc.unit_a.pk, "spent_on": "2026-05-21", "amount": "1286.40", "category": "activity",
            "purpose": "主题党日", "activity_kind": "meeting", "activity_id": meeting.pk}  # fmt: skip
    response = _post(client, fc.manager, SPENDING, data)
    assert response.status_code == 201
    body = response.json()
    assert (
        body["amount"] == "1286.40"
        and body["activity_label"] == "主题党日：重温入党誓词"
        and body["quarter"] == 2
    )
    s = Spending.objects.get()
    assert s.amount == D("1286.40")
    assert AuditEvent.objects.filter(action="funds_spending_record", object_id=str(s.pk)).exists()
    bad = _post(client, fc.manager, SPENDING, {**data, "amount": "-3"})
    assert bad.status_code == 422 and bad.json()["errors"] == [
        {"loc": ["amount"], "message": "支出金额不能为负数。"}
    ]
    bad = _post(client, fc.manager, SPENDING, {**data, "amount": "12.345", "spent_on": "2026-07-01"})
    assert bad.status_code == 422 and {tuple(e["loc"]) for e in bad.json()["errors"]} == {
        ("amount",),
        ("spent_on",),
    }
    assert _post(client, fc.manager, SPENDING, {**data, "amount": None}).status_code == 422
    assert _post(client, fc.leader, SPENDING, data).status_code == 403
    assert _post(client, fc.outsider, SPENDING, data).status_code == 404
    assert _post(client, fc.manager_c, SPENDING, data).status_code == 404
    assert Spending.objects.count() == 1
    client.force_login(fc.manager)
    assert client.put(SPENDING, data, content_type="application/json").status_code == 405


def test_it_lists_spending_to_managers_only(client, fc):
    a = spend(fc, "0.01")
    spend(fc, "5", unit=fc.unit_c, category="care")
    client.force_login(fc.manager)
    body = client.get(SPENDING).json()
    assert body == {"count": 1, "items": [body["items"][0]]} and body["items"][0]["id"] == a.pk
    assert body["items"][0]["amount"] == "0.01"
    client.force_login(fc.committee_admin)
    assert client.get(SPENDING).json()["count"] == 2
    page = client.get(SPENDING, {"limit": 1, "offset": 1}).json()  # not the last page: counted
    assert page["count"] == 2 and len(page["items"]) == 1 and page["items"][0]["id"] == a.pk
    assert client.get(SPENDING, {"limit": 1}).json()["count"] == 2
    assert client.get(SPENDING, {"category": "care"}).json()["count"] == 1
    assert client.get(SPENDING, {"year": 2025}).json()["count"] == 0
    client.force_login(fc.leader)
    assert client.get(SPENDING).json()["count"] == 0
    assert client.get(SPENDING, {"unit_id": fc.unit_a.pk}).status_code == 403
    client.force_login(fc.outsider)
    assert client.get(SPENDING, {"unit_id": fc.unit_a.pk}).status_code == 404


def test_it_answers_the_execution_of_a_unit_in_scope(client, fc):
    budget(fc, study="100", care="50")
    spend(fc, "60.10", category="care", on=date(2026, 4, 1))
    client.force_login(fc.leader)
    body = client.get(EXECUTION, {"unit_id": fc.unit_a.pk, "year": 2026}).json()
    assert (body["budget"], body["spent"], body["remaining"], body["rate"]) == (
        "150.00",
        "60.10",
        "89.90",
        "40.1",
    )
    care = next(c for c in body["categories"] if c["category"] == "care")
    assert care == {"category": "care", "category_label": "关爱慰问", "budget": "50.00", "spent": "60.10",
                    "remaining": "-10.10", "rate": "120.2", "overspent": True}  # fmt: skip
    assert body["quarters"][1]["spent"] == "60.10" and body["quarters"][1]["by_category"]["care"] == "60.10"
    assert [w["kind"] for w in body["warnings"]] == ["overspend"]
    for user in (fc.outsider, fc.secretary_a, fc.manager_c):
        client.force_login(user)
        assert client.get(EXECUTION, {"unit_id": fc.unit_a.pk}).status_code == 404
    assert client.get(EXECUTION).status_code == 422


def test_it_keeps_the_api_lists_flat_as_rows_grow(client, fc):
    meeting = lecture(fc.cast, date(2026, 5, 20), kind=MeetingKind.THEME_DAY)
    budget(fc)
    spend(fc, "1", category="activity", activity_kind="meeting", activity_id=meeting.pk)
    client.force_login(fc.committee_admin)

    def count(url):
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    before = count(BUDGETS), count(SPENDING), count(f"{EXECUTION}?unit_id={fc.unit_a.pk}")
    for year in (2023, 2024, 2025):
        budget(fc, year=year)
        budget(fc, unit=fc.unit_b, year=year)
    for i in range(10):
        spend(fc, f"{i}.5", category="activity", activity_kind="meeting", activity_id=meeting.pk)
        spend(fc, f"{i}.25", unit=fc.unit_b)
    assert (count(BUDGETS), count(SPENDING), count(f"{EXECUTION}?unit_id={fc.unit_a.pk}")) == before
