"""A duty's loop in a real browser: the branch accepts, starts and reports; the committee closes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sizheng.core.tests.browser import screenshot
from sizheng.duties import services
from sizheng.duties.models import Duty, State

pytestmark = pytest.mark.browser


def test_it_runs_a_duty_from_assignment_to_close(cast, login_as):
    duty = services.duty_open(
        org=cast.branch_a1,
        title="开展一次专题调查研究",
        assigning_org=cast.root,
        due_on=timezone.localdate() + timedelta(days=20),
        actor=cast.committee_admin,
    )
    page = login_as(cast.secretary_a, next_url=f"/duties/{duty.pk}/")
    for label in ("认领", "开始落实"):
        page.get_by_role("button", name=label).click()
        page.wait_for_load_state()
    page.get_by_label("落实情况及佐证说明").fill("已走访 3 个处室，形成调研报告。")
    page.get_by_role("button", name="报送").click()
    page.wait_for_load_state()
    screenshot(page, "reported")
    assert Duty.objects.get(pk=duty.pk).state == State.REPORTED

    page = login_as(cast.committee_admin, next_url="/duties/")
    screenshot(page, "board")
    page.goto(f"/duties/{duty.pk}/")
    page.get_by_role("button", name="开始督查").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="销号").click()
    page.wait_for_load_state()
    screenshot(page, "closed")
    assert Duty.objects.get(pk=duty.pk).state == State.CLOSED
