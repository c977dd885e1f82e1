"""Org admin (dangwu_a): the branch in the org tree, the roster (masked, then revealed and audited),
the roster export, registering a 思政骨干 to close the branch's staffing gap, the meeting ledger,
study plans, volunteering and notices."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_org_admin_journey(journey, demo):
    from sizheng.core.models import AuditEvent
    from sizheng.team.models import TeamMember

    me = demo.person("dangwu_a")
    member = demo.person("dangyuan")
    j = journey("dangwu_a")
    page = j.page
    j.visit("/", heading="工作台")
    j.shot("home", guide=True)
    if j.optional("/dashboard/", heading="驾驶舱"):
        j.shot("dashboard")

    # 组织架构 → the branch.
    j.visit("/org/", heading="组织架构")
    j.shot("org-tree", guide=True)
    page.get_by_role("link", name=me.org.name).first.click()
    page.wait_for_load_state()
    j.check_layout()
    j.shot("org-detail")

    # 人员名册: masked in the list and on the record; revealing the ID number is audited.
    j.visit("/org/people/", heading="人员")
    j.shot("people", guide=True)
    page.get_by_role("link", name=member.name, exact=True).first.click()
    page.wait_for_load_state()
    j.check_layout()
    expect(page.get_by_text(member.id_number)).to_have_count(0)
    reads = AuditEvent.objects.filter(action="read_sensitive").count()
    page.get_by_role("link", name="显示完整信息").click()
    page.wait_for_load_state()
    expect(page.get_by_text(member.id_number)).to_be_visible()
    j.shot("person-revealed", guide=True)
    assert AuditEvent.objects.filter(action="read_sensitive").count() == reads + 1
    j.visit("/org/people/", heading="人员")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    # 思政工作队伍: register the member as the branch's 思政骨干 (TEAM-2).
    j.visit("/team/coverage/", heading="配备情况")
    j.shot("team-coverage", guide=True)
    j.visit("/team/new/", heading="登记队伍成员")
    page.select_option("#id_person", value=str(member.pk))
    page.locator("#id_role_3").check()  # 思政骨干
    page.select_option("#id_subtype", label="青年干部")
    page.locator("#id_is_full_time_1").check()  # 兼职
    page.fill("#id_position", "支部思政骨干")
    page.locator("#id_covers_0").check()
    page.fill("#id_since", timezone.localdate().isoformat())
    j.shot("team-form", guide=True)
    j.submit("登记")
    entry = TeamMember.objects.get(person=member, role="backbone")
    assert not entry.is_full_time and entry.covers.filter(pk=me.org_id).exists()

    # 会议台账, 学习计划, 志愿活动.
    j.visit("/life/meetings/", heading="组织生活")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出三会一课台账（Excel）").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    j.visit("/study/plans/", heading="学习计划")
    j.visit("/volunteer/activities/", heading="志愿活动")
    j.shot("volunteer")
    if j.optional("/notices/", heading="通知"):
        j.shot("notices")
