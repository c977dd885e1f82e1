"""The committee admin opens the tree, the people list and a person page in a real browser."""

from __future__ import annotations

import pytest

from sizheng.core.tests.browser import screenshot
from sizheng.org.models import Person

pytestmark = pytest.mark.browser


def test_it_walks_the_tree_the_people_list_and_a_person_page(cast, login_as):
    page = login_as(cast.committee_admin)
    page.goto("/org/")
    branch = page.get_by_role("link", name="市财政局机关第一支部委员会")
    assert not branch.is_visible()  # folded under its committee
    page.locator("summary", has_text="市财政局机关委员会").click()
    assert branch.is_visible()
    screenshot(page, "tree")

    page.goto("/org/people/")
    assert page.get_by_role("link", name="刘洋").is_visible()
    screenshot(page, "people")
    page.get_by_role("link", name="刘洋").click()
    page.wait_for_load_state()
    person = Person.objects.get(name="刘洋")
    body = page.content()
    assert "刘洋" in body and person.id_number not in body and person.phone not in body
    screenshot(page, "person")


def test_it_shows_a_secretary_only_their_branch(cast, login_as):
    page = login_as(cast.secretary_a)
    page.goto("/org/people/")
    assert page.get_by_role("link", name="刘洋").is_visible()
    assert page.get_by_role("link", name="李红梅").count() == 0
    other = Person.objects.get(name="李红梅")
    response = page.goto(f"/org/people/{other.pk}/")
    assert response is not None and response.status == 404
    assert page.get_by_text("页面不存在", exact=True).is_visible()
    screenshot(page, "404")
