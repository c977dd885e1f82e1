"""Bulk account creation from the people list: select, confirm, see the initial passwords once."""

from __future__ import annotations

import html as html_module

import pytest
from django.urls import reverse

from sizheng.core.models import AuditEvent, Role, User
from sizheng.org.models import Person
from sizheng.org.testing import make_person

pytestmark = pytest.mark.django_db
URL = reverse("org:accounts_create")


def test_it_offers_checkboxes_only_for_people_without_an_account(client, cast):
    newcomer = make_person("新人", cast.unit_a, org=cast.branch_a1)
    client.force_login(cast.org_admin)
    html = client.get(reverse("org:people")).content.decode()
    assert f'name="person" value="{newcomer.pk}"' in html
    assert f'name="person" value="{cast.person(cast.member).pk}"' not in html
    client.force_login(cast.secretary_a)
    assert 'name="person"' not in client.get(reverse("org:people")).content.decode()


def test_it_confirms_then_creates_accounts_and_shows_the_passwords_once(client, cast):
    first = make_person("新人", cast.unit_a, org=cast.branch_a1)
    second = make_person("另一人", cast.unit_a, org=cast.branch_a1)
    client.force_login(cast.org_admin)
    confirm = client.post(URL, {"person": [first.pk, second.pk, cast.person(cast.member).pk]})
    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert "新人" in html and "另一人" in html and "另有 1 人已有账号" in html
    assert Person.objects.get(pk=first.pk).user_id is None  # nothing happens before the confirmation

    result = client.post(URL, {"person": [first.pk, second.pk], "confirm": "1"})
    html = result.content.decode()
    assert result.status_code == 200
    assert "只在本页显示这一次" in html and "首次登录时都必须修改密码" in html
    for person in (first, second):
        user = Person.objects.get(pk=person.pk).user
        assert user is not None and user.must_change_password
        assert user.username in html
        assert not user.password.startswith(("plain", user.username))  # hashed, never stored in clear
    event = AuditEvent.objects.get(action="accounts_create")
    assert sorted(event.detail["people"]) == sorted([first.pk, second.pk])
    assert User.objects.get(person=first).has_role(Role.MEMBER)


def test_it_shows_a_password_that_logs_in(client, cast):
    newcomer = make_person("新人", cast.unit_a, org=cast.branch_a1)
    client.force_login(cast.committee_admin)
    html = client.post(URL, {"person": [newcomer.pk], "confirm": "1"}).content.decode()
    user = Person.objects.get(pk=newcomer.pk).user
    cells = html.split(f'<td class="sz-mono">{user.username}</td><td class="sz-mono">')[1]
    password = html_module.unescape(cells.split("</td>")[0])  # passwords may contain & and the like
    assert user.check_password(password)


def test_it_skips_people_outside_the_org_admins_scope(client, cast):
    elsewhere = make_person("外单位", cast.unit_b, org=cast.branch_b1)
    client.force_login(cast.org_admin)
    response = client.post(URL, {"person": [elsewhere.pk], "confirm": "1"})
    assert response.status_code == 422
    assert "不在您的管理范围内" in response.content.decode()
    assert Person.objects.get(pk=elsewhere.pk).user_id is None


def test_it_answers_405_403_and_404_on_account_creation(client, cast):
    newcomer = make_person("新人", cast.unit_a, org=cast.branch_a1)
    client.force_login(cast.org_admin)
    assert client.get(URL).status_code == 405
    client.force_login(cast.secretary_a)  # sees the list, but only 党务干部 open accounts
    assert client.post(URL, {"person": [newcomer.pk], "confirm": "1"}).status_code == 403
    for user in (cast.leader, cast.member, cast.secadmin):
        client.force_login(user)
        assert client.post(URL, {"person": [newcomer.pk], "confirm": "1"}).status_code == 404
    assert Person.objects.get(pk=newcomer.pk).user_id is None
    assert not AuditEvent.objects.filter(action="accounts_create").exists()
