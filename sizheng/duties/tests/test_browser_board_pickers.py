"""The board's org and list pickers in a real browser: chosen by click, submitted as pks."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from sizheng.core.tests.browser import screenshot
from sizheng.duties.models import DutyList

pytestmark = pytest.mark.browser


def test_it_filters_the_board_by_a_picked_org_and_list(cast, login_as):
    a_list = DutyList.objects.create(org=cast.branch_a1, year=2026, title="第一支部2026年度清单")
    page = login_as(cast.committee_admin, next_url="/duties/")
    page.locator("#id_org").fill("教育局")
    page.locator("#id_org_list [role=option]").filter(has_text="总支部").click()
    expect(page.locator("#id_org_pk")).to_have_value(str(cast.general_b.pk))
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    assert f"org={cast.general_b.pk}" in page.url
    expect(page.locator("#id_org")).to_have_value("市教育局机关总支部委员会（B）")

    page.goto("/duties/")
    page.locator("#id_duty_list").fill("第一支部")
    expect(page.locator("#id_duty_list_list [role=option]")).to_have_text(["第一支部2026年度清单"])
    screenshot(page, "board-list-picker")
    page.locator("#id_duty_list_list [role=option]").click()
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    assert f"duty_list={a_list.pk}" in page.url
    expect(page.locator("#id_duty_list")).to_have_value("第一支部2026年度清单")
    expect(page.get_by_text("所选项不在您的查看范围内")).to_have_count(0)
