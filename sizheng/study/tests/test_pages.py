"""Every study page opens for each kind of user, in Chinese, without inline scripts or styles."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

LISTS = ["study:mine", "study:plans", "study:groups", "study:sessions", "study:observations"]
FORMS = ["study:plan_create", "study:group_create", "study:session_create", "study:observation_create"]


def test_it_opens_every_list_page_for_members_secretaries_and_the_committee(client, cast):
    for user in (cast.member, cast.secretary_a, cast.committee_admin, cast.leader):
        client.force_login(user)
        for name in LISTS:
            response = client.get(reverse(name))
            html = response.content.decode()
            assert response.status_code == 200, (user, name)
            assert "学习" in html
            assert "<script>" not in html  # no inline scripts (CSP)


def test_it_opens_the_new_forms_for_managers_only(client, cast):
    client.force_login(cast.secretary_a)
    for name in FORMS:
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert '<form method="post"' in response.content.decode()
    client.force_login(cast.member)
    for name in [*FORMS, "study:archive"]:
        assert client.get(reverse(name)).status_code == 403


def test_it_shows_the_nav_entry(client, cast):
    client.force_login(cast.member)
    html = client.get(reverse("core:home")).content.decode()
    assert f'href="{reverse("study:mine")}"' in html and "理论学习" in html


def test_it_needs_a_login(client, cast):
    response = client.get(reverse("study:mine"))
    assert response.status_code == 302 and "login" in response["Location"]
