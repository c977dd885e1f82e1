"""Counselor (xinli): the crisis alert list on the caseload, acknowledging an alert (which opens a
counselling case), the case, the contact requests, the anonymous statistics and the survey risk
prompts — never a name from an anonymous answer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_counselor_journey(journey, demo):
    from sizheng.care.models import CounselingCase, CrisisAlert, SessionNote

    j = journey("xinli")
    page = j.page
    j.visit("/", heading="工作台")
    j.shot("home", guide=True)

    j.visit("/care/wellbeing/caseload/", heading="心理咨询工作台")
    j.shot("caseload", guide=True)
    alert = CrisisAlert.objects.filter(state=CrisisAlert.State.OPEN).order_by("pk").first()
    assert alert is not None, "演示数据中应有待确认的危机预警"
    page.locator(f"main a[href='/care/wellbeing/alerts/{alert.pk}/']").first.click()
    page.wait_for_load_state()
    j.check_layout()
    j.shot("alert", guide=True)
    j.submit("确认预警并接案")
    alert.refresh_from_db()
    assert alert.state == CrisisAlert.State.ACKNOWLEDGED and alert.acknowledged_by == demo.user("xinli")
    case = CounselingCase.objects.filter(person=alert.person).latest("pk")
    j.shot("case", guide=True)
    expect(page.get_by_text(alert.person.name).first).to_be_visible()
    page.fill("#id_note", "电话联系当事人，约定明天上午面谈；已告知心理援助热线。")
    j.submit("保存记录")
    assert SessionNote.objects.filter(case=case, author=demo.user("xinli")).count() == 1

    j.visit("/care/wellbeing/stats/", heading="心理自评统计")
    j.shot("stats", guide=True)
    j.visit("/insight/risk-alerts/", heading="问卷风险提示")
    j.shot("risk-alerts", guide=True)
    # A counselor has no business in the duty board or the roster.
    j.refused("/org/people/")
