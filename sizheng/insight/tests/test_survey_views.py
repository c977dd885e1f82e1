"""Survey screens: the list and ledger, creating and editing, the builder, publishing and waves, the
answer page, "我的问卷" and the counselors' risk alerts — with the status of every refusal."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sizheng.core.models import AuditEvent
from sizheng.core.xlsx import XLSX_CONTENT_TYPE
from sizheng.insight import services
from sizheng.insight.models import (
    AnswerLedger,
    Dimension,
    Question,
    QuestionKind,
    RiskAlert,
    Survey,
    SurveyMode,
    SurveyState,
    Wave,
    WaveState,
)
from sizheng.insight.tests.test_surveys import (
    RISK_TEXT,
    TODAY,
    answers_for,
    make_survey,
    more_members,
    publish,
)

pytestmark = pytest.mark.django_db


def _get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def _post(client, user, url, data=None):
    client.force_login(user)
    return client.post(url, data or {})


# --- the list ----------------------------------------------------------------------------------


def test_it_lists_the_surveys_in_scope_with_filters_and_search(client, cast):
    a = make_survey(cast, title="支部思想动态")
    b = make_survey(cast, actor=cast.secretary_b, org=cast.branch_b1, title="教育局满意度")
    url = reverse("insight:surveys")

    def ids(user, **params):
        response = _get(client, user, url, **params)
        assert response.status_code == 200
        text = response.content.decode()
        return {s.pk for s in (a, b) if reverse("insight:survey_detail", args=[s.pk]) in text}

    assert ids(cast.secretary_a) == {a.pk}
    assert ids(cast.secretary_b) == {b.pk}
    assert ids(cast.committee_admin) == {a.pk, b.pk}
    assert ids(cast.committee_admin, q="满意") == {b.pk}
    assert ids(cast.committee_admin, org=cast.committee_a.pk) == {a.pk}
    assert ids(cast.committee_admin, state="published") == set()
    assert ids(cast.committee_admin, template="custom") == {a.pk, b.pk}
    assert ids(cast.member) == set()  # a draft is not shown to those it will ask
    assert "新建问卷" in _get(client, cast.secretary_a, url).content.decode()
    assert "新建问卷" not in _get(client, cast.member, url).content.decode()


def test_it_keeps_the_lists_query_count_flat_as_surveys_grow(client, cast, django_assert_max_num_queries):
    make_survey(cast)
    client.force_login(cast.secretary_a)
    url = reverse("insight:surveys")
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for i in range(8):
        make_survey(cast, title=f"问卷{i}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(url).status_code == 200


def test_it_exports_the_list_to_excel_and_audits_the_download(client, cast):
    make_survey(cast)
    response = _get(client, cast.secretary_a, reverse("insight:surveys_xlsx"))
    assert response.status_code == 200 and response["Content-Type"] == XLSX_CONTENT_TYPE
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(response.content)).active
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert "测试问卷" in values and "匿名" in values
    assert AuditEvent.objects.get(action="surveys_ledger_export").detail["rows"] == 1


# --- creating and editing ------------------------------------------------------------------------


def test_it_creates_a_survey_from_a_template(client, cast):
    data = {"template": "satisfaction", "title": "", "owner_org": cast.branch_a1.pk, "mode": "named",
            "hierarchy": "org", "schedule": "half", "wave_days": 10}  # fmt: skip
    response = _post(client, cast.secretary_a, reverse("insight:survey_create"), data)
    survey = Survey.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "insight:builder", args=[survey.pk]
    )
    assert (survey.title, survey.mode, survey.schedule, survey.wave_days) == (
        "满意度测评",
        "named",
        "half",
        10,
    )
    assert list(survey.dimensions.values_list("name", flat=True)) == [
        "学习教育",
        "关心关爱",
        "作风建设",
        "服务保障",
    ]
    assert AuditEvent.objects.filter(
        action="survey_create", actor=cast.secretary_a, object_id=str(survey.pk)
    ).exists()


def test_it_refuses_creation_to_members_and_bad_input(client, cast):
    url = reverse("insight:survey_create")
    assert _get(client, cast.member, url).status_code == 403
    assert _post(client, cast.member, url, {"template": "thought"}).status_code == 403
    data = {"template": "thought", "owner_org": cast.branch_a1.pk, "mode": "anonymous", "hierarchy": "org",
            "schedule": "once", "wave_days": 0}  # fmt: skip
    response = _post(client, cast.secretary_a, url, data)
    assert response.status_code == 422 and "每轮作答天数至少 1 天。" in response.content.decode()
    data.update(wave_days=14, audience_units=[cast.unit_a.pk])
    response = _post(client, cast.secretary_a, url, data)
    assert response.status_code == 422 and "按党组织层级统计的问卷" in response.content.decode()
    assert not Survey.objects.exists()
    assert _get(client, cast.secretary_a, url).status_code == 200


def test_it_offers_no_mode_or_hierarchy_when_editing_and_refuses_a_stale_form(client, cast):
    survey = make_survey(cast)
    url = reverse("insight:survey_edit", args=[survey.pk])
    page = _get(client, cast.secretary_a, url).content.decode()
    assert 'name="mode"' not in page and 'name="hierarchy"' not in page and "创建时确定，不能修改" in page
    data = {"version": 1, "title": "新名称", "description": "", "schedule": "once", "wave_days": 7,
            "audience_orgs": [cast.branch_a1.pk], "mode": "named", "hierarchy": "unit"}  # fmt: skip
    response = _post(client, cast.secretary_a, url, data)
    assert response.status_code == 302
    survey.refresh_from_db()
    assert (survey.title, survey.wave_days, survey.mode, survey.hierarchy) == (
        "新名称",
        7,
        "anonymous",
        "org",
    )
    assert AuditEvent.objects.get(action="survey_update").detail == {"fields": ["title", "wave_days"]}
    response = _post(client, cast.secretary_a, url, {**data, "title": "又改"})  # version 1 is stale now
    assert response.status_code == 409 and "已被他人修改" in response.content.decode()
    assert Survey.objects.get().title == "新名称"


@time_machine.travel(TODAY, tick=False)
def test_it_edits_a_published_survey_without_its_audience(client, cast):
    survey = make_survey(cast)
    publish(cast, survey)
    survey.refresh_from_db()
    url = reverse("insight:survey_edit", args=[survey.pk])
    page = _get(client, cast.secretary_a, url).content.decode()
    assert 'name="audience_orgs"' not in page and "调查对象不能再修改" in page
    data = {"version": survey.version, "title": "改正错字", "description": "", "schedule": "quarter", "wave_days": 14,
            "audience_orgs": [cast.committee_a.pk]}  # fmt: skip
    assert _post(client, cast.secretary_a, url, data).status_code == 302
    survey.refresh_from_db()
    assert (survey.title, survey.schedule) == ("改正错字", "quarter")
    assert list(survey.audience_orgs.all()) == [cast.branch_a1]


def test_it_hides_a_survey_from_outsiders_and_is_read_only_for_others(client, cast):
    survey = make_survey(cast)
    question = survey.questions.first()
    dimension = survey.dimensions.first()
    urls = [reverse("insight:survey_detail", args=[survey.pk]), reverse("insight:builder", args=[survey.pk]),
            reverse("insight:survey_edit", args=[survey.pk]), reverse("insight:question_edit", args=[question.pk]),
            reverse("insight:dimension_edit", args=[dimension.pk]), reverse("insight:answer", args=[survey.pk]),
            reverse("insight:survey_preview", args=[survey.pk])]  # fmt: skip
    for url in urls:
        assert _get(client, cast.outsider, url).status_code == 404, url
        assert _get(client, cast.secretary_b, url).status_code == 404, url
    with time_machine.travel(TODAY, tick=False):
        publish(cast, survey)
        # The member sees the published survey that asks him, but may not change it.
        assert _get(client, cast.member, urls[0]).status_code == 200
        for url in urls[1:5]:
            assert _get(client, cast.member, url).status_code == 403, url
        assert (
            _post(client, cast.member, reverse("insight:survey_close", args=[survey.pk])).status_code == 403
        )


def test_it_answers_405_to_the_wrong_method(client, cast):
    survey = make_survey(cast)
    question = survey.questions.first()
    for url in (reverse("insight:survey_publish", args=[survey.pk]), reverse("insight:question_move", args=[question.pk]),
                reverse("insight:dimension_move", args=[survey.dimensions.first().pk]),
                reverse("insight:risk_alert_ack", args=[1])):  # fmt: skip
        assert _get(client, cast.secretary_a, url).status_code == 405, url
    assert _post(client, cast.secretary_a, reverse("insight:surveys")).status_code == 405
    assert _post(client, cast.member, reverse("insight:mine")).status_code == 405


# --- the builder --------------------------------------------------------------------------------


def test_it_builds_questions_through_the_builder(client, cast):
    survey = make_survey(cast)
    dim = survey.dimensions.get()
    user = cast.secretary_a
    page = _get(client, user, reverse("insight:builder", args=[survey.pk]))
    assert page.status_code == 200 and "我对工作充满热情。" in page.content.decode()
    response = _post(client, user, reverse("insight:question_create", args=[survey.pk]),
                     {"kind": "multi", "text": "您关心哪些方面？", "options": "住房\n子女教育\n\n住房",
                      "required": "on", "dimension": dim.pk})  # fmt: skip
    question = Question.objects.get(text="您关心哪些方面？")
    assert response.status_code == 302 and response["Location"].endswith(f"#q{question.pk}")
    assert question.options == ["住房", "子女教育"] and question.dimension == dim
    assert AuditEvent.objects.filter(action="question_add", object_id=str(question.pk)).exists()
    response = _post(client, user, reverse("insight:question_create", args=[survey.pk]),
                     {"kind": "single", "text": "只有一个选项", "options": "唯一"})  # fmt: skip
    assert response.status_code == 422 and "至少需要 2 个不同的选项" in response.content.decode()
    response = _post(client, user, reverse("insight:question_edit", args=[question.pk]),
                     {"kind": "rating", "text": "请打分", "options": "", "dimension": ""})  # fmt: skip
    question.refresh_from_db()
    assert response.status_code == 302 and (question.kind, question.options, question.required) == (
        "rating",
        [],
        False,
    )
    assert question.dimension is None
    first = services.sections(survey)[0][1][0]
    response = _post(client, user, reverse("insight:question_move", args=[first.pk]), {"direction": "down"})
    assert response.status_code == 302 and services.sections(survey)[0][1][1].pk == first.pk
    assert (
        _post(client, user, reverse("insight:question_move", args=[first.pk]), {"direction": "x"}).status_code
        == 422
    )
    confirm = _get(client, user, reverse("insight:question_delete", args=[question.pk]))
    assert confirm.status_code == 200 and "确定要删除题目“请打分”吗？" in confirm.content.decode()
    assert Question.objects.filter(pk=question.pk).exists()  # a GET deletes nothing
    assert _post(client, user, reverse("insight:question_delete", args=[question.pk])).status_code == 302
    assert not Question.objects.filter(pk=question.pk).exists()
    assert AuditEvent.objects.filter(action="question_remove", object_id=str(question.pk)).exists()
    response = _post(
        client, user, reverse("insight:dimension_create", args=[survey.pk]), {"name": "组织认同"}
    )
    assert response.status_code == 302 and Dimension.objects.filter(name="组织认同").exists()
    response = _post(client, user, reverse("insight:dimension_create", args=[survey.pk]), {"name": ""})
    assert response.status_code == 422 and "请填写维度名称。" in response.content.decode()
    assert (
        _post(client, user, reverse("insight:dimension_edit", args=[dim.pk]), {"name": "工作"}).status_code
        == 302
    )
    assert Dimension.objects.get(pk=dim.pk).name == "工作"
    confirm = _get(client, user, reverse("insight:dimension_delete", args=[dim.pk]))
    assert "其中的题目会保留" in confirm.content.decode()
    assert _post(client, user, reverse("insight:dimension_delete", args=[dim.pk])).status_code == 302
    assert not Dimension.objects.filter(pk=dim.pk).exists()


def test_it_deletes_a_draft_survey_only_after_confirmation(client, cast):
    survey = make_survey(cast)
    url = reverse("insight:survey_delete", args=[survey.pk])
    page = _get(client, cast.secretary_a, url)
    assert page.status_code == 200 and "删除后不能恢复" in page.content.decode() and Survey.objects.exists()
    assert _post(client, cast.secretary_b, url).status_code == 404
    response = _post(client, cast.secretary_a, url)
    assert response.status_code == 302 and not Survey.objects.exists()
    assert AuditEvent.objects.get(action="survey_delete").object_id == str(survey.pk)


@time_machine.travel(TODAY, tick=False)
def test_it_publishes_refuses_builder_edits_then_closes_a_wave(client, cast):
    survey = make_survey(cast)
    response = _post(
        client, cast.secretary_a, reverse("insight:survey_publish", args=[survey.pk]), {"version": 1}
    )
    assert response.status_code == 302
    wave = Wave.objects.get()
    assert Survey.objects.get().state == SurveyState.PUBLISHED and wave.state == WaveState.OPEN
    response = _post(
        client, cast.secretary_a, reverse("insight:survey_publish", args=[survey.pk]), {"version": 2}
    )
    assert response.status_code == 409
    response = _post(client, cast.secretary_a, reverse("insight:question_create", args=[survey.pk]),
                     {"kind": "text", "text": "晚到的题"})  # fmt: skip
    assert response.status_code == 409 and "问卷已发布" in response.content.decode()
    assert (
        _get(client, cast.secretary_a, reverse("insight:survey_delete", args=[survey.pk])).status_code == 409
    )
    detail = _get(
        client, cast.secretary_a, reverse("insight:survey_detail", args=[survey.pk])
    ).content.decode()
    assert "0 / 3" in detail  # answered / expected
    confirm = _get(client, cast.secretary_a, reverse("insight:wave_close", args=[wave.pk]))
    assert confirm.status_code == 200 and "确定要现在结束第1轮调查吗" in confirm.content.decode()
    assert _post(client, cast.member, reverse("insight:wave_close", args=[wave.pk])).status_code == 403
    assert _post(client, cast.secretary_a, reverse("insight:wave_close", args=[wave.pk])).status_code == 302
    assert Wave.objects.get().state == WaveState.CLOSED
    assert _post(client, cast.secretary_a, reverse("insight:wave_close", args=[wave.pk])).status_code == 409
    response = _post(client, cast.secretary_a, reverse("insight:wave_open", args=[survey.pk]),
                     {"opens_on": (TODAY + timedelta(days=7)).isoformat()})  # fmt: skip
    assert response.status_code == 302
    planned = Wave.objects.get(number=2)
    assert planned.state == WaveState.PLANNED
    response = _post(client, cast.secretary_a, reverse("insight:wave_open", args=[survey.pk]),
                     {"opens_on": TODAY.isoformat()})  # fmt: skip
    assert response.status_code == 409 and "请先结束它" in response.content.decode()
    response = _post(client, cast.secretary_a, reverse("insight:wave_open", args=[survey.pk]),
                     {"opens_on": (TODAY - timedelta(days=1)).isoformat()})  # fmt: skip
    assert response.status_code in (409, 422)
    assert (
        _post(client, cast.secretary_a, reverse("insight:wave_close", args=[planned.pk])).status_code == 302
    )
    assert not Wave.objects.filter(pk=planned.pk).exists()  # a planned wave is cancelled
    assert AuditEvent.objects.filter(action="wave_cancel").exists()


# --- answering ------------------------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_it_takes_an_answer_once_and_keeps_what_was_typed_on_an_error(client, cast, caplog):
    survey = make_survey(cast)
    wave = publish(cast, survey)
    likert, single, text = services.ordered_questions(survey)
    url = reverse("insight:answer", args=[survey.pk])
    page = _get(client, cast.member, url)
    assert (
        page.status_code == 200
        and "匿名问卷" in page.content.decode()
        and f'name="q{likert.pk}"' in page.content.decode()
    )
    response = _post(client, cast.member, url, {f"q{likert.pk}": "4", f"q{text.pk}": "食堂饭菜可以更丰富"})
    body = response.content.decode()
    assert response.status_code == 422 and "请回答第 2 题。" in body
    assert "食堂饭菜可以更丰富" in body
    tags = re.findall(r"<input[^>]*>", body)
    chosen = [t for t in tags if f'name="q{likert.pk}"' in t and "checked" in t]
    assert len(chosen) == 1 and 'value="4"' in chosen[0]
    assert not AnswerLedger.objects.exists()
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    response = _post(
        client, cast.member, url, {f"q{likert.pk}": "4", f"q{single.pk}": "2", f"q{text.pk}": "好"}
    )
    assert response.status_code == 302 and response["Location"] == url
    # No log line for an anonymous answer (the database's own query log aside).
    assert [r for r in caplog.records if not r.name.startswith("django.db")] == []
    assert AnswerLedger.objects.filter(wave=wave, person=cast.person(cast.member)).exists()
    assert not AuditEvent.objects.filter(action="survey_response").exists()
    again = _get(client, cast.member, url)
    assert again.status_code == 200 and "您已提交本轮问卷" in again.content.decode()
    second = _post(client, cast.member, url, {f"q{likert.pk}": "1", f"q{single.pk}": "0"})
    assert second.status_code == 409 and AnswerLedger.objects.count() == 1


@time_machine.travel(TODAY, tick=False)
def test_it_answers_404_outside_the_audience_and_409_without_an_open_wave(client, cast):
    survey = make_survey(cast, mode=SurveyMode.NAMED)
    url = reverse("insight:answer", args=[survey.pk])
    assert _get(client, cast.member, url).status_code == 404  # a draft asks nobody
    wave = publish(cast, survey)
    for user in (cast.outsider, cast.secretary_b, cast.leader, cast.sysadmin):
        assert _get(client, user, url).status_code == 404
        assert _post(client, user, url, {}).status_code == 404
    services.wave_close(actor=cast.secretary_a, wave=wave)
    page = _get(client, cast.member, url)
    assert page.status_code == 200 and "没有正在进行的调查" in page.content.decode()
    assert _post(client, cast.member, url, answers_for(survey)).status_code == 409


@time_machine.travel(TODAY, tick=False)
def test_it_records_a_named_answer_with_its_audit_row(client, cast):
    survey = make_survey(cast, mode=SurveyMode.NAMED)
    publish(cast, survey)
    likert, single, _ = services.ordered_questions(survey)
    url = reverse("insight:answer", args=[survey.pk])
    assert _post(client, cast.member, url, {f"q{likert.pk}": "5", f"q{single.pk}": "0"}).status_code == 302
    event = AuditEvent.objects.get(action="survey_response")
    assert event.actor == cast.member and set(event.detail) == {"survey", "wave"}


@time_machine.travel(TODAY, tick=False)
def test_it_shows_a_preview_to_managers_without_a_submit(client, cast):
    survey = make_survey(cast)
    page = _get(
        client, cast.secretary_a, reverse("insight:survey_preview", args=[survey.pk])
    ).content.decode()
    assert "答卷预览" in page and '<form method="post" novalidate>' not in page


@time_machine.travel(TODAY, tick=False)
def test_it_lists_my_surveys_with_a_flat_query_count(client, cast, django_assert_max_num_queries):
    survey = make_survey(cast, title="支部问卷")
    publish(cast, survey)
    client.force_login(cast.member)
    url = reverse("insight:mine")
    with CaptureQueriesContext(connection) as one:
        page = client.get(url)
    assert (
        page.status_code == 200 and "支部问卷" in page.content.decode() and "待填写" in page.content.decode()
    )
    for i in range(6):
        publish(cast, make_survey(cast, title=f"问卷{i}"))
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get(url)
    assert page.content.decode().count("去作答") == 7
    home = _get(client, cast.member, "/").content.decode()
    assert "份问卷待填写" in home
    assert "目前没有需要您填写的问卷" in _get(client, cast.outsider, url).content.decode()


# --- risk alerts -----------------------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_it_shows_counselors_their_risk_alerts_and_takes_an_acknowledgement(client, cast):
    people = more_members(cast, 5)
    survey = make_survey(cast)
    wave = publish(cast, survey)
    for person in people:
        services.response_submit(actor=person.user, wave=wave, answers=answers_for(survey, text=RISK_TEXT))
    services.wave_close(actor=cast.secretary_a, wave=wave)
    alert = RiskAlert.objects.get()
    url = reverse("insight:risk_alerts")
    page = _get(client, cast.counselor, url)
    body = page.content.decode()
    assert page.status_code == 200 and cast.branch_a1.name in body and "测试问卷" in body
    assert RISK_TEXT not in body and all(p.name not in body for p in people)
    assert _get(client, cast.member, url).status_code == 403
    assert (
        _post(client, cast.secretary_a, reverse("insight:risk_alert_ack", args=[alert.pk])).status_code == 403
    )
    response = _post(client, cast.counselor, reverse("insight:risk_alert_ack", args=[alert.pk]))
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == cast.counselor
    assert AuditEvent.objects.filter(action="risk_alert_ack", object_id=str(alert.pk)).exists()
    assert (
        _post(client, cast.counselor_backup, reverse("insight:risk_alert_ack", args=[alert.pk])).status_code
        == 409
    )


def test_it_keeps_question_kinds_in_sync_with_the_answer_form():
    from sizheng.insight.forms import AnswerForm

    for kind in QuestionKind.values:
        q = Question(pk=1, kind=kind, text="题", options=["甲", "乙"], required=True)
        form = AnswerForm(questions=[q])
        assert "q1" in form.fields
