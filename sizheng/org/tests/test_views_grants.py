"""Role grants by the security administrator: the non-roster roles, never the three system roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sizheng.core.models import AuditEvent, Role, RoleGrant
from sizheng.org.models import Org

pytestmark = pytest.mark.django_db
URL = reverse("org:grants")


def test_it_shows_the_grants_page_to_the_secadmin_only(client, cast):
    client.force_login(cast.secadmin)
    response = client.get(URL, {"q": "xinli"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "xinli2" in html  # the search finds accounts
    assert "心理咨询员" in html and cast.committee_a.name in html  # current manual grants with their scope
    for user in (cast.committee_admin, cast.sysadmin, cast.auditor, cast.secretary_a):
        client.force_login(user)
        assert client.get(URL).status_code == 404
        assert client.post(URL, {"username": "waibu", "role": Role.ASSESSOR}).status_code == 404
    assert not RoleGrant.objects.filter(user=cast.outsider, role=Role.ASSESSOR).exists()


def test_it_grants_a_leader_over_a_unit_with_audit(client, cast):
    client.force_login(cast.secadmin)
    assert client.put(URL).status_code == 405
    response = client.post(URL, {"username": "waibu", "role": Role.LEADER, "unit": cast.unit_c.pk})
    assert response.status_code == 302
    grant = RoleGrant.objects.get(user=cast.outsider, role=Role.LEADER)
    assert (grant.scope_kind, grant.scope_id, grant.source) == ("unit", cast.unit_c.pk, "manual")
    assert AuditEvent.objects.filter(action="role_grant", object_id=str(grant.pk)).exists()
    assert "waibu" in client.get(URL).content.decode()


def test_it_grants_a_backup_counselor_over_an_org_and_all_units_to_a_leader(client, cast):
    client.force_login(cast.secadmin)
    data = {"username": "waibu", "role": Role.COUNSELOR, "org": cast.general_b.pk, "is_backup": "on"}
    assert client.post(URL, data).status_code == 302
    grant = RoleGrant.objects.get(user=cast.outsider, role=Role.COUNSELOR)
    assert (grant.scope_kind, grant.scope_id, grant.is_backup) == ("org", cast.general_b.pk, True)
    assert (
        client.post(URL, {"username": "shuji_b", "role": Role.LEADER, "all_units": "on"}).status_code == 302
    )
    assert RoleGrant.objects.get(user=cast.secretary_b, role=Role.LEADER).scope_kind == "all"
    assert client.post(URL, {"username": "shuji_b", "role": Role.EXPERT}).status_code == 302
    assert RoleGrant.objects.get(user=cast.secretary_b, role=Role.EXPERT).scope_kind == "all"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "waibu", "role": Role.SYSADMIN}, "按三员分立要求一人不得兼任"),
        ({"username": "waibu", "role": Role.SECRETARY}, "请选择可以在这里授予的角色"),
        ({"username": "auditor", "role": Role.ASSESSOR}, "不能再授予业务角色"),
        ({"username": "nobody", "role": Role.ASSESSOR}, "没有找到用户名为“nobody”的在用账号"),
        ({"username": "waibu", "role": Role.LEADER}, "领导须选择一个单位"),
        ({"username": "waibu", "role": Role.UNION}, "心理咨询员和工会须选择负责的党组织。"),
    ],
)
def test_it_refuses_bad_grants_with_422_and_a_chinese_message(client, cast, data, message):
    client.force_login(cast.secadmin)
    before = RoleGrant.objects.count()
    response = client.post(URL, data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert RoleGrant.objects.count() == before


def test_it_revokes_a_manual_grant_with_audit(client, cast):
    grant = RoleGrant.objects.get(user=cast.union, role=Role.UNION)
    client.force_login(cast.secadmin)
    assert f'action="{reverse("org:grant_revoke", args=[grant.pk])}"' in client.get(URL).content.decode()
    response = client.post(reverse("org:grant_revoke", args=[grant.pk]))
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.ends_on == timezone.localdate() - timedelta(days=1)
    assert AuditEvent.objects.filter(action="role_revoke", object_id=str(grant.pk)).exists()
    union = type(cast.union).objects.get(pk=cast.union.pk)
    assert not Org.objects.visible_to(union).exists()
    assert not union.has_role(Role.UNION)
    # Granting it again reopens the same grant, audited.
    from sizheng.core import services as core_services

    again = core_services.role_grant(
        user=union, role=Role.UNION, scope_kind="org", scope_id=grant.scope_id, actor=cast.secadmin
    )
    assert again.pk == grant.pk and again.ends_on is None
    assert type(cast.union).objects.get(pk=cast.union.pk).has_role(Role.UNION)
    assert AuditEvent.objects.filter(action="role_grant_reopen", object_id=str(grant.pk)).exists()


def test_it_refuses_to_revoke_roster_grants_or_by_others(client, cast):
    derived = RoleGrant.objects.get(user=cast.secretary_a, role=Role.SECRETARY)
    manual = RoleGrant.objects.get(user=cast.union, role=Role.UNION)
    client.force_login(cast.secadmin)
    assert client.get(reverse("org:grant_revoke", args=[manual.pk])).status_code == 405
    assert client.post(reverse("org:grant_revoke", args=[derived.pk])).status_code == 404
    system = RoleGrant.objects.get(user=cast.sysadmin)
    assert client.post(reverse("org:grant_revoke", args=[system.pk])).status_code == 404
    client.force_login(cast.committee_admin)
    assert client.post(reverse("org:grant_revoke", args=[manual.pk])).status_code == 404
    for grant in (derived, manual, system):
        grant.refresh_from_db()
        assert grant.ends_on is None or grant.ends_on >= timezone.localdate()
