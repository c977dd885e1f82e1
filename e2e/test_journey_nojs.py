"""The main forms with JavaScript disabled: each one submits as a plain HTML form and the result is
in the database (progressive enhancement — htmx and the scripts only add to a working page)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from e2e.conftest import ensure_pending_survey
from e2e.test_journey_expert import open_session
from e2e.test_journey_member import answer_survey

pytestmark = pytest.mark.browser


def submit(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).first.click()


def meeting_record(nojs_page, demo):
    from sizheng.life.models import Meeting

    page = nojs_page("shuji_a")
    page.goto("/life/meetings/new/?kind=committee_meeting")
    page.fill("#id_topic", "无脚本会议记录")
    page.fill("#id_day", timezone.localdate().isoformat())
    page.fill("#id_start_time", "14:00")
    page.fill("#id_end_time", "15:00")
    page.fill("#id_place", "二楼会议室")
    submit(page, "提交")
    expect(page.get_by_text("会议记录已提交。")).to_be_visible()
    assert Meeting.objects.filter(topic="无脚本会议记录", org=demo.person("shuji_a").org).exists()


def talk_record(nojs_page, demo):
    from sizheng.talks.models import Talk

    page = nojs_page("shuji_a")
    page.goto("/talks/new/")
    page.locator("label.form-selectgroup-item:has(#id_counterparts_0)").click()
    page.locator("label.form-selectgroup-item:has(input[name=mode][value=in_person])").click()
    page.get_by_label("谈话摘要").fill("无脚本登记的谈话摘要。")
    submit(page, "登记")
    expect(page.get_by_text("谈心谈话已登记。")).to_be_visible()
    assert Talk.objects.filter(initiator=demo.person("shuji_a"), held_on=timezone.localdate()).exists()


def duty(nojs_page, demo):
    from sizheng.duties.models import Duty

    branch = demo.person("shuji_a").org
    page = nojs_page("gongwei")
    page.goto("/duties/new/")
    page.fill("#id_org", f"{branch.name}（{branch.code}）")  # the org picker without JS: the name is resolved
    page.fill("#id_title", "无脚本部署的事项")
    page.fill("#id_due_on", (timezone.localdate() + timedelta(days=15)).isoformat())
    submit(page, "部署")
    assert Duty.objects.get(title="无脚本部署的事项").assignee_org == branch


def survey_answer(nojs_page, demo):
    from sizheng.insight.models import AnswerLedger, Survey, WaveState

    me = demo.person("dangyuan")
    ensure_pending_survey(demo)
    page = nojs_page("dangyuan")
    page.goto("/insight/mine/")
    link = page.get_by_role("link", name="去作答").first
    survey = Survey.objects.get(pk=int(link.get_attribute("href").split("/")[3]))
    link.click()
    page.wait_for_load_state()
    answer_survey(page, survey)
    submit(page, "提交答卷")
    expect(page.get_by_text("答卷已提交，感谢您的参与！")).to_be_visible()
    wave = survey.waves.get(state=WaveState.OPEN)
    assert AnswerLedger.objects.filter(wave=wave, person=me).count() == 1


def care_request(nojs_page, demo):
    from sizheng.care.models import CareCase

    me = demo.person("dangyuan")
    before = CareCase.objects.filter(person=me).count()
    page = nojs_page("dangyuan")
    page.goto("/care/new/")
    page.select_option("#id_category", label="医疗")
    page.fill("#id_description", "孩子需要手术，医疗费用压力较大。")
    page.locator("#id_handler_1").check()  # 工会
    submit(page, "提交")
    assert CareCase.objects.filter(person=me).count() == before + 1
    assert CareCase.objects.filter(person=me).latest("pk").handler == "union"


def self_assessment(nojs_page, demo):
    from sizheng.assess.models import Entry, Target

    target = Target.objects.get(org=demo.person("shuji_a").org, assessment__state="open")
    page = nojs_page("shuji_a")
    page.goto(f"/assess/targets/{target.pk}/self/")
    field = page.locator("input[type=number][name^=v_]").nth(1)
    indicator_id = int(field.get_attribute("name").removeprefix("v_"))
    field.fill("0")
    page.fill(f"#id_n_{indicator_id}", "委员配备齐全，分工明确。")
    submit(page, "保存草稿")
    entry = Entry.objects.get(target=target, indicator_id=indicator_id, side=Entry.Side.SELF)
    assert entry.value == 0 and "分工明确" in entry.note


def pairwise_form(nojs_page, demo):
    from sizheng.assess.models import Judgment

    session = open_session(demo)
    page = nojs_page("zhuanjia")
    page.goto(f"/assess/sessions/{session.pk}/")
    page.get_by_role("link", name="开始填写").first.click()
    page.wait_for_load_state()
    selects = page.locator("#sz-pairs select")
    for k in range(selects.count()):
        selects.nth(k).select_option("1")
    submit(page, "检查一致性")
    expect(page.locator("#sz-cr")).to_have_text("0.0000")
    submit(page, "提交这张表")
    judgment = Judgment.objects.get(session=session, expert=demo.user("zhuanjia"))
    assert judgment.consistent and judgment.pairs


FORMS = [meeting_record, talk_record, duty, survey_answer, care_request, self_assessment, pairwise_form]


@pytest.mark.parametrize("fill", FORMS, ids=[f.__name__ for f in FORMS])
def test_main_forms_work_without_javascript(nojs_page, demo, fill):
    fill(nojs_page, demo)
