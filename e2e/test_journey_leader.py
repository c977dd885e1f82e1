"""Unit leader (lingdao): aggregates for the unit — the dashboard, organisational-life compliance,
funds, staffing, volunteering, survey results and analysis reports, study and assessment results;
read-only everywhere except their own study and talks."""

from __future__ import annotations

import pytest
from django.utils import timezone

pytestmark = pytest.mark.browser


def test_leader_journey(journey, demo):
    from sizheng.assess.models import RoundState, Target

    me = demo.person("lingdao")
    year = timezone.localdate().year
    j = journey("lingdao")
    page = j.page
    j.visit("/", heading="工作台")
    j.shot("home", guide=True)
    if j.optional("/dashboard/", heading="驾驶舱"):
        j.shot("dashboard", guide=True)
    if j.optional(f"/dashboard/unit/{me.unit_id}/", heading="驾驶舱"):
        j.shot("dashboard-unit")  # the same page the menu opens (guide: lingdao-dashboard.png)

    j.visit(f"/life/compliance/?year={year}", heading="组织生活合规情况")
    j.shot("compliance", guide=True)
    j.visit("/funds/", heading="经费执行")
    j.shot("funds", guide=True)
    page.get_by_role("link", name=me.unit.name).first.click()
    page.wait_for_load_state()
    j.check_layout()
    j.shot("funds-unit")
    # A leader reads the ledger but records no spending.
    j.refused("/funds/spending/new/")

    j.visit("/team/coverage/", heading="配备情况")
    j.shot("team-coverage", guide=True)
    j.visit("/volunteer/overview/", heading="志愿服务统计")
    j.shot("volunteer", guide=True)
    j.visit("/insight/surveys/", heading="问卷调查")
    j.visit("/insight/reports/", heading="分析研判")
    j.visit("/study/", heading="我的学习")

    # The unit's assessment result, once the round is published.
    target = (
        Target.objects.filter(assessment__state=RoundState.PUBLISHED, org__units=me.unit)
        .order_by("-assessment__pk")
        .first()
    )
    if target is not None:
        j.visit(f"/assess/targets/{target.pk}/result/")
        j.shot("assess-result", guide=True)
    if j.optional("/notices/", heading="通知"):
        j.shot("notices")
