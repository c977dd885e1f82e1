"""Party member (dangyuan): own duties, meetings and study, answering the survey, a care request and
an anonymous wellbeing self-screening — at 1366×768 and on a phone (390×844)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.conftest import DESKTOP, PHONE, ensure_pending_survey

pytestmark = pytest.mark.browser

CARE_TEXT = "父亲住院需要长期陪护，希望能调整近两个月的值班安排。"


def answer_survey(page, survey) -> None:
    """Answer every question of ``survey`` on its answer page (the middle option, a comment)."""
    from sizheng.insight import services
    from sizheng.insight.models import QuestionKind

    for question in services.ordered_questions(survey):
        card = page.locator(f"#card-q{question.pk}")
        if question.kind == QuestionKind.TEXT:
            card.locator("textarea").fill("希望多组织业务培训，减少重复填报。")
        elif question.kind == QuestionKind.MULTI:
            card.locator("label.form-selectgroup-item").first.click()
        else:
            options = card.locator("label.form-selectgroup-item")
            options.nth(min(3, options.count() - 1)).click()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_member_journey(journey, demo, viewport):
    from sizheng.care.models import CareCase, Screening
    from sizheng.insight.models import AnswerLedger, Survey, WaveState

    me = demo.person("dangyuan")
    j = journey("dangyuan", viewport=viewport)
    page = j.page
    j.visit("/", heading="工作台")
    j.shot("home", guide=True)
    if j.optional("/dashboard/me/", heading="驾驶舱"):
        j.shot("dashboard", guide=True)

    # 我的事项, 活动日历 → a meeting, 我的学习.
    j.visit("/duties/mine/", heading="我的事项")
    j.visit("/life/calendar/", heading="活动日历")
    j.shot("calendar", guide=True)
    meeting_links = page.locator("main a[href^='/life/meetings/']")
    if meeting_links.count():
        meeting_links.first.click()
        page.wait_for_load_state()
        j.check_layout()
        j.shot("meeting")
    j.visit("/study/", heading="我的学习")
    expect(page.get_by_text("我的学时")).to_be_visible()
    j.shot("study", guide=True)

    # 我的问卷 → 去作答 → 提交答卷.
    ensure_pending_survey(demo)
    j.visit("/insight/mine/", heading="我的问卷")
    j.shot("surveys", guide=True)
    answer_link = page.get_by_role("link", name="去作答").first
    survey_pk = int(answer_link.get_attribute("href").split("/")[3])
    answer_link.click()
    page.wait_for_load_state()
    j.check_layout()
    survey = Survey.objects.get(pk=survey_pk)
    wave = survey.waves.get(state=WaveState.OPEN)
    answer_survey(page, survey)
    j.shot("survey-answer", guide=True)
    j.submit("提交答卷")
    expect(page.get_by_text("答卷已提交，感谢您的参与！")).to_be_visible()
    j.shot("survey-done", guide=True)
    assert AnswerLedger.objects.filter(wave=wave, person=me).count() == 1

    # 我要反映困难.
    j.visit("/care/mine/", heading="我的困难诉求")
    page.get_by_role("link", name="我要反映困难").click()
    page.wait_for_load_state()
    j.check_layout()
    page.select_option("#id_category", label="家庭变故")
    page.fill("#id_description", CARE_TEXT)
    page.locator("#id_handler_0").check()  # 党组织书记
    j.shot("care-form", guide=True)
    before = CareCase.objects.filter(person=me).count()
    j.submit("提交")
    assert CareCase.objects.filter(person=me).count() == before + 1
    j.shot("care-detail", guide=True)

    # 心理自评 (PHQ-9), anonymous by default: nothing is stored under the member's name.
    named_before = Screening.objects.filter(person=me).count()
    j.visit("/care/wellbeing/", heading="心理自评")
    j.shot("wellbeing", guide=True)
    page.get_by_role("link", name="开始自评").first.click()
    page.wait_for_load_state()
    j.check_layout()
    page.locator("#id_consent").check()
    expect(page.locator("#id_mode_0")).to_be_checked()  # 匿名（默认）
    for item in range(1, 10):
        page.locator(f"#id_item_{item}_0").check()
    j.shot("wellbeing-form", guide=True)
    j.submit("提交并查看结果")
    expect(page.get_by_text("删除码").first).to_be_visible()
    j.shot("wellbeing-result", guide=True)
    assert Screening.objects.filter(person=me).count() == named_before

    if j.optional("/notices/", heading="通知"):
        j.shot("notices")
    if j.optional("/search/?q=学习", heading="搜索"):
        j.shot("search")
