"""The results page in a real browser: the grade and sensitivity charts draw (ECharts from the data
island, under the CSP, without console errors)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sizheng.assess.models import RoundState
from sizheng.assess.tests.conftest import build_small_system
from sizheng.assess.tests.test_results import three
from sizheng.core.tests.browser import screenshot

pytestmark = pytest.mark.browser


def test_the_results_page_draws_its_charts(ac, login_as):
    a = three(ac, build_small_system(), state=RoundState.PUBLISHED, use_topsis=True)
    page = login_as(ac.committee_admin, next_url=reverse("assess:results", args=[a.pk]))
    page.wait_for_selector('[data-chart="sensitivity"] canvas')
    page.wait_for_selector('[data-chart="grades"] canvas')
    box = page.locator('[data-chart="sensitivity"]').bounding_box()
    assert box is not None and box["height"] >= 150
    page.locator('[data-chart="sensitivity"]').scroll_into_view_if_needed()
    screenshot(page, "assess-results")
    page.get_by_role("link", name="市财政局党组").first.click()
    page.wait_for_load_state()
    assert page.get_by_text("无数据，权重已按比例分配给同级指标").first.is_visible()
    screenshot(page, "assess-result")
