"""Security auditor (auditor): the append-only audit log, filtered by action and by person, and its
export; nothing of the business modules."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_auditor_journey(journey, demo):
    j = journey("auditor")
    page = j.page
    j.visit("/", heading="工作台")
    j.shot("home")
    j.visit("/system/audit/", heading="审计日志")
    j.shot("audit-log", guide=True)
    page.fill("#id_action", "duty_open")
    j.submit("筛选")
    rows = page.locator("main table tbody tr")
    assert rows.count() > 0
    expect(rows.first).to_contain_text("duty_open")
    j.shot("audit-filtered", guide=True)
    page.fill("#id_action", "")
    page.fill("#id_q", "gongwei")
    j.submit("筛选")
    expect(page.locator("main table tbody tr").first).to_contain_text("gongwei")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    # 三员分立: the auditor sees no business data.
    j.refused("/org/people/")
    j.visit("/duties/", heading="责任事项看板")
    expect(page.get_by_text("共 0 项")).to_be_visible()
    j.visit("/care/", heading="困难诉求台账")
    expect(page.get_by_text("没有符合条件的困难诉求")).to_be_visible()
