"""Where ``/dashboard/`` sends each role: the committee admin stays on the committee page; a unit
leader lands on their unit's summary even when they also lead the unit's 党组 (as in the demo: the
head of a unit is its 党组书记); a secretary or 党务干部 on their branch; everyone else on their own."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sizheng.core.models import Role, RoleGrant
from sizheng.org.models import OrgRole
from sizheng.org.testing import appoint

pytestmark = pytest.mark.django_db


def landing(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("dashboard:index"))
    if response.status_code == 200:
        return reverse("dashboard:index")
    assert response.status_code == 302
    return response["Location"]


def test_a_leader_who_is_also_the_leading_group_secretary_lands_on_the_unit(client, cast):
    appoint(cast.person(cast.leader), cast.leading_a, OrgRole.Title.SECRETARY)  # grants secretary
    assert RoleGrant.objects.filter(
        user=cast.leader, role=Role.SECRETARY, scope_id=cast.leading_a.pk
    ).exists()
    unit_page = reverse("dashboard:unit", args=[cast.unit_a.pk])
    assert landing(client, cast.leader) == unit_page
    body = client.get(unit_page).content.decode()
    assert "单位驾驶舱" in body
    # The 党组's page is one pill away, and the pill of the current page is marked.
    assert f'href="{reverse("dashboard:org", args=[cast.leading_a.pk])}"' in body
    assert f'href="{unit_page}" aria-current="page"' in body


def test_a_leader_of_several_units_lands_on_the_first_and_the_pills_offer_the_others(client, cast):
    for unit in (cast.unit_b, cast.unit_c):
        RoleGrant.objects.create(
            user=cast.leader, role=Role.LEADER, scope_kind=RoleGrant.ScopeKind.UNIT, scope_id=unit.pk
        )
    cast.unit_c.order = 0  # the units' own order, as the switcher lists them: C, A, B
    cast.unit_c.save(update_fields=["order"])
    assert landing(client, cast.leader) == reverse("dashboard:unit", args=[cast.unit_c.pk])
    body = client.get(reverse("dashboard:unit", args=[cast.unit_c.pk])).content.decode()
    positions = [
        body.index(f'href="{reverse("dashboard:unit", args=[u.pk])}"')
        for u in (cast.unit_c, cast.unit_a, cast.unit_b)
    ]
    assert positions == sorted(positions)


def test_the_query_string_is_kept(client, cast):
    client.force_login(cast.leader)
    response = client.get(reverse("dashboard:index") + "?year=2025")
    assert response["Location"] == reverse("dashboard:unit", args=[cast.unit_a.pk]) + "?year=2025"


@pytest.mark.parametrize(
    ("who", "where"),
    [
        ("committee_admin", "index"),
        ("secretary_a", "org:branch_a1"),
        ("org_admin", "org:branch_a1"),
        ("secretary_b", "org:branch_b1"),
        ("member", "me"),
        ("counselor", "me"),
        ("outsider", "me"),
    ],
)
def test_everyone_else_keeps_their_page(client, cast, who, where):
    kind, _, org = where.partition(":")
    if kind == "org":
        expected = reverse("dashboard:org", args=[getattr(cast, org).pk])
    else:
        expected = reverse(f"dashboard:{kind}")
    assert landing(client, getattr(cast, who)) == expected


def test_the_committee_admin_who_also_leads_a_unit_stays_on_the_committee_page(client, cast):
    RoleGrant.objects.create(
        user=cast.committee_admin,
        role=Role.LEADER,
        scope_kind=RoleGrant.ScopeKind.UNIT,
        scope_id=cast.unit_a.pk,
    )
    assert landing(client, cast.committee_admin) == reverse("dashboard:index")
