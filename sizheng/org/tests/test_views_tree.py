"""The org tree screen: scope, counts, search, term highlighting, and a flat query count."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sizheng.org.models import Org
from sizheng.org.testing import make_org, make_person
from sizheng.org.views import add_months, build_tree, search_tree, term_state

pytestmark = pytest.mark.django_db
TREE = reverse("org:tree")


def _page(client, user, **params):
    client.force_login(user)
    response = client.get(TREE, params)
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_the_committee_admin_the_whole_tree_with_counts(client, cast):
    html = _page(client, cast.committee_admin)
    for org in Org.objects.all():
        assert org.name in html
    assert 'id="sz-count-units">3<' in html
    assert 'id="sz-count-orgs">8<' in html
    assert 'id="sz-count-people">7<' in html
    # 市财政局机关委员会 has no members of its own but three in A1 and one in A2.
    assert "党员 0 / 含下级 4" in html


def test_it_limits_a_branch_secretary_to_their_branch(client, cast):
    html = _page(client, cast.secretary_a)
    assert cast.branch_a1.name in html
    assert cast.branch_b1.name not in html
    assert cast.root.name not in html
    assert 'id="sz-count-people">3<' in html


def test_it_shows_a_member_their_branch_only(client, cast):
    html = _page(client, cast.member)
    assert cast.branch_a1.name in html
    assert cast.branch_a2.name not in html
    assert "在册党员" in html  # a member sees a count of members, not a people list


def test_it_finds_orgs_by_name_or_code_with_their_ancestors(client, cast):
    html = _page(client, cast.committee_admin, q="b1")
    assert cast.branch_b1.name in html
    assert cast.general_b.name in html and cast.root.name in html
    assert cast.branch_a1.name not in html
    html = _page(client, cast.committee_admin, q="第二支部")
    assert cast.branch_a2.name in html and cast.committee_a.name in html
    assert cast.branch_c.name not in html
    html = _page(client, cast.committee_admin, q="没有这个组织")
    assert "没有名称或代码包含" in html


def test_it_highlights_terms_ending_soon_or_overdue_and_marks_dissolved_orgs(client, cast):
    today = timezone.localdate()
    Org.objects.filter(pk=cast.branch_a1.pk).update(term_ends_on=today + timedelta(days=30))
    Org.objects.filter(pk=cast.branch_a2.pk).update(term_ends_on=today - timedelta(days=1))
    Org.objects.exclude(pk__in=[cast.branch_a1.pk, cast.branch_a2.pk]).update(
        term_ends_on=today + timedelta(days=900)
    )
    Org.objects.filter(pk=cast.branch_c.pk).update(dissolved_on=today - timedelta(days=10))
    html = _page(client, cast.committee_admin)
    assert html.count("即将届满") == 0  # the badge wording is “将于 … 届满”
    assert html.count("任期将于") == 1
    assert html.count("请及时换届") == 1
    assert "撤销" in html
    assert 'id="sz-count-orgs">7<' in html  # a dissolved org no longer counts as existing


def test_it_answers_405_to_a_post_and_sends_anonymous_users_to_login(client, cast):
    client.force_login(cast.committee_admin)
    assert client.post(TREE).status_code == 405
    client.logout()
    assert client.get(TREE).status_code == 302


def test_it_keeps_the_query_count_flat_as_the_tree_grows(client, cast):
    client.force_login(cast.committee_admin)
    client.get(TREE)  # warm-up: session and content-type caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(TREE).status_code == 200
    for i in range(15):
        org = make_org(f"新增支部{i}", Org.Kind.BRANCH, cast.committee_a, f"N{i}", units=[cast.unit_a])
        make_person(f"党员{i}", cast.unit_a, org=org)
    with CaptureQueriesContext(connection) as large:
        html = client.get(TREE).content.decode()
    assert "新增支部14" in html
    assert len(large) == len(small)
    assert len(large) <= 12


def test_it_sums_member_counts_up_the_path():
    root = Org(pk=1, name="工委", code="R", kind="work_committee", path="000001.")
    a = Org(pk=2, name="甲", code="A", kind="committee", parent_id=1, path="000001.000002.")
    a1 = Org(pk=3, name="甲一", code="A1", kind="branch", parent_id=2, path="000001.000002.000003.")
    roots, nodes = build_tree([root, a, a1], {1: 1, 2: 2, 3: 5}, date(2026, 1, 1))
    assert [n.org.code for n in roots] == ["R"]
    assert (nodes[1].total, nodes[2].total, nodes[3].total) == (8, 7, 5)
    # Without the root in scope, the committee becomes a root of the forest.
    roots, nodes = build_tree([a, a1], {3: 5}, date(2026, 1, 1))
    assert [n.org.code for n in roots] == ["A"] and nodes[2].total == 5
    assert search_tree(nodes, "a1") == {2, 3}


def test_it_calls_a_term_due_within_six_months():
    today = date(2026, 8, 31)
    org = Org(term_ends_on=date(2027, 2, 28))
    assert add_months(today, 6) == date(2027, 2, 28)
    assert term_state(org, today) == "soon"
    assert term_state(Org(term_ends_on=date(2027, 3, 1)), today) == ""
    assert term_state(Org(term_ends_on=date(2026, 8, 30)), today) == "overdue"
    assert term_state(Org(term_ends_on=date(2026, 8, 30), dissolved_on=date(2026, 1, 1)), today) == ""
