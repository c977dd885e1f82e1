"""The care-case API: scoped metadata lists, opening a case (self or on behalf with consent), and the
detail whose T2 keys are absent for anyone who may not read them."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from sizheng.care import services
from sizheng.care.models import CareCase, Category, Handler, OpenedVia
from sizheng.core.models import AuditEvent

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 9, tzinfo=SH)
URL = "/api/v1/care-cases"
CANARY = "CANARYAPI"
DETAIL_KEYS = {"category", "category_label", "tier", "tier_label", "description", "actions"}


def _open(cast, user=None, **kw) -> CareCase:
    user = user or cast.member
    kw.setdefault("category", Category.CAREER)
    kw.setdefault("description", f"{CANARY}-desc")
    return services.care_case_open(actor=user, person=cast.person(user), **kw)


def _post(client, user, data):
    client.force_login(user)
    return client.post(URL, data, content_type="application/json")


@time_machine.travel(NOW, tick=False)
def test_it_lists_cases_in_scope_as_metadata(client, cast):
    a = _open(cast)
    b = _open(cast, handler=Handler.UNION)
    c = _open(cast, user=cast.outsider)
    client.force_login(cast.committee_admin)
    data = client.get(URL).json()
    assert data["count"] == 3 and {i["id"] for i in data["items"]} == {a.pk, b.pk, c.pk}
    item = next(i for i in data["items"] if i["id"] == a.pk)
    assert item["person_name"] == "刘洋" and item["state"] == "accepted" and item["state_label"] == "受理"
    assert item["handler_org_id"] == cast.branch_a1.pk and item["opened_via"] == "self"
    assert not DETAIL_KEYS & set(item)
    assert CANARY not in client.get(URL).content.decode()
    assert client.get(URL, {"handler": "union"}).json()["count"] == 1
    assert client.get(URL, {"org_id": cast.branch_c.pk}).json()["count"] == 1
    assert client.get(URL, {"from": "2026-03-11"}).json()["count"] == 0
    client.force_login(cast.secretary_a)
    assert {i["id"] for i in client.get(URL).json()["items"]} == {a.pk}
    client.force_login(cast.union)
    assert {i["id"] for i in client.get(URL).json()["items"]} == {b.pk}
    client.force_login(cast.outsider)
    assert {i["id"] for i in client.get(URL).json()["items"]} == {c.pk}
    assert client.get(URL, {"org_id": cast.branch_a1.pk}).status_code == 404
    client.logout()
    assert client.get(URL).status_code == 401


@time_machine.travel(NOW, tick=False)
def test_it_opens_the_callers_own_case(client, cast):
    resp = _post(client, cast.member, {"category": "medical", "description": "住院", "handler": "secretary"})
    assert resp.status_code == 201
    body = resp.json()
    case = CareCase.objects.get()
    assert body["id"] == case.pk and body["opened_via"] == "self" and not DETAIL_KEYS & set(body)
    assert case.person == cast.person(cast.member) and case.description == "住院"
    assert AuditEvent.objects.filter(action="care_case_open", object_id=str(case.pk)).exists()


@time_machine.travel(NOW, tick=False)
def test_it_refuses_an_on_behalf_case_without_consent_with_422(client, cast):
    person = cast.person(cast.member)
    data = {"person_id": person.pk, "category": "family", "description": "家庭变故"}
    resp = _post(client, cast.secretary_a, data)
    assert resp.status_code == 422
    body = resp.json()
    messages = {tuple(e["loc"]): e["message"] for e in body["errors"]}
    assert "须先征得本人同意" in messages[("consent_on",)] and ("consent_method",) in messages
    assert not CareCase.objects.exists()
    resp = _post(client, cast.secretary_a, {**data, "consent_on": "2026-03-09", "consent_method": "written"})
    assert resp.status_code == 201
    case = CareCase.objects.get()
    assert case.opened_via == OpenedVia.SECRETARY and case.consent_recorded_by == cast.secretary_a


@time_machine.travel(NOW, tick=False)
def test_it_answers_404_and_422_when_opening(client, cast):
    outsider = cast.person(cast.outsider)
    resp = _post(client, cast.secretary_a, {"person_id": outsider.pk, "category": "other", "description": "x",
                                            "consent_on": "2026-03-09", "consent_method": "oral"})  # fmt: skip
    assert resp.status_code == 404
    resp = _post(client, cast.union, {"category": "other", "description": "x"})
    assert resp.status_code == 422 and resp.json()["errors"][0]["loc"] == ["person_id"]
    assert "请指定当事人" in resp.json()["errors"][0]["message"]
    resp = _post(client, cast.member, {"category": "spaceship", "description": ""})
    assert resp.status_code == 422 and {tuple(e["loc"])[-1] for e in resp.json()["errors"]} >= {"category"}
    resp = _post(client, cast.member, {"category": "other", "description": "x", "source_talk_id": 999999})
    assert resp.status_code == 404
    # A left person is still visible to their secretary, but can no longer have a case opened.
    person = cast.person(cast.member)
    person.left_on = date(2026, 3, 1)
    person.save(update_fields=["left_on"])
    resp = _post(client, cast.secretary_a, {"person_id": person.pk, "category": "other", "description": "x",
                                            "consent_on": "2026-03-09", "consent_method": "oral"})  # fmt: skip
    assert resp.status_code == 422 and "已离开本单位" in resp.content.decode()
    # Anyone with a roster record reports for themself, whatever their role.
    client.force_login(cast.leader)
    resp = client.post(URL, {"person_id": cast.person(cast.leader).pk, "category": "other", "description": "x"},
                       content_type="application/json")  # fmt: skip
    assert resp.status_code == 201
    assert not CareCase.objects.filter(person=person).exists()


@time_machine.travel(NOW, tick=False)
def test_it_returns_the_details_only_to_those_who_may_read_them(client, cast):
    case = _open(cast)
    fresh = CareCase.objects.metadata_only().select_related("handler_org").get(pk=case.pk)
    services.care_case_transition(actor=cast.secretary_a, case=fresh, action="add_action", version=1,
                                  note=f"{CANARY}-note")  # fmt: skip
    for user in (cast.member, cast.secretary_a):
        client.force_login(user)
        body = client.get(f"{URL}/{case.pk}").json()
        assert body["description"] == f"{CANARY}-desc" and body["category"] == "career"
        assert body["category_label"] == "职业发展" and body["tier"] == ""
        assert [a["note"] for a in body["actions"]] == ["", f"{CANARY}-note"]
        assert (
            AuditEvent.objects.filter(actor=user, action="read_sensitive", object_id=str(case.pk)).count()
            == 1
        )
    for user in (cast.committee_admin, cast.org_admin):
        client.force_login(user)
        resp = client.get(f"{URL}/{case.pk}")
        body = resp.json()
        assert resp.status_code == 200 and body["id"] == case.pk and body["state"] == "accepted"
        assert not DETAIL_KEYS & set(body) and CANARY not in resp.content.decode()
        assert "resolved_at" in body and body["resolved_at"] is None  # metadata keys stay, even when empty
        assert not AuditEvent.objects.filter(actor=user, action="read_sensitive").exists()
    for user in (cast.outsider, cast.secretary_b, cast.leader):
        client.force_login(user)
        assert client.get(f"{URL}/{case.pk}").status_code == 404
