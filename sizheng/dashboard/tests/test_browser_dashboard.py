"""The acceptance path in a real browser: a committee admin opens the dashboard, sees a lagging
branch in the compliance card (cards load on their own with htmx, charts draw under the CSP), clicks
it (click 1) and opens the rectification duty with "派发整改事项" (click 2); the duty exists for that
branch and the page says so with a link. No console error, no request to another host (harness)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from sizheng.core.tests.browser import screenshot
from sizheng.dashboard.tests.conftest import comply_quarter
from sizheng.dashboard.tests.test_pages import publish_round
from sizheng.duties.models import Duty
from sizheng.life import services as life

pytestmark = pytest.mark.browser


def test_a_lagging_branch_gets_a_duty_in_two_clicks(cast, login_as):
    life.compliance_rules_install_defaults()  # rows of data migrations are gone in transactional tests
    year = timezone.localdate().year - 1  # a whole year: every quarter is due, whatever today is
    comply_quarter(cast, cast.branch_a1, year, 4)
    publish_round(
        cast, f"{year}年度测评", timezone.localdate().replace(year=year, month=12, day=31),
        [(cast.committee_a, 91, "好"), (cast.general_b, 78, "一般")],
    )  # fmt: skip
    lagging = cast.branch_a2  # no meeting recorded at all

    page = login_as(cast.committee_admin, next_url=f"/dashboard/?year={year}")
    card = page.locator("#sz-card-compliance")
    link = card.locator(".sz-dash-lagging").get_by_role("link", name=lagging.name)
    link.wait_for()
    page.wait_for_selector('[data-chart="assess"] canvas')  # ECharts from the data island
    for name in ("duties", "talks", "care", "insight", "assess"):
        page.locator(f"#sz-card-{name} .sz-dash-body").wait_for()  # every card loaded on its own
    screenshot(page, "committee")

    link.click()  # click 1
    page.wait_for_load_state()
    assert page.url.endswith(f"/dashboard/org/{lagging.pk}/?year={year}")
    row = page.locator('#sz-card-gaps tr[data-metric="life.compliance_rate"]')
    button = row.get_by_role("button", name="派发整改事项")
    button.wait_for()
    screenshot(page, "branch")

    button.click()  # click 2
    page.wait_for_load_state()
    duty = Duty.objects.get(assignee_org=lagging, tags=f"驾驶舱整改:life.compliance_rate:{year}-Q4")
    assert duty.title == f"{year}年第四季度组织生活达标率低于要求"
    message = page.get_by_role("alert").filter(has_text=f"已向{lagging.name}派发整改事项")
    assert message.is_visible()
    assert message.get_by_role("link", name="查看整改事项").get_attribute("href") == f"/duties/{duty.pk}/"
    page.locator('#sz-card-gaps tr[data-metric="life.compliance_rate"]').get_by_role(
        "link", name="已派发整改事项，查看"
    ).wait_for()
    screenshot(page, "dispatched")

    message.get_by_role("link", name="查看整改事项").click()
    page.wait_for_load_state()
    assert page.get_by_text(duty.title).first.is_visible()


def test_the_meeting_room_display(cast, login_as):
    page = login_as(cast.committee_admin, next_url="/dashboard/")
    page.get_by_role("link", name="会议室展示").click()
    page.wait_for_load_state()
    assert page.locator(".sz-navbar").count() == 0
    assert page.get_by_role("button", name="进入全屏").is_visible()  # shown by the script
    page.locator("#sz-card-compliance .sz-dash-body").wait_for()
    screenshot(page, "display")
    page.get_by_role("link", name="退出展示模式").click()
    page.wait_for_load_state()
    assert page.locator(".sz-navbar").count() == 1
