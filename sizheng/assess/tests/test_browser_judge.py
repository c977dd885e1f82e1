"""An expert fills a five-indicator comparison form in the browser: the consistency check updates as
they go (htmx), an inconsistent set shows which judgment to reconsider, following the hint brings
CR under 0.1, and the form is handed in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from sizheng.assess import weighting
from sizheng.assess.models import Indicator, IndicatorSystem, Judgment, SystemState
from sizheng.core.tests.browser import screenshot

pytestmark = pytest.mark.browser

NAMES = ["责任体系", "理论武装", "组织生活", "谈心谈话", "阵地与队伍"]
# Nearly consistent judgments (weights ≈ 5 : 3 : 2 : 1 : 1), except 责任体系 vs 阵地与队伍 reversed.
ANSWERS = {(0, 1): "2", (0, 2): "3", (0, 3): "5", (0, 4): "1/5", (1, 2): "2",
           (1, 3): "3", (1, 4): "3", (2, 3): "2", (2, 4): "2", (3, 4): "1"}  # fmt: skip


def _cr(page) -> float:
    return float(page.locator("#sz-cr").inner_text())


def test_an_expert_fills_a_five_indicator_form_with_live_consistency_feedback(ac, login_as):
    system = IndicatorSystem.objects.create(name="思政工作测评", year=2026, state=SystemState.PUBLISHED)
    els = [Indicator.objects.create(system=system, code=str(k), name=name, weight=0.2, order=k)
           for k, name in enumerate(NAMES, start=1)]  # fmt: skip
    session = weighting.create_session(system, actor=ac.committee_admin, title="2026 年思政工作测评专家赋权",
                                       experts=[ac.expert])  # fmt: skip

    page = login_as(ac.expert, next_url="/assess/sessions/")
    page.get_by_role("link", name=session.title).click()
    page.get_by_role("link", name="开始填写").click()
    expect(page.locator("#sz-pairs select")).to_have_count(10)
    expect(page.locator("#sz-check-status")).to_contain_text("尚未填写任何比较")

    seen = []
    for k, ((i, j), code) in enumerate(ANSWERS.items(), start=1):
        page.select_option(f"#id_p_{els[i].pk}_{els[j].pk}", code)
        expect(page.locator("#sz-answered")).to_have_text(f"已填写 {k} / 10 项比较。")
        if k >= 4:  # from the fourth answer on every indicator is linked: a CR is shown
            seen.append(page.locator("#sz-cr").inner_text())
    assert seen[0] == "0.0000"  # a spanning tree completes to a consistent matrix
    assert len(set(seen)) >= 4, seen  # the figure followed the answers
    assert _cr(page) > 0.3
    expect(page.locator("#sz-check-status")).to_have_class(re.compile("alert-danger"))
    hint = page.locator("#sz-hint")
    expect(hint).to_contain_text(
        "「责任体系 与 阵地与队伍」的判断与其他判断最不一致：当前为 阵地与队伍 明显重要（1/5），建议改为"
    )
    screenshot(page, "hint")

    suggested = page.locator("#sz-hint-suggested")
    field, value = suggested.get_attribute("data-field"), suggested.get_attribute("data-value")
    assert field == f"p_{els[0].pk}_{els[4].pk}"
    before = page.locator("#sz-cr").inner_text()
    page.select_option(f"#id_{field}", value)
    expect(page.locator("#sz-cr")).not_to_have_text(before)
    expect(page.locator("#sz-check-status")).to_have_class(re.compile("alert-success"))
    assert _cr(page) < 0.1
    expect(page.locator("#sz-hint")).to_have_count(0)
    expect(page.locator("#sz-bars progress")).to_have_count(5)
    screenshot(page, "consistent")

    page.get_by_role("button", name="提交这张表").click()
    expect(page.get_by_text("您已提交本次专家赋权的全部判断，感谢您的参与！")).to_be_visible()
    judgment = Judgment.objects.get(session=session, expert=ac.expert)
    assert judgment.submitted_at is not None and judgment.consistent and judgment.cr < 0.1
    assert len(judgment.pairs) == 10


def test_the_form_works_without_javascript(ac, browser, live_server):
    """The same form with scripts disabled: 检查一致性 posts and re-renders with the same partial."""
    from django.conf import settings
    from django.test import Client

    system = IndicatorSystem.objects.create(name="三项体系", year=2026, state=SystemState.PUBLISHED)
    els = [Indicator.objects.create(system=system, code=str(k), name=n, weight=1 / 3, order=k)
           for k, n in enumerate(["甲", "乙", "丙"], start=1)]  # fmt: skip
    session = weighting.create_session(
        system, actor=ac.committee_admin, title="三项赋权", experts=[ac.expert]
    )
    client = Client()
    client.force_login(ac.expert)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, locale="zh-CN")
    try:
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                              "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                              "url": live_server.url}])  # fmt: skip
        page = context.new_page()
        page.goto(f"/assess/sessions/{session.pk}/forms/0/")
        page.select_option(f"#id_p_{els[0].pk}_{els[1].pk}", "2")
        page.select_option(f"#id_p_{els[1].pk}_{els[2].pk}", "2")
        page.select_option(f"#id_p_{els[0].pk}_{els[2].pk}", "4")
        expect(page.locator("#sz-answered")).to_have_text("已填写 0 / 3 项比较。")  # nothing live
        page.get_by_role("button", name="检查一致性").click()
        expect(page.locator("#sz-answered")).to_have_text("已填写 3 / 3 项比较。")
        expect(page.locator("#sz-cr")).to_have_text("0.0000")
        page.get_by_role("button", name="提交这张表").click()
        expect(page.get_by_text("您已提交本次专家赋权的全部判断")).to_be_visible()
    finally:
        context.close()
    assert Judgment.objects.get(session=session).submitted_at is not None
