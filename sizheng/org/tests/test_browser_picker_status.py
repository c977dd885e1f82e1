"""The pickers' status line in a real browser: each answer says what was found (role=status), a
visible note says when nothing was, and the listbox is hidden unless it has options."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_it_says_what_was_found_and_shows_the_listbox_only_with_options(cast, login_as):
    page = login_as(cast.committee_admin, next_url="/org/people/")
    box, listbox = page.locator("#id_org"), page.locator("#id_org_list")
    status, note = (
        page.get_by_role("status").and_(page.locator("#id_org_list_status")),
        page.locator("#id_org_list_note"),
    )
    expect(listbox).to_be_hidden()
    expect(status).to_have_text("")
    box.fill("火星")
    expect(status).to_have_text("没有找到名称包含“火星”的党组织，请换个说法再试。")
    expect(note).to_be_visible()
    expect(note).to_have_text("没有找到名称包含“火星”的党组织，请换个说法再试。")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    box.fill("第二支部")
    expect(status).to_have_text("找到 1 个，用上下方向键选择。")
    expect(note).to_be_hidden()
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    box.press("Enter")
    expect(box).to_have_value("市财政局机关第二支部委员会（A2）")
    expect(listbox).to_be_hidden()
    expect(status).to_have_text("")
    box.fill("")
    expect(note).to_be_hidden()
