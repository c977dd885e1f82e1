"""The talks API: the scoped metadata list, recording, and one talk whose T2 keys are absent for
callers who may not read them (and audited for those who may)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from sizheng.core.apitools import api_token_issue
from sizheng.core.models import AuditEvent
from sizheng.talks.models import Talk
from sizheng.talks.tests.test_services import CANARY, TODAY, record

pytestmark = pytest.mark.django_db
URL = "/api/v1/talks"
T2_KEYS = {"kind", "kind_label", "tags", "summary", "content", "is_wellbeing"}


def _get(client, user, url=URL, **params):
    client.force_login(user)
    return client.get(url, params)


def _post(client, user, data):
    client.force_login(user)
    return client.post(URL, data, content_type="application/json")


def _payload(cast, **over):
    data = {
        "org_id": cast.branch_a1.pk, "counterpart_ids": [cast.person(cast.member).pk],
        "held_on": (TODAY - timedelta(days=1)).isoformat(), "mode": "phone", "kind": "daily",
        "tags": ["工作"], "summary": "谈了工作安排。",
    }  # fmt: skip
    data.update(over)
    return data


def _reads(user, talk) -> int:
    return AuditEvent.objects.filter(
        actor=user, action="read_sensitive", object_type="talks.talk", object_id=str(talk.pk)
    ).count()


@time_machine.travel(TODAY, tick=False)
def test_it_lists_talks_in_scope_with_metadata_only(client, cast):
    a = record(cast, is_wellbeing=True)
    b = record(
        cast, counterparts=[cast.person(cast.org_admin)], mode="phone", held_on=TODAY - timedelta(days=30)
    )
    response = _get(client, cast.secretary_a)
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2 and [t["id"] for t in data["items"]] == [a.pk, b.pk]
    item = data["items"][0]
    assert set(item) == {"id", "org_id", "org_name", "held_on", "mode", "mode_label", "status", "status_label",
                         "initiator", "counterparts"}  # fmt: skip
    assert item["initiator"] == {"id": cast.person(cast.secretary_a).pk, "name": "王建国"}
    assert item["counterparts"] == [{"id": cast.person(cast.member).pk, "name": "刘洋"}]
    assert CANARY not in response.content.decode() and "心理压力" not in response.content.decode()
    assert not AuditEvent.objects.filter(action="read_sensitive").exists()
    assert _get(client, cast.secretary_a, mode="phone").json()["count"] == 1
    assert (
        _get(client, cast.secretary_a, **{"from": (TODAY - timedelta(days=5)).isoformat()}).json()["count"]
        == 1
    )
    assert _get(client, cast.secretary_a, status="planned").json()["count"] == 0
    assert _get(client, cast.secretary_a, org_id=cast.branch_b1.pk).status_code == 404
    assert _get(client, cast.secretary_b).json()["count"] == 0
    assert _get(client, cast.member).json()["count"] == 1  # only the one he took part in
    assert _get(client, cast.leader).json()["count"] == 0
    assert _get(client, cast.secretary_a, mode="fax").status_code == 422


@time_machine.travel(TODAY, tick=False)
def test_it_keeps_the_list_query_count_flat(client, cast, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    record(cast)
    client.force_login(cast.committee_admin)
    with CaptureQueriesContext(connection) as one:
        client.get(URL)
    for i in range(10):
        record(cast, held_on=TODAY - timedelta(days=i + 3))
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(URL).json()["count"] == 11


@time_machine.travel(TODAY, tick=False)
def test_it_records_a_talk(client, cast):
    response = _post(client, cast.secretary_a, _payload(cast))
    assert response.status_code == 201, response.content
    talk = Talk.objects.get()
    body = response.json()
    assert body["id"] == talk.pk and body["mode"] == "phone" and body["summary"] == "谈了工作安排。"
    assert body["initiator"]["id"] == cast.person(cast.secretary_a).pk
    assert talk.created_by == cast.secretary_a and talk.tag_list == ["工作"]
    assert AuditEvent.objects.filter(action="talk_record", object_id=str(talk.pk)).exists()
    assert _reads(cast.secretary_a, talk) == 1  # the echoed content is a read like any other


@time_machine.travel(TODAY, tick=False)
def test_it_records_through_a_bearer_token(client, cast):
    _, raw = api_token_issue(actor=cast.member)
    data = _payload(cast, counterpart_ids=[cast.person(cast.org_admin).pk])
    response = client.post(
        URL, data, content_type="application/json", headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 201, response.content
    assert Talk.objects.get().initiator == cast.person(cast.member)


@time_machine.travel(TODAY, tick=False)
def test_it_answers_404_403_and_422_on_record(client, cast):
    assert _post(client, cast.secretary_a, _payload(cast, org_id=cast.branch_b1.pk)).status_code == 404
    # 刘洋 sees his branch but records a talk between two others.
    forbidden = _post(client, cast.member, _payload(cast, initiator_id=cast.person(cast.secretary_a).pk,
                                                    counterpart_ids=[cast.person(cast.org_admin).pk]))  # fmt: skip
    assert forbidden.status_code == 403 and "书记" in forbidden.json()["detail"]
    bad = _post(client, cast.secretary_a, _payload(cast, tags=["八卦"]))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["message"] == "话题标签只能从列出的标签中选择。"
    outside = _post(client, cast.secretary_a, _payload(cast, counterpart_ids=[cast.person(cast.outsider).pk]))
    assert outside.status_code == 422 and "孙丽" not in outside.content.decode()
    future = _post(client, cast.secretary_a, _payload(cast, held_on=(TODAY + timedelta(days=2)).isoformat()))
    assert future.status_code == 422 and "不能晚于今天" in future.content.decode()
    assert _post(client, cast.secretary_a, _payload(cast, counterpart_ids=[])).status_code == 422
    assert _post(client, cast.counselor, _payload(cast)).status_code == 422  # no roster record: who talked?
    assert not Talk.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_it_answers_404_for_a_talk_outside_scope(client, cast):
    talk = record(cast)
    for user in (cast.secretary_b, cast.outsider, cast.leader, cast.union):
        assert _get(client, user, f"{URL}/{talk.pk}").status_code == 404
    assert _get(client, cast.secretary_a, f"{URL}/999999").status_code == 404


@time_machine.travel(TODAY, tick=False)
def test_it_leaves_the_t2_keys_out_for_the_committee_admin(client, cast):
    talk = record(cast, is_wellbeing=True)
    response = _get(client, cast.committee_admin, f"{URL}/{talk.pk}")
    assert response.status_code == 200
    body = response.json()
    assert not T2_KEYS & set(body)
    assert body["initiator"]["name"] == "王建国" and body["mode"] == "in_person" and body["status"] == "held"
    assert CANARY not in response.content.decode() and "family" not in response.content.decode()
    assert _reads(cast.committee_admin, talk) == 0


@time_machine.travel(TODAY, tick=False)
def test_it_gives_a_wellbeing_talks_content_to_the_counselor_not_the_secretary(client, cast):
    talk = record(cast, actor=cast.org_admin, initiator=cast.person(cast.org_admin), is_wellbeing=True)
    url = f"{URL}/{talk.pk}"
    body = _get(client, cast.secretary_a, url).json()
    assert not T2_KEYS & set(body) and _reads(cast.secretary_a, talk) == 0
    for reader in (cast.counselor, cast.member):
        body = _get(client, reader, url).json()
        assert set(body) >= T2_KEYS, reader
        assert (
            body["content"] == f"{CANARY}-content"
            and body["is_wellbeing"] is True
            and body["kind"] == "family"
        )
        assert body["tags"] == ["心理压力", "家庭"]
        assert _reads(reader, talk) == 1


@time_machine.travel(TODAY, tick=False)
def test_it_refuses_other_methods(client, cast):
    talk = record(cast)
    client.force_login(cast.secretary_a)
    assert client.delete(f"{URL}/{talk.pk}").status_code == 405
    assert client.put(URL, {}, content_type="application/json").status_code == 405
