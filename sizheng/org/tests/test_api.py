"""The org API: scoped lists, 404 outside scope, identifiers masked, flat query counts."""

from __future__ import annotations

import pytest

from sizheng.org.models import Org, Person
from sizheng.org.testing import make_person

pytestmark = pytest.mark.django_db


def _get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def test_it_lists_every_org_for_the_committee_admin(client, cast):
    data = _get(client, cast.committee_admin, "/api/v1/orgs").json()
    assert data["count"] == Org.objects.count()
    a1 = next(o for o in data["items"] if o["code"] == "A1")
    assert a1 == {
        "id": cast.branch_a1.pk, "code": "A1", "name": cast.branch_a1.name, "kind": "branch", "kind_label": "党支部",
        "parent_id": cast.committee_a.pk, "unit_ids": [cast.unit_a.pk],
    }  # fmt: skip


def test_it_scopes_the_org_list_and_hides_others_with_404(client, cast):
    data = _get(client, cast.secretary_a, "/api/v1/orgs").json()
    assert [o["code"] for o in data["items"]] == ["A1"]
    assert _get(client, cast.secretary_a, f"/api/v1/orgs/{cast.branch_b1.pk}").status_code == 404
    detail = _get(client, cast.secretary_a, f"/api/v1/orgs/{cast.branch_a1.pk}").json()
    assert detail["full_name"].startswith("中共") and detail["member_count"] == 3


def test_it_scopes_people_and_masks_identifiers(client, cast):
    data = _get(client, cast.secretary_a, "/api/v1/people").json()
    assert {p["name"] for p in data["items"]} == {"王建国", "赵敏", "刘洋"}
    liu = next(p for p in data["items"] if p["name"] == "刘洋")
    person = Person.objects.get(pk=liu["id"])
    assert liu["id_number_masked"] != person.id_number and liu["id_number_masked"].endswith(
        person.id_number[-4:]
    )
    assert "*" in liu["phone_masked"]
    body = str(data)
    assert person.id_number not in body and person.phone not in body
    other = Person.objects.get(name="李红梅")
    assert (
        _get(client, cast.secretary_a, f"/api/v1/people/{other.pk}").json()["detail"]
        == "未找到该对象，或您无权查看。"
    )
    assert _get(client, cast.secretary_a, f"/api/v1/people/{other.pk}").status_code == 404


def test_it_filters_people(client, cast):
    data = _get(
        client, cast.committee_admin, "/api/v1/people", unit_id=cast.unit_a.pk, political_status="masses"
    ).json()
    assert [p["name"] for p in data["items"]] == ["周杰"]
    data = _get(client, cast.committee_admin, "/api/v1/people", is_leader="true").json()
    assert [p["name"] for p in data["items"]] == ["陈志强"]


def test_it_gives_the_outsider_only_themself(client, cast):
    data = _get(client, cast.outsider, "/api/v1/people").json()
    assert [p["name"] for p in data["items"]] == ["孙丽"]
    assert _get(client, cast.outsider, f"/api/v1/orgs/{cast.branch_a1.pk}").status_code == 404


def test_it_requires_authentication(client, cast):
    assert client.get("/api/v1/people").status_code == 401


def test_it_keeps_list_queries_flat(client, cast, django_assert_max_num_queries):
    client.force_login(cast.committee_admin)
    with django_assert_max_num_queries(20) as ctx:
        client.get("/api/v1/people", {"limit": 100})
        client.get("/api/v1/orgs", {"limit": 100})
    for i in range(30):
        make_person(f"新人{i}", cast.unit_b, org=cast.branch_b1)
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        client.get("/api/v1/people", {"limit": 100})
        client.get("/api/v1/orgs", {"limit": 100})
