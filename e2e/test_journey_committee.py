"""Committee admin (gongwei): the dashboard, deploying a duty and a year's responsibility list, the
compliance heatmap and turning a gap into a duty, survey results, an assessment round's results,
funds, team and talk coverage, notices and search."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

DUTY_TITLE = "报送本单位年度思想政治工作总结"


def test_committee_admin_journey(journey, demo):
    from sizheng.assess.models import Assessment, RoundState
    from sizheng.duties.models import Duty, DutyList, SourceKind
    from sizheng.insight.models import Wave, WaveState
    from sizheng.org.models import Org

    today = timezone.localdate()
    branch = demo.person("shuji_a").org
    j = journey("gongwei")
    page = j.page
    j.visit("/", heading="工作台")
    j.shot("home", guide=True)
    if j.optional("/dashboard/", heading="驾驶舱"):
        j.shot("dashboard", guide=True)

    # 部署事项 to one branch.
    j.visit("/duties/new/", heading="部署事项")
    page.fill("#id_org", branch.code)  # the org picker: type, then choose the suggestion
    page.get_by_role("option", name=f"{branch.name}（{branch.code}）", exact=True).click()
    page.fill("#id_title", DUTY_TITLE)
    page.fill("#id_category", "情况通报")
    page.fill("#id_description", "总结全年思想政治工作开展情况、经验做法和存在问题，不超过 3000 字。")
    page.fill("#id_due_on", (today + timedelta(days=20)).isoformat())
    page.select_option("#id_priority", label="重要")
    j.shot("duty-form", guide=True)
    j.submit("部署")
    expect(page.get_by_text(DUTY_TITLE).first).to_be_visible()
    j.shot("duty-detail", guide=True)
    duty = Duty.objects.get(title=DUTY_TITLE)
    assert duty.assignee_org == branch and duty.priority == "high" and duty.state == "assigned"

    # 责任清单: next year's list for a joint branch, from the default template.
    joint = Org.objects.filter(name__contains="联合党支部").order_by("pk").first()
    j.visit("/duties/lists/", heading="责任清单")
    page.fill("#id_org", joint.code)  # the org picker: type, then choose the suggestion
    page.get_by_role("option", name=f"{joint.name}（{joint.code}）", exact=True).click()
    page.fill("#id_year", str(today.year + 1))
    page.locator("#id_mode_0").check()
    j.shot("duty-lists", guide=True)
    j.submit("创建并部署")
    duty_list = DutyList.objects.get(org=joint, year=today.year + 1)
    assert Duty.objects.filter(duty_list=duty_list).count() > 10
    j.visit("/duties/", heading="责任事项看板")
    j.shot("duty-board", guide=True)

    # 合规热力图 → a branch's quarter → 转为督办事项.
    j.visit(f"/life/compliance/?year={today.year}&grain=quarter", heading="组织生活合规情况")
    j.shot("compliance", guide=True)
    page.locator("main a", has_text="未达标").first.click()
    page.wait_for_load_state()
    j.check_layout()
    j.shot("compliance-cell", guide=True)
    before = Duty.objects.filter(source_kind=SourceKind.COMPLIANCE).count()
    j.submit("转为督办事项")
    assert Duty.objects.filter(source_kind=SourceKind.COMPLIANCE).count() == before + 1

    # 问卷调查: the last closed wave's results.
    wave = Wave.objects.filter(state=WaveState.CLOSED).order_by("-closes_on", "-pk").first()
    j.visit("/insight/surveys/", heading="问卷调查")
    j.visit(f"/insight/surveys/{wave.survey_id}/", heading=wave.survey.title)
    page.locator(f"a[href='/insight/waves/{wave.pk}/results/']").first.click()
    page.wait_for_load_state()
    j.check_layout()
    j.shot("survey-results", guide=True)

    # 考核结果 of the last published round.
    published = Assessment.objects.filter(state=RoundState.PUBLISHED).order_by("-pk").first()
    j.visit("/assess/rounds/", heading="考核轮次")
    page.get_by_role("link", name=published.title).first.click()
    page.wait_for_load_state()
    j.visit(f"/assess/rounds/{published.pk}/results/", heading="考核结果")
    j.shot("assess-results", guide=True)

    # 经费执行, 队伍配备, 谈话覆盖.
    j.visit("/funds/", heading="经费执行")
    j.shot("funds", guide=True)
    page.locator("main table a[href^='/funds/units/']").first.click()
    page.wait_for_load_state()
    j.check_layout()
    j.visit("/team/coverage/", heading="配备情况")
    j.visit(f"/talks/coverage/?year={today.year}")
    j.shot("talk-coverage")

    if j.optional("/notices/", heading="通知"):
        j.shot("notices", guide=True)
    if j.optional(f"/search/?q={branch.name}", heading="搜索"):
        expect(page.locator("main").get_by_text(branch.name).first).to_be_visible()
        j.shot("search", guide=True)
