"""The per-request user load: the roster ids ride along with the user row; the menu is built once
per set of roles."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.core import nav
from sizheng.org import access
from sizheng.org.backends import PersonAwareBackend
from sizheng.org.models import Person

pytestmark = pytest.mark.django_db


def _load(user):
    return PersonAwareBackend().get_user(user.pk)


def _roster_reads(fn):
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return result, [q["sql"] for q in ctx.captured_queries if 'FROM "org_person"' in q["sql"]]


def test_a_signed_in_request_reads_the_roster_ids_without_a_query_of_their_own(cast):
    user = _load(cast.member)
    person = Person.objects.get(user=cast.member)
    scope, reads = _roster_reads(lambda: access.scope_of(user))
    assert reads == []
    assert (scope.person_id, scope.own_org_id, scope.own_unit_id) == (
        person.pk,
        person.org_id,
        person.unit_id,
    )
    _, reads = _roster_reads(lambda: access.scope_of(type(user).objects.get(pk=user.pk)))
    assert len(reads) == 1  # loaded any other way, the user's roster ids cost a query (the old path)


def test_a_user_without_a_roster_record_has_no_person_in_scope(cast, django_assert_num_queries):
    user = _load(cast.sysadmin)
    assert not Person.objects.filter(user=cast.sysadmin).exists()
    with django_assert_num_queries(1):
        scope = access.scope_of(user)
    assert scope.person_id is None and scope.own_org_id is None


def test_scope_is_the_same_however_the_user_was_loaded(cast):
    for user in (cast.member, cast.secretary_a, cast.committee_admin, cast.leader, cast.outsider):
        fresh = type(user).objects.get(pk=user.pk)  # no annotations: scope_of queries the person
        a, b = access.scope_of(_load(user)), access.scope_of(fresh)
        assert (a.person_id, a.own_org_id, a.own_unit_id, a.org_paths, a.everything) == (
            b.person_id,
            b.own_org_id,
            b.own_unit_id,
            b.org_paths,
            b.everything,
        )


def test_an_inactive_or_missing_user_is_not_loaded(cast):
    cast.outsider.is_active = False
    cast.outsider.save(update_fields=["is_active"])
    assert _load(cast.outsider) is None
    assert PersonAwareBackend().get_user(10**9) is None


def test_the_menu_is_shared_by_users_with_the_same_roles_and_differs_by_role(cast):
    member_menu = nav.menu_for(_load(cast.member))
    assert nav.menu_for(_load(cast.outsider)) is member_menu  # both plain members: the same cached menu
    admin_menu = nav.menu_for(_load(cast.committee_admin))
    assert admin_menu is not member_menu
    names = {i["name"] for i in nav.items_for(cast.committee_admin)}
    assert "org:people" in names and "org:people" not in {i["name"] for i in nav.items_for(cast.member)}


def test_a_page_signed_in_pays_no_roster_query(client, cast, django_assert_max_num_queries):
    client.force_login(cast.member)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/dashboard/me/").status_code == 200
    roster_reads = [
        q["sql"] for q in ctx.captured_queries if 'FROM "org_person" WHERE "org_person"."user_id"' in q["sql"]
    ]
    assert roster_reads == []


def test_the_unread_count_rides_along_and_a_page_that_marks_read_counts_again(client, cast):
    from sizheng.core import notify
    from sizheng.core.context import unread_count

    notify.notify([cast.member, cast.member], title="甲")
    user = _load(cast.member)
    with CaptureQueriesContext(connection) as ctx:
        assert unread_count(user) == 2
    assert len(ctx) == 0
    assert unread_count(_load(cast.outsider)) == 0  # none: the subquery's NULL is 0
    notify.mark_read(user)
    assert unread_count(user) == 0  # recounted after the write, not the stale 2
    notify.notify([user], title="乙")
    assert unread_count(user) == 1


def test_the_badge_is_right_on_the_page_that_marks_messages_read(client, cast):
    from sizheng.core import notify

    notify.notify([cast.member], title="待阅")
    client.force_login(cast.member)
    assert 'id="sz-unread">1<' in client.get("/inbox/").content.decode()
    response = client.post("/inbox/read/", follow=True)
    assert response.status_code == 200
    assert 'id="sz-unread"' not in response.content.decode()
