"""The rounds API: GET /api/v1/assess/rounds, /rounds/{id}, /rounds/{id}/results and
/rounds/{id}/targets/{tid} — scoped like the screens, results only where they may be seen."""

from __future__ import annotations

from datetime import date

import pytest

from sizheng.assess import results
from sizheng.assess.models import RoundState
from sizheng.assess.tests.conftest import build_small_system
from sizheng.assess.tests.test_results import _close, target_of, three
from sizheng.core.apitools import api_token_issue
from sizheng.core.models import AuditEvent

pytestmark = pytest.mark.django_db
ROUNDS = "/api/v1/assess/rounds"


def test_the_committee_lists_rounds_and_reads_results(client, ac, small_system):
    published = three(ac, small_system, state=RoundState.PUBLISHED, use_topsis=True, end=date(2025, 12, 31),
                      start=date(2025, 1, 1), title="2025年度测试考核")  # fmt: skip
    computed = three(ac, build_small_system(year=2027))
    client.force_login(ac.committee_admin)
    body = client.get(ROUNDS).json()
    assert body["count"] == 2 and [r["id"] for r in body["items"]] == [computed.pk, published.pk]
    item = body["items"][1]
    assert item["state"] == "published" and item["state_label"] == "已发布" and item["target_count"] == 3
    assert (
        item["system_name"] == "测试体系"
        and item["owner_org_name"] == ac.root.name
        and item["results_visible"]
    )
    page = client.get(ROUNDS, {"limit": 1, "offset": 1}).json()
    assert page["count"] == 2 and [r["id"] for r in page["items"]] == [published.pk]

    detail = client.get(f"{ROUNDS}/{computed.pk}").json()
    assert detail["state"] == "computed" and detail["record"]["sensitivity"]["samples"] == 1000

    body = client.get(f"{ROUNDS}/{published.pk}/results").json()
    assert body["round"]["id"] == published.pk
    assert body["summary"]["count"] == 3 and body["summary"]["median"] == pytest.approx(79.6)
    assert [(d["grade"], d["count"]) for d in body["summary"]["distribution"]] == [
        ("好", 0), ("较好", 1), ("一般", 1), ("较差", 1)
    ]  # fmt: skip
    assert [t["org_id"] for t in body["targets"]] == [ac.general_b.pk, ac.committee_a.pk, ac.leading_a.pk]
    assert body["targets"][0]["closeness"] == pytest.approx(0.9) and body["targets"][0]["rank_max"] == 2
    assert body["targets"][2]["missing"] == ["2.1"]
    before = AuditEvent.objects.count()
    assert client.get(f"{ROUNDS}/{computed.pk}/results").status_code == 200  # managers see computed results
    assert AuditEvent.objects.count() == before  # reads write nothing


def test_a_unit_reads_its_own_result_with_rectification(client, ac, small_system):
    first = three(ac, small_system, state=RoundState.PUBLISHED, end=date(2025, 12, 31), start=date(2025, 1, 1),
                  title="2025年度测试考核")  # fmt: skip
    opened = results.open_rectification(first, actor=ac.committee_admin)
    _close(next(d for d in opened if d.assignee_org_id == ac.committee_a.pk), ac)
    second = three(ac, build_small_system(year=2027), state=RoundState.PUBLISHED)
    results.open_rectification(second, actor=ac.committee_admin)
    unpublished = three(ac, build_small_system(year=2028), start=date(2028, 1, 1), end=date(2028, 12, 31))
    own = target_of(second, ac.committee_a)

    client.force_login(ac.unit_boss)
    body = client.get(ROUNDS).json()
    assert {r["id"]: r["results_visible"] for r in body["items"]} == {
        first.pk: True, second.pk: True, unpublished.pk: False
    }  # fmt: skip
    assert client.get(f"{ROUNDS}/{unpublished.pk}").json()["record"] is None
    assert client.get(f"{ROUNDS}/{unpublished.pk}/results").status_code == 404
    targets = client.get(f"{ROUNDS}/{second.pk}/results").json()["targets"]
    assert [t["org_id"] for t in targets] == [ac.committee_a.pk]  # only what the unit may see

    response = client.get(f"{ROUNDS}/{second.pk}/targets/{own.pk}")
    assert response.status_code == 200
    d = response.json()
    assert d["total"] == pytest.approx(79.6) and d["grade"] == "一般" and d["rank"] == 2 and d["rank_of"] == 3
    assert [g["code"] for g in d["groups"]] == ["1", "2"] and d["groups"][0]["subtotal"] == pytest.approx(42)
    assert [line["code"] for line in d["weakest"]] == ["1.2", "2.2"]
    assert d["weakest"][0]["diff"] == pytest.approx(50 - 235 / 3)
    assert [(x["code"], x["state"]) for x in d["duties"]] == [("1.2", "assigned")]
    assert d["previous"]["round_id"] == first.pk
    assert [(x["code"], x["closed"]) for x in d["previous"]["duties"]] == [("1.2", True)]

    other = target_of(second, ac.general_b)
    assert client.get(f"{ROUNDS}/{second.pk}/targets/{other.pk}").status_code == 404
    assert client.get(f"{ROUNDS}/{first.pk}/targets/{own.pk}").status_code == 404  # wrong round
    ghost = target_of(unpublished, ac.committee_a)
    assert client.get(f"{ROUNDS}/{unpublished.pk}/targets/{ghost.pk}").status_code == 404

    weak = f"{ROUNDS}/{second.pk}/targets/{target_of(second, ac.leading_a).pk}"
    assert client.get(weak).status_code == 404  # the 党组 is outside the secretary's tree
    client.force_login(ac.committee_admin)
    detail = client.get(weak).json()
    assert detail["missing_lines"][0]["code"] == "2.1"
    assert detail["missing_lines"][0]["missing_text"] == "无数据，权重已按比例分配给同级指标"


def test_outsiders_get_404_and_tokens_work(client, ac, small_system):
    a = three(ac, small_system, state=RoundState.PUBLISHED)
    own = target_of(a, ac.committee_a)
    client.force_login(ac.outsider)
    assert client.get(ROUNDS).json() == {"count": 0, "items": []}
    for url in (f"{ROUNDS}/{a.pk}", f"{ROUNDS}/{a.pk}/results", f"{ROUNDS}/{a.pk}/targets/{own.pk}"):
        response = client.get(url)
        assert response.status_code == 404 and response.json()["detail"]
    client.logout()
    assert client.get(ROUNDS).status_code == 401

    _, raw = api_token_issue(actor=ac.leader)
    headers = {"Authorization": f"Bearer {raw}"}
    body = client.get(ROUNDS, headers=headers).json()
    assert [r["id"] for r in body["items"]] == [a.pk]
    response = client.get(f"{ROUNDS}/{a.pk}/targets/{own.pk}", headers=headers)
    assert response.status_code == 200 and response.json()["org_id"] == ac.committee_a.pk
    assert client.get(f"{ROUNDS}/{a.pk}/results", headers=headers).status_code == 200
