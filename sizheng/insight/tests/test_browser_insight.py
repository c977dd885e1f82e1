"""A member answers the 思想动态调查 on a phone-width screen (390×844): one column, large tap
targets, a missing answer re-shown in Chinese with what was typed kept, then the thank-you."""

from __future__ import annotations

import pytest

from sizheng.core.tests.browser import screenshot
from sizheng.insight import services
from sizheng.insight.models import AnswerLedger, QuestionKind, SurveyMode, Template
from sizheng.insight.tests.test_surveys import make_survey, publish

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
COMMENT = "希望多组织业务培训，减少重复填报。"


def test_it_answers_a_survey_on_a_phone(cast, login_as):
    survey = make_survey(cast, template=Template.THOUGHT, mode=SurveyMode.ANONYMOUS, title="")
    wave = publish(cast, survey)
    questions = services.ordered_questions(survey)

    page = login_as(cast.member, next_url="/insight/mine/")
    page.set_viewport_size(PHONE)
    page.reload()
    assert page.get_by_text("待填写", exact=True).is_visible()
    screenshot(page, "mine")
    page.get_by_role("link", name="去作答").click()
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Tap targets: every option box is at least 44 px high.
    heights = page.eval_on_selector_all(
        ".form-selectgroup-label", "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 44

    def card(q):
        return page.locator(f"#card-q{q.pk}")

    first_required = next(q for q in questions if q.required)
    for q in questions:
        if q is first_required:
            continue  # left out on purpose
        if q.kind == QuestionKind.TEXT:
            card(q).locator("textarea").fill(COMMENT)
        elif q.kind in (QuestionKind.LIKERT, QuestionKind.SINGLE, QuestionKind.RATING):
            card(q).locator("label.form-selectgroup-item").nth(3).click()
        elif q.kind == QuestionKind.MULTI:
            card(q).locator("label.form-selectgroup-item").first.click()
    page.get_by_role("button", name="提交答卷").click()
    page.wait_for_load_state()
    assert page.get_by_text("请回答第 1 题。").is_visible()
    assert page.locator("#sz-answer-errors").is_visible()
    assert card(questions[-1]).locator("textarea").input_value() == COMMENT  # kept
    assert not AnswerLedger.objects.exists()
    screenshot(page, "error")

    card(first_required).locator("label.form-selectgroup-item").nth(4).click()
    page.get_by_role("button", name="提交答卷").click()
    page.wait_for_load_state()
    assert page.get_by_text("答卷已提交，感谢您的参与！").is_visible()
    assert page.get_by_text("您已提交本轮问卷").is_visible()
    assert AnswerLedger.objects.filter(wave=wave, person=cast.person(cast.member)).count() == 1
    screenshot(page, "done")

    page.goto(f"/insight/surveys/{survey.pk}/answer/")
    page.set_viewport_size(PHONE)
    assert page.get_by_text("您已提交本轮问卷").is_visible()


def test_it_shows_the_whole_answer_sheet_on_a_phone(cast, login_as):
    """A full-page screenshot of the empty sheet, to look at."""
    survey = make_survey(cast, template=Template.SATISFACTION, mode=SurveyMode.NAMED, title="")
    publish(cast, survey)
    page = login_as(cast.member, next_url=f"/insight/surveys/{survey.pk}/answer/")
    page.set_viewport_size(PHONE)
    page.reload()
    assert page.get_by_text("实名问卷").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    path = screenshot(page, "sheet")
    assert path.exists()


def test_it_builds_and_publishes_a_survey_in_the_browser(cast, login_as):
    """A branch secretary starts from the 民主测评 template, adds a question, previews and publishes."""
    page = login_as(cast.secretary_a, next_url="/insight/surveys/new/")
    page.locator("label.form-selectgroup-item", has_text="民主测评").click()
    page.locator("label.form-selectgroup-item", has_text="实名").click()
    page.get_by_role("button", name="创建问卷").click()
    page.wait_for_load_state()
    assert page.get_by_text("问卷已创建").is_visible()
    page.get_by_role("link", name="在此添加题目").first.click()
    page.locator("label.form-selectgroup-item", has_text="文字意见").click()
    page.get_by_label("题目").fill("对班子改进作风的具体建议")
    page.get_by_role("button", name="添加", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_text("对班子改进作风的具体建议").is_visible()
    screenshot(page, "builder")
    page.get_by_role("button", name="发布问卷").click()
    page.wait_for_load_state()
    assert page.get_by_text("问卷已发布").is_visible()
    assert page.get_by_text("0 / 3").is_visible()
    screenshot(page, "detail")
