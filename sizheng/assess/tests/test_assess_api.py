"""The stateless method endpoints: POST /api/v1/assess/ahp, /entropy, /topsis.

They store nothing, so there is no database state or audit row to assert beyond "nothing was
written", and no scope (a caller computes on their own numbers): any logged-in user or token may
call them; anonymous callers get 401.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from sizheng.assess import methods
from sizheng.core.apitools import MSG_INVALID, MSG_METHOD, MSG_UNAUTHENTICATED, api_token_issue
from sizheng.core.models import AuditEvent

pytestmark = pytest.mark.django_db
AHP, ENTROPY, TOPSIS = "/api/v1/assess/ahp", "/api/v1/assess/entropy", "/api/v1/assess/topsis"
LEADER = [[1, 4, 3, 7], [1 / 4, 1, 1 / 3, 3], [1 / 3, 3, 1, 5], [1 / 7, 1 / 3, 1 / 5, 1]]


def post(client, url, data):
    # json.dumps as the client would, but NaN allowed through so the endpoint's own check is tested.
    return client.post(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def member_client(client, cast):
    client.force_login(cast.member)
    return client


def test_it_computes_ahp_weights_for_any_logged_in_user(member_client):
    before = AuditEvent.objects.count()
    response = post(member_client, AHP, {"matrix": LEADER, "ri_table": "saaty2005"})
    assert response.status_code == 200
    body = response.json()
    expected = methods.ahp(LEADER, ri_table="saaty2005")
    assert body["weights"] == pytest.approx(expected.weights)
    assert round(body["cr"], 3) == 0.044 and body["consistent"] is True
    assert body["ri_table"] == "saaty2005" and body["ri"] == 0.89 and body["priority"] == "eigenvector"
    np.testing.assert_allclose(body["matrix"], expected.matrix, rtol=0)
    assert (body["completed"], body["repaired"], body["warnings"], body["elements"]) == ([], [], [], None)
    assert AuditEvent.objects.count() == before  # stateless: nothing written


def test_it_completes_pairs_and_repairs_forms(member_client):
    response = post(
        member_client,
        AHP,
        {"elements": ["a", "b", "c", "d"], "pairs": [["a", "b", 1], ["a", "c", 5], ["a", "d", 2], ["b", "c", 3], ["b", "d", 4]],
         "ri_table": "donegan_dodd"},
    )  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["elements"] == ["a", "b", "c", "d"]
    [[a, b, value]] = body["completed"]
    assert (a, b) == ("c", "d") and value == pytest.approx(0.7303, abs=1e-4)
    assert body["weights"] == pytest.approx([0.3738, 0.392, 0.0985, 0.1357], abs=1e-4)

    form = {"matrix": [[1, 3, 5], [None, 1, 2], [None, None, 1]], "repair": True, "priority": "rgmm"}
    response = post(member_client, AHP, form)
    assert response.status_code == 200
    body = response.json()
    assert body["matrix"][2][0] == pytest.approx(0.2) and body["priority"] == "rgmm"
    assert [cell[:3] for cell in body["repaired"]] == [[1, 0, None], [2, 0, None], [2, 1, None]]


def test_it_answers_422_with_the_method_sentence(member_client):
    response = post(member_client, AHP, {"matrix": [[1, 2, 4], [0.5, 1, 3], [0.25, 0.5, 1]]})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith("判断矩阵第 2 行第 3 列的值 3 与第 3 行第 2 列的值 0.5 不互为倒数")
    assert body["errors"] == [{"loc": ["body", "payload", "matrix"], "message": body["detail"]}]

    response = post(member_client, AHP, {"elements": ["甲", "乙", "丙"], "pairs": [["甲", "乙", 2]]})
    assert response.status_code == 422 and "{甲、乙}；{丙}" in response.json()["detail"]

    response = post(member_client, AHP, {"matrix": [[1, float("nan")], [1, 1]]})
    assert response.status_code == 422 and "不是有限的数字" in response.json()["detail"]

    both = post(member_client, AHP, {"matrix": [[1]], "elements": ["a"], "pairs": []})
    assert both.status_code == 422 and "不要同时提供" in both.json()["detail"]
    neither = post(member_client, AHP, {})
    assert neither.status_code == 422 and neither.json()["detail"].startswith("请提供判断矩阵")

    too_big = post(member_client, AHP, {"matrix": np.ones((16, 16)).tolist()})
    assert too_big.status_code == 422 and "只列到 15 阶" in too_big.json()["detail"]


def test_it_refuses_unknown_options_as_invalid_input(member_client):
    response = post(member_client, AHP, {"matrix": [[1]], "priority": "power"})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == MSG_INVALID
    assert body["errors"] == [{"loc": ["body", "payload", "priority"], "message": "取值不在允许的范围内。"}]
    response = post(
        member_client,
        TOPSIS,
        {"matrix": [[1]], "weights": [1], "criteria_types": [1], "normalization": "sum"},
    )
    assert response.status_code == 422 and response.json()["errors"][0]["loc"][-1] == "normalization"


def test_it_computes_entropy_weights(member_client):
    data = {"matrix": [[3.0, 100, 10, 7], [2.5, 80, 8, 5], [1.8, 50, 20, 11], [2.2, 70, 12, 9]]}
    response = post(member_client, ENTROPY, data)
    assert response.status_code == 200
    body = response.json()
    assert body["weights"] == pytest.approx([0.1146, 0.1981, 0.4185, 0.2689], abs=5.5e-5)
    assert body["variant"] == "raw" and body["shift"] == 0.0 and body["constant_columns"] == []
    response = post(
        member_client, ENTROPY, {**data, "variant": "minmax", "criteria_types": [-1, 1, -1, 1], "shift": 0.01}
    )
    assert response.status_code == 200 and response.json()["criteria_types"] == [-1, 1, -1, 1]

    bad = post(member_client, ENTROPY, {"matrix": [[1, -2], [3, 4]]})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("决策矩阵第 1 行第 2 列为负数")
    ragged = post(member_client, ENTROPY, {"matrix": [[1, 2], [3]]})
    assert ragged.status_code == 422 and "每行的长度应相同" in ragged.json()["detail"]


def test_it_ranks_by_topsis(member_client):
    data = {
        "matrix": [[1, 3000], [2, 3750], [5, 4500]],
        "weights": [0.5, 0.5],
        "criteria_types": [-1, 1],
        "normalization": "minmax",
    }
    response = post(member_client, TOPSIS, data)
    assert response.status_code == 200
    body = response.json()
    assert body["closeness"] == pytest.approx([0.5, 0.617, 0.5], abs=5e-4)
    assert body["ranking"] == [2, 1, 2] and body["normalization"] == "minmax"
    assert body["reference"]["ideal"] == [1.0, 1.0] and len(body["d_plus"]) == 3

    same = post(member_client, TOPSIS, {**data, "matrix": [[1, 2], [1, 2]]})
    assert same.status_code == 422 and "取值都相同" in same.json()["detail"]
    mismatch = post(member_client, TOPSIS, {**data, "weights": [1]})
    assert mismatch.status_code == 422 and mismatch.json()["detail"] == "权重有 1 项，应与指标数 2 一致。"
    assert mismatch.json()["errors"][0]["loc"] == ["body", "payload", "weights"]


def test_it_needs_a_login_or_a_token(client, cast):
    for url in (AHP, ENTROPY, TOPSIS):
        response = post(client, url, {"matrix": [[1]]})
        assert response.status_code == 401 and response.json()["detail"] == MSG_UNAUTHENTICATED
    _, raw = api_token_issue(actor=cast.outsider)
    response = client.post(
        TOPSIS,
        json.dumps({"matrix": [[1, 2], [3, 4]], "weights": [1, 1], "criteria_types": [1, 1]}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 200 and response.json()["ranking"] == [2, 1]


def test_it_answers_405_to_other_methods(member_client):
    for url in (AHP, ENTROPY, TOPSIS):
        response = member_client.get(url)
        assert response.status_code == 405 and response.json()["detail"] == MSG_METHOD


def test_it_documents_the_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for url in (AHP, ENTROPY, TOPSIS):
        assert "post" in paths[url]
