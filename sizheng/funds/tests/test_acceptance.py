"""Issue 8 acceptance for funds: the amounts add up to the cent in the ledger, the UI and the API, and a
unit that has spent little by Q4 gets the warning on the page and one "经费执行预警" duty."""

from __future__ import annotations

import io
import random
import re
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from sizheng.core.models import SentReminder
from sizheng.duties.models import Duty, SourceKind
from sizheng.funds import jobs
from sizheng.funds.models import Alert, Category
from sizheng.funds.tests.conftest import budget, spend

pytestmark = pytest.mark.django_db
D = Decimal
# Amounts that break binary floats (0.1 + 0.2, 1.005 …) and the largest cents.
AWKWARD = [
    "0.01",
    "0.10",
    "0.20",
    "0.07",
    "1.005",
    "2.675",
    "1234.56",
    "99999.99",
    "33.33",
    "0.99",
    "1286.40",
]


def _amounts(n: int) -> list[Decimal]:
    rng = random.Random(8)  # noqa: S311 (test data)
    out = [D(a).quantize(D("0.01")) if len(a.split(".")[1]) <= 2 else D(a[:-1]) for a in AWKWARD]
    out += [D(rng.randint(1, 9_999_999)) / 100 for _ in range(n - len(out))]
    return out


def _page_amount(html: str, element_id: str) -> Decimal:
    m = re.search(rf'id="{element_id}"[^>]*data-amount="([0-9.\-]+)"', html) or re.search(
        rf'data-amount="([0-9.\-]+)"[^>]*id="{element_id}"', html
    )
    assert m, element_id
    return D(m.group(1))


def _cell(value) -> Decimal:
    """An amount read back from the xlsx (openpyxl gives floats; their shortest repr is the decimal written)."""
    return D(str(value)).quantize(D("0.01"))


@time_machine.travel(date(2026, 11, 20), tick=False)
def test_it_adds_up_to_the_cent_in_the_ledger_the_page_and_the_api(client, fc):
    budget(
        fc,
        study="12345.67",
        position="8000.01",
        care="5000.5",
        activity="20000",
        training="7777.77",
        other="0.03",
    )
    amounts = _amounts(137)
    categories = Category.values
    for i, amount in enumerate(amounts):
        spend(
            fc, f"{amount}", category=categories[i % 6], on=date(2026, 1, 1) + timedelta(days=(i * 7) % 320)
        )
    spend(fc, "500.00", unit=fc.unit_c)  # another unit, never in unit A's totals
    spend(fc, "77.77", on=date(2025, 12, 31))  # another year
    expected = D(sum(int(a * 100) for a in amounts)) / 100  # integer cents: the reference
    client.force_login(fc.manager)

    # The ledger (Excel).
    response = client.get(reverse("funds:ledger"), {"unit": fc.unit_a.pk, "year": 2026})
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(book["支出明细"].iter_rows(min_row=4, values_only=True))
    data, total_row = rows[:-1], rows[-1]
    assert len(data) == len(amounts) and total_row[0] == "合计"
    assert sum((_cell(r[5]) for r in data), D("0")) == expected == _cell(total_row[5])
    execution_rows = list(book["执行情况"].iter_rows(min_row=4, values_only=True))
    lines = [r for r in execution_rows if r[2] not in ("小计", None, "") and r[0] != "合计"]
    assert len(lines) == 6 and sum((_cell(r[4]) for r in lines), D("0")) == expected
    subtotal = next(r for r in execution_rows if r[2] == "小计")
    assert _cell(subtotal[4]) == expected and _cell(subtotal[3]) == D("53123.98")
    assert _cell(execution_rows[-1][4]) == expected
    assert _cell(subtotal[5]) == D("53123.98") - expected

    # The pages: the spending list's total (over all its pages), the unit's page and the overview.
    html = client.get(reverse("funds:spending_list"), {"year": 2026}).content.decode()
    assert "第 1 / 3 页" in html
    assert _page_amount(html, "sz-list-total") == expected
    html = client.get(reverse("funds:unit", args=[fc.unit_a.pk]), {"year": 2026}).content.decode()
    assert _page_amount(html, "sz-spent") == expected
    assert _page_amount(html, "sz-remaining") == D("53123.98") - expected
    assert _page_amount(client.get(reverse("funds:overview")).content.decode(), "sz-total-spent") == expected

    # The API: the execution, and the spending list's items.
    body = client.get("/api/v1/funds/execution", {"unit_id": fc.unit_a.pk, "year": 2026}).json()
    assert D(body["spent"]) == expected and body["spent"] == f"{expected:.2f}"
    assert sum((D(c["spent"]) for c in body["categories"]), D("0")) == expected
    assert sum((D(q["spent"]) for q in body["quarters"]), D("0")) == expected
    items = client.get("/api/v1/funds/spending", {"unit_id": fc.unit_a.pk, "year": 2026, "limit": 500}).json()
    assert items["count"] == len(amounts)
    assert sum((D(i["amount"]) for i in items["items"]), D("0")) == expected
    assert all(re.fullmatch(r"\d+\.\d\d", i["amount"]) for i in items["items"])


def test_it_warns_of_a_q4_underspend_on_the_page_and_opens_one_duty(client, fc):
    with time_machine.travel(date(2026, 9, 20), tick=False):
        budget(fc, study="60000", activity="40000")
        spend(fc, "12000.00", on=date(2026, 3, 5))
        spend(fc, "7999.99", category="activity", on=date(2026, 7, 1))
        assert jobs.execution_warnings() == {"raised": 0, "cleared": 0}  # Q3: not yet
        client.force_login(fc.manager)
        assert "执行偏慢" not in client.get(reverse("funds:unit", args=[fc.unit_a.pk])).content.decode()
    with time_machine.travel(date(2026, 10, 9), tick=False):
        client.force_login(fc.manager)  # sessions expire: a new one in each travelled day
        html = client.get(reverse("funds:unit", args=[fc.unit_a.pk])).content.decode()
        assert 'data-warning="underspend"' in html and "执行率 20.0%" in html and "50%" in html
        assert "执行偏慢" in client.get(reverse("funds:overview")).content.decode()
        assert jobs.execution_warnings() == {"raised": 1, "cleared": 0}
        assert jobs.execution_warnings() == {"raised": 0, "cleared": 0}  # the same day again
    with time_machine.travel(date(2026, 10, 10), tick=False):
        assert jobs.execution_warnings() == {"raised": 0, "cleared": 0}  # and the next day
        duty = Duty.objects.get(source_kind=SourceKind.FUNDS)
        alert = Alert.objects.get()
        assert duty.title == "经费执行预警：财政局" and duty.assignee_org == fc.committee_a
        assert duty.source_id == alert.pk and alert.duty_id == duty.pk and alert.kind == "underspend"
        assert "执行率 20.0%" in duty.description and duty.due_on > date(2026, 10, 10)
        assert SentReminder.objects.filter(key=f"funds:{fc.unit_a.pk}:2026:underspend:all").exists()
        client.force_login(fc.manager)
        html = client.get(reverse("funds:unit", args=[fc.unit_a.pk])).content.decode()
        assert reverse("duties:detail", args=[duty.pk]) in html
        client.force_login(fc.leader)  # the unit's leader sees the warning too
        assert (
            'data-warning="underspend"'
            in client.get(reverse("funds:unit", args=[fc.unit_a.pk])).content.decode()
        )
