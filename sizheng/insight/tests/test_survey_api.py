"""The surveys API: the scoped list, creating a survey, one survey with questions and waves, and
answering the open wave (201 without an identifying echo, 409 the second time, 404 outside the
audience, 422 for bad answers)."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.core.apitools import api_token_issue
from sizheng.core.models import AuditEvent
from sizheng.insight import services
from sizheng.insight.models import AnswerLedger, NamedResponse, Survey, SurveyMode
from sizheng.insight.tests.test_surveys import TODAY, answers_for, make_survey, publish

pytestmark = pytest.mark.django_db
URL = "/api/v1/surveys"


def _get(client, user, url=URL, **params):
    client.force_login(user)
    return client.get(url, params)


def _post(client, user, url, data):
    client.force_login(user)
    return client.post(url, data, content_type="application/json")


def test_it_lists_the_surveys_in_scope(client, cast):
    a = make_survey(cast, title="A1 问卷")
    b = make_survey(cast, actor=cast.secretary_b, org=cast.branch_b1, title="B1 问卷")
    data = _get(client, cast.committee_admin).json()
    assert data["count"] == 2 and {s["id"] for s in data["items"]} == {a.pk, b.pk}
    item = next(s for s in data["items"] if s["id"] == a.pk)
    assert (
        item["mode"] == "anonymous"
        and item["mode_label"] == "匿名"
        and item["owner_org_name"] == cast.branch_a1.name
    )
    assert [s["id"] for s in _get(client, cast.secretary_a).json()["items"]] == [a.pk]
    assert _get(client, cast.committee_admin, q="B1").json()["count"] == 1
    assert _get(client, cast.committee_admin, state="published").json()["count"] == 0
    assert _get(client, cast.committee_admin, org_id=cast.general_b.pk).json()["count"] == 1
    assert _get(client, cast.secretary_a, org_id=cast.branch_b1.pk).status_code == 404
    assert _get(client, cast.committee_admin, state="nonsense").status_code == 422
    assert _get(client, cast.outsider).json()["count"] == 0


def test_it_keeps_the_list_query_count_flat(client, cast, django_assert_max_num_queries):
    make_survey(cast)
    client.force_login(cast.secretary_a)
    with CaptureQueriesContext(connection) as one:
        assert client.get(URL).status_code == 200
    for i in range(6):
        make_survey(cast, title=f"问卷{i}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(URL).json()["count"] == 7


def test_it_creates_a_survey_with_201_and_an_audit_row(client, cast):
    payload = {"owner_org_id": cast.committee_a.pk, "template": "democratic", "mode": "anonymous",
               "audience_org_ids": [cast.branch_a1.pk, cast.branch_a2.pk], "schedule": "year"}  # fmt: skip
    response = _post(client, cast.committee_admin, URL, payload)
    assert response.status_code == 201, response.content
    data = response.json()
    survey = Survey.objects.get()
    assert data["id"] == survey.pk and data["title"] == "民主测评" and data["state"] == "draft"
    assert data["audience_org_ids"] == sorted([cast.branch_a1.pk, cast.branch_a2.pk])
    assert [q["options"] for q in data["questions"]][0] == ["好", "较好", "一般", "差"]
    assert [q["number"] for q in data["questions"]] == list(range(1, len(data["questions"]) + 1))
    assert data["may_manage"] is True and data["waves"] == [] and data["answered"] is None
    assert AuditEvent.objects.filter(action="survey_create", object_id=str(survey.pk)).exists()


def test_it_refuses_creation_with_403_404_and_422(client, cast):
    payload = {"owner_org_id": cast.branch_a1.pk, "mode": "named"}
    assert _post(client, cast.member, URL, payload).status_code == 403
    assert _post(client, cast.secretary_b, URL, payload).status_code == 404  # A1 is outside B1's scope
    # 陈志强 leads unit A (so sees its committee) and becomes secretary of branch A2: he may create
    # surveys, but not in the committee's name.
    from sizheng.org.models import OrgRole
    from sizheng.org.services import person_sync_grants
    from sizheng.org.testing import appoint

    appoint(cast.person(cast.leader), cast.branch_a2, OrgRole.Title.SECRETARY)
    person_sync_grants(person=cast.person(cast.leader))
    cast.leader.refresh_from_db()
    assert (
        _post(client, cast.leader, URL, {**payload, "owner_org_id": cast.committee_a.pk}).status_code == 403
    )
    response = _post(client, cast.secretary_a, URL, {**payload, "mode": "secret"})
    assert response.status_code == 422 and response.json()["errors"][0]["loc"][-1] == "mode"
    response = _post(client, cast.secretary_a, URL, {**payload, "audience_org_ids": [cast.branch_b1.pk]})
    assert response.status_code == 422 and "不存在或不在您的范围内" in response.json()["errors"][0]["message"]
    response = _post(client, cast.secretary_a, URL, {**payload, "audience_unit_ids": [cast.unit_a.pk]})
    assert response.status_code == 422
    assert {e["loc"][-1]: e["message"] for e in response.json()["errors"]} == {
        "title": "请填写问卷名称。",
        "audience_units": "按党组织层级统计的问卷请按党组织选择调查对象；如需按单位选择，请把统计分组设为“按单位—处室”。",
    }
    response = _post(client, cast.secretary_a, URL, {**payload, "wave_days": 0})
    assert response.status_code == 422
    assert not Survey.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_it_shows_one_survey_with_questions_and_waves(client, cast):
    survey = make_survey(cast)
    assert _get(client, cast.member, f"{URL}/{survey.pk}").status_code == 404  # drafts stay with managers
    wave = publish(cast, survey)
    data = _get(client, cast.member, f"{URL}/{survey.pk}").json()
    assert data["may_manage"] is False and data["open_wave_id"] == wave.pk and data["answered"] is False
    assert [q["kind"] for q in data["questions"]] == ["likert", "single", "text"]
    assert data["waves"][0]["label"] == "第1轮" and data["waves"][0]["state"] == "open"
    assert _get(client, cast.outsider, f"{URL}/{survey.pk}").status_code == 404
    assert _get(client, cast.secretary_a, f"{URL}/999999").status_code == 404


@time_machine.travel(TODAY, tick=False)
def test_it_takes_an_anonymous_answer_once_without_echoing_anything(client, cast):
    survey = make_survey(cast)
    wave = publish(cast, survey)
    url = f"{URL}/{survey.pk}/responses"
    likert, single, text = services.ordered_questions(survey)
    audit_before = AuditEvent.objects.count()
    response = _post(client, cast.member, url,
                     {"answers": {str(likert.pk): 5, str(single.pk): "一般", str(text.pk): "建议多组织调研"}})  # fmt: skip
    assert response.status_code == 201
    assert response.json() == {"wave_id": wave.pk, "detail": "答卷已提交，感谢您的参与！"}
    assert AnswerLedger.objects.filter(wave=wave).count() == 1 and AuditEvent.objects.count() == audit_before
    again = _post(client, cast.member, url, {"answers": answers_for(survey)})
    assert again.status_code == 409 and again.json()["detail"] == services.MSG_ANSWERED
    assert _get(client, cast.member, f"{URL}/{survey.pk}").json()["answered"] is True


@time_machine.travel(TODAY, tick=False)
def test_it_refuses_answers_with_404_409_and_422(client, cast):
    survey = make_survey(cast, mode=SurveyMode.NAMED)
    url = f"{URL}/{survey.pk}/responses"
    assert _post(client, cast.member, url, {"answers": {}}).status_code == 404  # a draft asks nobody
    wave = publish(cast, survey)
    for user in (cast.outsider, cast.secretary_b, cast.counselor):
        assert _post(client, user, url, {"answers": answers_for(survey)}).status_code == 404
    likert, single, _ = services.ordered_questions(survey)
    response = _post(client, cast.member, url, {"answers": {str(likert.pk): 9}})
    assert response.status_code == 422
    messages = {e["message"] for e in response.json()["errors"]}
    assert messages == {"第 1 题：请在 1（非常不同意）到 5（非常同意）之间选择。", "请回答第 2 题。"}
    assert _post(client, cast.member, url, {"nothing": 1}).status_code == 422
    assert not NamedResponse.objects.exists()
    response = _post(client, cast.member, url, {"answers": answers_for(survey)})
    assert response.status_code == 201 and NamedResponse.objects.count() == 1
    services.wave_close(actor=cast.secretary_a, wave=wave)
    assert _post(client, cast.org_admin, url, {"answers": answers_for(survey)}).status_code == 409


@time_machine.travel(TODAY, tick=False)
def test_it_works_with_a_bearer_token(client, cast):
    survey = make_survey(cast)
    publish(cast, survey)
    _token, raw = api_token_issue(actor=cast.member)
    response = client.post(f"{URL}/{survey.pk}/responses", {"answers": answers_for(survey)},
                           content_type="application/json", headers={"Authorization": f"Bearer {raw}"})  # fmt: skip
    assert response.status_code == 201
    assert client.get(URL, headers={"Authorization": "Bearer nope"}).status_code == 401
