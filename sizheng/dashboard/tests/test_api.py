"""The dashboard API: the caller's cards and one card's values, with the screens' access rules."""

from __future__ import annotations

import pytest
import time_machine

from sizheng.dashboard.tests.conftest import TODAY, comply_quarter

pytestmark = pytest.mark.django_db
API = "/api/v1/dashboard"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def test_it_lists_the_callers_cards(client, cast):
    client.force_login(cast.committee_admin)
    body = client.get(f"{API}/cards").json()
    assert body["scope"] == "all" and body["year"] == 2026
    assert [c["name"] for c in body["items"]] == [
        "compliance",
        "duties",
        "talks",
        "care",
        "insight",
        "assess",
    ]
    assert body["count"] == 6
    first = body["items"][0]
    assert first["api_url"] == f"{API}/cards/compliance?scope=all&year=2026"
    assert first["url"] == "/dashboard/cards/compliance/?scope=all&year=2026&full=1"
    assert first["metrics"] == ["life.compliance_rate"]
    client.force_login(cast.member)
    assert [c["name"] for c in client.get(f"{API}/cards").json()["items"]] == [
        "my_duties", "my_meetings", "my_study", "my_requests"
    ]  # fmt: skip
    client.force_login(cast.secretary_a)
    body = client.get(f"{API}/cards").json()
    assert body["scope"] == f"org:{cast.branch_a1.pk}"


def test_it_gives_a_cards_values_as_json(client, cast):
    comply_quarter(cast, cast.branch_a1, 2026, 2)
    client.force_login(cast.committee_admin)
    response = client.get(f"{API}/cards/compliance", {"scope": "all", "year": 2026})
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "compliance" and body["link"].startswith("/life/compliance/?year=2026")
    rows = {r["name"]: r for r in body["data"]["rows"]}
    assert rows[cast.branch_a1.name]["latest"] == 100.0
    assert rows[cast.branch_a2.name]["lagging"] is True
    cell = rows[cast.branch_a2.name]["cells"][2]  # Q3: nothing due yet
    assert cell == {
        "value": None,
        "text": "—",
        "reason": "本期没有已到期的组织生活要求，无法计算。",
        "period": "2026-Q3",
        "status": "none",
    }


def test_it_answers_404_outside_the_callers_scope(client, cast):
    client.force_login(cast.secretary_a)
    assert client.get(f"{API}/cards", {"scope": "all"}).status_code == 404
    response = client.get(f"{API}/cards/gaps", {"scope": f"org:{cast.branch_b1.pk}"})
    assert response.status_code == 404 and response.json()["detail"]
    assert client.get(f"{API}/cards/gaps", {"scope": f"org:{cast.branch_a1.pk}"}).status_code == 200
    assert client.get(f"{API}/cards/compliance", {"scope": "me"}).status_code == 404
    assert client.get(f"{API}/cards/nope").status_code == 404
    client.force_login(cast.outsider)
    assert client.get(f"{API}/cards", {"scope": f"unit:{cast.unit_a.pk}"}).status_code == 404
    client.logout()
    assert client.get(f"{API}/cards").status_code == 401
