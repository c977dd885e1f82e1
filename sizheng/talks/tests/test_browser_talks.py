"""A branch secretary records a talk on a phone-width screen; the counterpart then finds it in "my talks"."""

from __future__ import annotations

import pytest

from sizheng.core.tests.browser import screenshot
from sizheng.talks.models import Mode, Status, Talk

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def test_it_records_a_talk_on_a_phone(cast, login_as):
    page = login_as(cast.secretary_a, next_url="/talks/new/")
    page.set_viewport_size(PHONE)
    page.reload()
    # Everything fits the phone's width: no sideways scrolling on the form.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("label.form-selectgroup-item", has_text="刘洋").click()
    page.locator("label.form-selectgroup-item", has_text="电话").click()
    page.locator("label.form-selectgroup-item", has_text="工作").click()
    page.locator("label.form-selectgroup-item", has_text="职业发展").click()
    page.get_by_label("谈话摘要").fill("谈了近期工作安排和职业发展打算，约定下月再谈。")
    screenshot(page, "form")
    page.get_by_role("button", name="登记", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_text("谈心谈话已登记。").is_visible()
    screenshot(page, "detail")
    talk = Talk.objects.get()
    assert (talk.mode, talk.status, talk.tag_list) == (Mode.PHONE, Status.HELD, ["工作", "职业发展"])
    assert talk.initiator == cast.person(cast.secretary_a)
    assert list(talk.participants.filter(is_initiator=False).values_list("person__name", flat=True)) == [
        "刘洋"
    ]

    page.goto("/talks/")
    assert page.get_by_role("link", name="查看").count() == 1
    screenshot(page, "ledger")

    page = login_as(cast.member, next_url="/talks/mine/")
    page.set_viewport_size(PHONE)
    assert page.get_by_text("王建国").first.is_visible()
    page.get_by_role("link", name="查看").first.click()
    page.wait_for_load_state()
    assert page.get_by_text("谈了近期工作安排").is_visible()
    screenshot(page, "counterpart")
