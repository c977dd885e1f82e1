"""Union handler (gonghui): the care cases routed to the union, taking one forward, the ledger export."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_union_journey(journey, demo):
    from sizheng.care.models import CareAction, CareCase

    j = journey("gonghui")
    page = j.page
    j.visit("/", heading="工作台")
    j.shot("home", guide=True)
    page.get_by_role("link", name="查看待办的困难诉求").click()
    page.wait_for_load_state()
    j.check_layout()
    j.shot("cases", guide=True)

    case = CareCase.objects.filter(handler="union", state="accepted").order_by("-pk").first()
    assert case is not None, "演示数据中应有转给工会、待受理的困难诉求"
    j.visit(f"/care/{case.pk}/", heading="困难诉求")
    j.shot("case", guide=True)
    page.fill("#id_start_note", "已与本人电话联系，了解具体困难。")
    j.submit("开始办理")
    case.refresh_from_db()
    assert case.state == "in_progress"
    actions = CareAction.objects.filter(case=case).count()
    page.select_option("#id_add_action_kind", label="走访慰问")
    page.fill("#id_add_action_note", "工会副主席上门走访，送去慰问金，协调所在处室调整工作安排。")
    j.shot("case-progress", guide=True)
    j.submit("记录帮扶情况")
    assert CareAction.objects.filter(case=case).count() == actions + 1

    j.visit("/care/?mine=on", heading="困难诉求台账")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出困难诉求台账（Excel）").click()
    assert download.value.suggested_filename.endswith(".xlsx")
