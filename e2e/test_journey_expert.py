"""Expert (zhuanjia): a weighting session the committee opened, one pairwise comparison form filled
with equal judgments (consistent), checked and handed in."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def open_session(demo):
    """A weighting session on the newest published system, with the demo expert invited."""
    from sizheng.assess import weighting
    from sizheng.assess.models import IndicatorSystem, SystemState

    system = IndicatorSystem.objects.filter(state=SystemState.PUBLISHED).order_by("-year", "-pk").first()
    return weighting.create_session(
        system, actor=demo.user("gongwei"), title=f"{system.year}年指标专家赋权（补充）",
        experts=[demo.user("zhuanjia")],
    )  # fmt: skip


def test_expert_journey(journey, demo):
    from sizheng.assess.models import Judgment

    session = open_session(demo)
    j = journey("zhuanjia")
    page = j.page
    j.visit("/", heading="工作台")
    j.shot("home", guide=True)
    j.visit("/assess/sessions/", heading="专家赋权")
    j.shot("sessions", guide=True)
    page.get_by_role("link", name=session.title).click()
    page.wait_for_load_state()
    j.check_layout()
    j.shot("session", guide=True)
    page.get_by_role("link", name="开始填写").first.click()
    page.wait_for_load_state()
    j.check_layout()
    selects = page.locator("#sz-pairs select")
    for k in range(selects.count()):
        selects.nth(k).select_option("1")
    expect(page.locator("#sz-check-status")).to_have_class(__import__("re").compile("alert-success"))
    j.shot("pairwise", guide=True)
    j.submit("提交这张表")
    expect(page.get_by_text("已提交「").first).to_be_visible()
    j.shot("pairwise-done", guide=True)
    judgment = Judgment.objects.filter(session=session, expert=demo.user("zhuanjia")).first()
    assert judgment is not None and judgment.consistent
