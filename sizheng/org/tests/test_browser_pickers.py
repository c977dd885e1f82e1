"""The pickers in a real browser: suggestions while typing, choosing by click or by keyboard, typing
again clears the choice, and the filter submits the pk."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from sizheng.core.tests.browser import screenshot

pytestmark = pytest.mark.browser


def test_it_suggests_while_typing_and_chooses_by_click_or_keyboard(cast, login_as):
    page = login_as(cast.committee_admin, next_url="/org/people/")
    box, pk, options = (
        page.locator("#id_org"),
        page.locator("#id_org_pk"),
        page.locator("#id_org_list [role=option]"),
    )
    box.fill("支部")
    expect(options).to_have_count(5)
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#id_org_list")).to_be_visible()
    screenshot(page, "people-org-picker")
    options.filter(has_text="第二支部").click()
    expect(pk).to_have_value(str(cast.branch_a2.pk))
    expect(box).to_have_value("市财政局机关第二支部委员会（A2）")
    expect(box).to_have_attribute("aria-expanded", "false")
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    assert f"org={cast.branch_a2.pk}" in page.url
    expect(page.get_by_role("link", name="陈志强")).to_be_visible()
    expect(page.get_by_role("link", name="刘洋")).to_have_count(0)

    # Keyboard: arrows move through the suggestions, Enter chooses without submitting.
    box.fill("第一")
    expect(options).to_have_count(2)
    box.press("ArrowDown")
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", "id_org_list-2")
    box.press("Enter")
    expect(pk).to_have_value(str(cast.branch_b1.pk))
    expect(box).to_have_value("市教育局机关第一支部委员会（B1）")
    assert f"org={cast.branch_a2.pk}" in page.url  # not submitted
    # Typing again clears the chosen pk; Escape closes the list.
    box.press("End")
    box.type("x")
    expect(pk).to_have_value("")
    box.fill("财政局")
    expect(options.first).to_be_visible()
    box.press("Escape")
    expect(page.locator("#id_org_list")).to_be_hidden()


def test_it_narrows_offices_to_the_chosen_unit(cast, login_as):
    page = login_as(cast.committee_admin, next_url="/org/people/")
    page.locator("#id_unit").fill("教育")
    page.locator("#id_unit_list [role=option]").first.click()
    expect(page.locator("#id_unit_pk")).to_have_value(str(cast.unit_b.pk))
    page.locator("#id_office").fill("处")
    expect(page.locator("#id_office_list [role=option]")).to_have_text(["教育局 · 基础教育处"])
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()
    assert f"unit={cast.unit_b.pk}" in page.url
    expect(page.get_by_role("link", name="李红梅")).to_be_visible()
