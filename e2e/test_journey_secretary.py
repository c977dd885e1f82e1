"""Branch secretary (shuji_a): the workbench, a meeting record, a talk record, own duties, the
unit's self-assessment, study and the branch's view of the dashboard, notices and search — at
1366×768 and on a phone (390×844)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from e2e.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.browser

TOPIC = "学习贯彻全会精神专题研讨"
SUMMARY = "谈了近期工作安排和家庭情况，约定下月再谈。"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_secretary_journey(journey, demo, viewport):
    from sizheng.assess.models import Entry, Target
    from sizheng.life.models import Meeting
    from sizheng.talks.models import Talk

    me = demo.person("shuji_a")
    j = journey("shuji_a", viewport=viewport)
    page = j.page
    j.visit("/", heading="工作台")
    j.shot("home", guide=True)
    if j.optional("/dashboard/"):
        j.shot("dashboard", guide=True)

    # 记录会议: a 支委会 held today, every member present by default.
    # The kind comes in the address (as from the calendar), so the attendance list is the committee's.
    j.visit("/life/meetings/new/?kind=committee_meeting", heading="记录会议")
    expect(page.locator("#id_kind")).to_have_value("committee_meeting")
    page.fill("#id_topic", TOPIC)
    page.fill("#id_day", timezone.localdate().isoformat())
    page.fill("#id_start_time", "09:00")
    page.fill("#id_end_time", "10:30")
    page.fill("#id_place", "三楼党员活动室")
    j.shot("meeting-form", guide=True)
    j.submit("提交")
    expect(page.get_by_text(TOPIC).first).to_be_visible()
    j.shot("meeting-detail", guide=True)
    meeting = Meeting.objects.get(org=me.org, topic=TOPIC)
    assert timezone.localtime(meeting.starts_at).date() == timezone.localdate()
    assert meeting.kind == "committee_meeting" and meeting.attendance.exists()
    j.visit("/life/meetings/", heading="组织生活")
    expect(page.get_by_role("link", name=TOPIC)).to_be_visible()

    # 登记谈心谈话 with one member of the branch.
    j.visit("/talks/new/", heading="登记谈心谈话")
    counterpart = page.locator("label.form-selectgroup-item:has(input[name=counterparts])").first
    counterpart_name = counterpart.inner_text().strip()
    counterpart.click()
    page.locator("label.form-selectgroup-item", has_text="面谈").first.click()
    page.get_by_label("谈话摘要").fill(SUMMARY)
    j.shot("talk-form", guide=True)
    j.submit("登记")
    expect(page.get_by_text("谈心谈话已登记。")).to_be_visible()
    j.shot("talk-detail", guide=True)
    talk = Talk.objects.filter(initiator=me).latest("pk")
    assert counterpart_name in list(talk.counterparts.values_list("name", flat=True))
    j.visit("/talks/mine/")

    # 我的事项: the duty on the branch, opened from the list.
    j.visit("/duties/mine/", heading="我的事项")
    j.shot("duties", guide=True)
    page.locator("main table a[href^='/duties/']").first.click()
    page.wait_for_load_state()
    j.check_layout()
    j.shot("duty-detail", guide=True)

    # 单位自评: one indicator's value and note, saved as a draft.
    target = Target.objects.get(org=me.org, assessment__state="open")
    j.visit("/assess/tasks/", heading="我的考核任务")
    page.get_by_role("link", name="填写自评").first.click()
    page.wait_for_load_state()
    j.check_layout()
    first_value = page.locator("input[type=number][name^=v_]").first
    indicator_id = int(first_value.get_attribute("name").removeprefix("v_"))
    first_value.fill("5")
    page.fill(f"#id_n_{indicator_id}", "书记带头讲党课 2 次，参加双重组织生活。")
    j.shot("self-assessment", guide=True)
    j.submit("保存草稿")
    entry = Entry.objects.get(target=target, indicator_id=indicator_id, side=Entry.Side.SELF)
    assert entry.value == 5 and "讲党课" in entry.note

    # 理论学习 and the branch's notices and search.
    j.visit("/study/", heading="我的学习")
    if j.optional("/notices/"):
        j.shot("notices")
    if j.optional(f"/search/?q={me.name}"):
        expect(page.locator("main").get_by_text(me.name).first).to_be_visible()


def test_a_reelected_secretary_is_expected_at_the_committee_meeting(demo):
    from sizheng.life.models import MeetingKind
    from sizheng.life.services import expected_attendees

    me = demo.person("shuji_a")
    assert me in expected_attendees(me.org, MeetingKind.COMMITTEE_MEETING)


@pytest.mark.parametrize(
    ("username", "landing"),
    [("shuji_a", "/dashboard/org/"), ("lingdao", "/dashboard/unit/"), ("gongwei", "/dashboard/")],
)
def test_the_dashboard_fits_a_phone(demo, login_as, page, username, landing):
    """The branch page (secretary), the unit page (leader, who lands there) and the committee page on a
    390 px phone: the cards' tables scroll inside their card, the page itself never sideways."""
    page.set_viewport_size(PHONE)
    login_as(username, next_url="/dashboard/")
    page.wait_for_load_state("networkidle")
    assert landing in page.url
    expect(page.locator(".sz-dash-loading")).to_have_count(0)  # every card is in
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url}：页面宽 {width}px，窗口宽 {inner}px"
