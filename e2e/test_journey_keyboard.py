"""Keyboard only: the login form and the meeting form are reached in reading order with Tab, the
login works without a mouse, and every field of the main forms has a label."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.conftest import PASSWORD

pytestmark = pytest.mark.browser

# The elements Tab should stop at, in document order: one stop per radio group (the checked radio,
# else the first), nothing disabled, hidden or taken out of the order. Each gets data-e2e-stop.
TAB_STOPS_JS = """
(root) => {
  const selector = "input, select, textarea, button, a[href], summary, [tabindex]";
  const seen = new Set();
  const stops = [];
  for (const el of root.querySelectorAll(selector)) {
    if (el.disabled || el.type === "hidden" || el.tabIndex < 0) continue;
    // checkVisibility() also sees content hidden in a closed <details>.
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    if (el.type === "radio") {
      if (seen.has(el.name)) continue;
      const group = Array.from(root.querySelectorAll(`input[type=radio][name="${el.name}"]`));
      const stop = group.find((r) => r.checked) || el;
      seen.add(el.name);
      if (stop !== el && stop.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) continue;
      stops.push(stop);
      continue;
    }
    stops.push(el);
  }
  stops.forEach((el, i) => el.setAttribute("data-e2e-stop", String(i)));
  return stops.length;
}
"""

# Fields allowed to lack a label: none (the meeting form's attendance selects are labelled with the
# person's name).
KNOWN_UNLABELLED: tuple[str, ...] = ()

UNLABELLED_JS = """
(root) => Array.from(root.querySelectorAll(
    "input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset]), select, textarea"
  ))
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                  && !el.getAttribute("aria-labelledby") && !el.getAttribute("title"))
  .map((el) => [el.name || "", el.outerHTML.slice(0, 120)])
"""


def tab_through(page, form_selector: str, *, limit: int = 40) -> tuple[list[int], int]:
    """Focus the form's first stop, press Tab through it; the stop numbers reached, and how many."""
    form = page.locator(form_selector).first
    count = form.evaluate(TAB_STOPS_JS)
    assert count > 1, f"{form_selector} 中没有可用键盘到达的元素"
    page.locator(f"{form_selector} [data-e2e-stop='0']").first.focus()
    reached: list[int] = []
    presses = 0
    # A date or time input takes several presses (one per segment): count each stop once.
    while len(reached) < min(count, limit) and presses < 4 * limit:
        stop = int(page.evaluate("document.activeElement.getAttribute('data-e2e-stop') ?? -1"))
        if not reached or reached[-1] != stop:
            reached.append(stop)
        page.keyboard.press("Tab")
        presses += 1
    return reached, min(count, limit)


def assert_labelled(page, form_selector: str = "main form") -> None:
    missing = []
    for form in page.locator(form_selector).all():
        missing += [
            html for name, html in form.evaluate(UNLABELLED_JS) if not name.startswith(KNOWN_UNLABELLED)
        ]
    assert not missing, f"{page.url} 中有 {len(missing)} 个输入框没有标签：\n" + "\n".join(missing)


def test_keyboard_login_and_meeting_form(demo, page, live_server):
    # The login form: username → password → 登录, then Enter logs in.
    page.goto("/accounts/login/")
    assert_labelled(page, "form")
    reached, count = tab_through(page, "form:has(#id_password)")
    assert reached == list(range(count)), f"登录页的 Tab 顺序不对：{reached}"
    page.locator("#id_username").focus()
    page.keyboard.type("shuji_a")
    page.keyboard.press("Tab")
    expect(page.locator("#id_password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_title("工作台 · 思政平台")

    # The skip link is the first stop of every page and leads to the content.
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("跳到正文")

    # The meeting form: reading order, every field labelled.
    page.goto("/life/meetings/new/?kind=committee_meeting")
    form = "main form[method=post]"
    assert_labelled(page)
    reached, count = tab_through(page, form)
    assert reached == list(range(count)), f"会议记录表单的 Tab 顺序不对：{reached}"
    page.locator("#id_topic").focus()
    page.keyboard.type("键盘录入的会议")
    expect(page.locator("#id_topic")).to_have_value("键盘录入的会议")


FORM_PAGES = [
    ("shuji_a", "/talks/new/"),
    ("shuji_a", "/life/meetings/new/"),
    ("gongwei", "/duties/new/"),
    ("dangyuan", "/care/new/"),
    ("dangyuan", "/care/wellbeing/screen/phq9/"),
    ("dangwu_a", "/team/new/"),
]


def test_every_field_of_the_main_forms_has_a_label(demo, login_as, page):
    from sizheng.assess.models import Target

    target = Target.objects.filter(org=demo.person("shuji_a").org, assessment__state="open").first()
    pages = [*FORM_PAGES, ("shuji_a", f"/assess/targets/{target.pk}/self/")]
    for username, url in pages:
        login_as(username, next_url=url)
        assert_labelled(page)
    login_as("dangyuan", next_url="/insight/mine/")
    page.get_by_role("link", name="去作答").first.click()
    page.wait_for_load_state()
    assert_labelled(page)
