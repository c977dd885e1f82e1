"""A secretary records a 党员大会 in the browser; the committee's heatmap turns that quarter to met."""

from __future__ import annotations

import pytest
from django.utils import timezone

from sizheng.core.tests.browser import screenshot
from sizheng.life import services
from sizheng.life.models import Meeting, MeetingKind

pytestmark = pytest.mark.browser


def test_it_records_a_members_meeting_and_the_heatmap_shows_it(cast, login_as):
    # A transactional test: an earlier flush may have removed the rules the data migration loaded.
    services.compliance_rules_install_defaults()
    today = timezone.localdate()
    page = login_as(cast.secretary_a, next_url="/life/meetings/new/?kind=members_meeting")
    page.locator("#id_topic").fill("学习贯彻全会精神")
    page.get_by_label("日期").fill(today.isoformat())
    page.get_by_label("开始时间").fill("09:00")
    page.get_by_label("结束时间").fill("11:00")
    page.get_by_label("地点").fill("三楼会议室")
    screenshot(page, "form")
    page.get_by_role("button", name="提交").click()
    page.wait_for_load_state()
    screenshot(page, "detail")
    meeting = Meeting.objects.get(org=cast.branch_a1, kind=MeetingKind.MEMBERS_MEETING)
    assert meeting.attendance.count() == 3

    page = login_as(cast.committee_admin, next_url=f"/life/compliance/?year={today.year}&grain=quarter")
    screenshot(page, "heatmap")
    assert page.get_by_text("市财政局机关第一支部委员会").count() >= 1
