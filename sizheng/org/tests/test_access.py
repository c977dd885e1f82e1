"""The scope rule: who sees which orgs and people; 404 outside scope; terms move access."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.http import Http404

from sizheng.core.apitools import Conflict
from sizheng.org import access, services
from sizheng.org.models import Org, OrgRole, Person
from sizheng.org.testing import make_person

pytestmark = pytest.mark.django_db


def _codes(user):
    return set(Org.objects.visible_to(user).distinct().values_list("code", flat=True))


def _names(user):
    return set(Person.objects.visible_to(user).values_list("name", flat=True))


def test_it_gives_the_committee_admin_the_whole_tree(cast):
    assert _codes(cast.committee_admin) == set(Org.objects.values_list("code", flat=True))
    assert len(_names(cast.committee_admin)) == Person.objects.count()


def test_it_limits_a_branch_secretary_to_their_subtree(cast):
    assert _codes(cast.secretary_a) == {"A1"}
    assert _names(cast.secretary_a) == {"王建国", "赵敏", "刘洋"}
    assert _codes(cast.secretary_b) == {"B1"}
    assert _names(cast.secretary_b) == {"李红梅"}


def test_it_lets_the_unit_root_secretary_see_non_members_of_the_unit(cast):
    unit_sec = make_person("吴刚", cast.unit_a, org=cast.committee_a, username="unit_sec")
    services.org_role_assign(
        actor=None,
        org=cast.committee_a,
        person=unit_sec,
        title=OrgRole.Title.SECRETARY,
        starts_on=date(2024, 6, 1),
    )
    names = _names(unit_sec.user)
    assert "周杰" in names  # not a party member: belongs to the unit
    assert "孙丽" not in names
    assert _codes(unit_sec.user) == {"A", "A1", "A2"}


def test_it_shows_a_member_only_themself_and_their_branch(cast):
    assert _names(cast.member) == {"刘洋"}
    assert _codes(cast.member) == {"A1"}


def test_it_shows_a_leader_their_units_orgs_but_no_list_of_people(cast):
    assert _codes(cast.leader) == {"A", "A1", "A2", "A-LG"}
    assert _names(cast.leader) == {"陈志强"}
    assert not access.can_list_people(cast.leader)


def test_it_shows_system_roles_no_content(cast):
    for user in (cast.sysadmin, cast.secadmin, cast.auditor):
        assert _codes(user) == set() and _names(user) == set()


def test_it_answers_404_outside_scope(cast):
    other = Person.objects.get(name="李红梅")
    with pytest.raises(Http404):
        access.get_person_or_404(cast.secretary_a, other.pk)
    with pytest.raises(Http404):
        access.get_org_or_404(cast.secretary_a, cast.branch_b1.pk)
    assert access.get_person_or_404(cast.secretary_b, other.pk) == other


def test_it_shows_identifiers_only_to_the_org_admin_in_scope(cast):
    member = Person.objects.get(name="刘洋")
    assert access.sees_identifiers(cast.org_admin, member)
    assert not access.sees_identifiers(cast.secretary_a, member)
    assert not access.sees_identifiers(cast.committee_admin, member)


def test_it_raises_403_and_409_helpers():
    with pytest.raises(PermissionDenied):
        access.require(False)

    class Obj:
        version = 3

    with pytest.raises(Conflict):
        access.check_version(Obj(), 2)
    access.check_version(Obj(), 3)


def test_it_moves_access_from_the_old_to_the_new_secretary_at_term_end(cast):
    successor = make_person("郑新", cast.unit_a, org=cast.branch_a1, username="xin_shuji")
    with time_machine.travel(date(2027, 5, 1), tick=False):
        services.org_handover(
            actor=cast.committee_admin,
            org=cast.branch_a1,
            on=date(2027, 6, 1),
            term_ends_on=date(2030, 5, 31),
            posts=[(successor, OrgRole.Title.SECRETARY)],
        )
    with time_machine.travel(date(2027, 5, 31), tick=False):
        assert _names(cast.secretary_a) >= {"刘洋"}  # the old term still runs today
        assert _names(successor.user) == {"郑新"}
    with time_machine.travel(date(2027, 6, 1), tick=False):
        for user in (cast.secretary_a, successor.user):  # a new day is a new request
            for cached in ("_sz_scope", "_grants_cache", "_role_cache"):
                user.__dict__.pop(cached, None)
        assert _names(cast.secretary_a) == {"王建国"}  # back to themself only
        assert "刘洋" in _names(successor.user)
        assert _codes(successor.user) == {"A1"}


def test_it_tells_primary_from_backup_holders_and_exact_orgs(cast):
    from sizheng.core.models import Role
    from sizheng.org.access import scope_of

    primary, backup = scope_of(cast.counselor), scope_of(cast.counselor_backup)
    a1 = cast.branch_a1.path
    assert primary.covers(Role.COUNSELOR, a1, primary_only=True)
    assert backup.covers(Role.COUNSELOR, a1)
    assert not backup.covers(Role.COUNSELOR, a1, primary_only=True)
    assert not primary.covers(Role.COUNSELOR, cast.branch_b1.path)
    secretary = scope_of(cast.secretary_a)
    assert secretary.org_ids[Role.SECRETARY] == [cast.branch_a1.pk]
