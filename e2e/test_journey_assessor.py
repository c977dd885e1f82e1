"""Assessor (kaohe): the scoring tasks of the open round, scoring a unit indicator by indicator with
the unit's own entries alongside, saving a draft."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_assessor_journey(journey, demo):
    from sizheng.assess.models import Entry, Target

    j = journey("kaohe")
    page = j.page
    j.visit("/", heading="工作台")
    j.shot("home", guide=True)
    j.visit("/assess/tasks/", heading="我的考核任务")
    j.shot("tasks", guide=True)

    score_link = page.get_by_role("link", name="评分", exact=True).first
    target = Target.objects.get(pk=int(score_link.get_attribute("href").split("/")[3]))
    score_link.click()
    page.wait_for_load_state()
    j.check_layout()
    expect(page.get_by_text("单位自评").first).to_be_visible()
    values = page.locator("input[type=number][name^=v_]")
    filled = {}
    for k in range(min(3, values.count())):
        field = values.nth(k)
        indicator_id = int(field.get_attribute("name").removeprefix("v_"))
        field.fill("1")
        page.fill(f"#id_n_{indicator_id}", "查阅会议记录和佐证材料，情况属实。")
        filled[indicator_id] = 1
    j.shot("score-form", guide=True)
    j.submit("保存草稿")
    j.shot("score-saved")
    saved = Entry.objects.filter(target=target, side=Entry.Side.ASSESSOR, indicator_id__in=filled)
    assert {e.indicator_id: e.value for e in saved} == filled
    assert all(e.entered_by == demo.user("kaohe") for e in saved)

    j.visit(f"/assess/rounds/{target.assessment_id}/", heading=target.assessment.title)
