"""Who finds what: every source answers from its module's own scope rule."""

from __future__ import annotations

import pytest

from sizheng.library.models import MaterialState
from sizheng.org.testing import make_person
from sizheng.search.tests.conftest import duty, material, meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(cast):
    """One duty, meeting and article per unit, all with “专项” in their titles."""
    return {
        "duty_a": duty(cast, cast.branch_a1, "专项整治A"),
        "duty_b": duty(cast, cast.branch_b1, "专项整治B"),
        "duty_c": duty(cast, cast.branch_c, "专项整治C"),
        "meeting_a": meeting(cast, cast.branch_a1, "专项学习A"),
        "meeting_b": meeting(cast, cast.branch_b1, "专项学习B"),
        "meeting_c": meeting(cast, cast.branch_c, "专项学习C"),
        "article_all": material(cast, cast.root, "专项读本（全体）"),
        "article_b": material(cast, cast.general_b, "专项读本B", audience=cast.general_b),
        "draft_a": material(cast, cast.branch_a1, "专项读本A草稿", state=MaterialState.DRAFT),
    }


def test_the_committee_admin_finds_people_orgs_and_duties_everywhere(search, cast, records):
    assert search(cast.committee_admin, "王建国") == {"people": ["王建国"]}
    assert search(cast.committee_admin, "李红梅")["people"] == ["李红梅"]
    assert search(cast.committee_admin, "孙丽")["people"] == ["孙丽"]
    assert search(cast.committee_admin, "周杰")["people"] == ["周杰"]  # staff without an org, by name
    found = search(cast.committee_admin, "教育局")
    assert found["orgs"] == [cast.general_b.name, cast.branch_b1.name]
    assert found["people"] == ["李红梅"]  # by unit
    found = search(cast.committee_admin, "专项")
    assert sorted(found["duties"]) == ["专项整治A", "专项整治B", "专项整治C"]
    assert sorted(found["meetings"]) == ["专项学习A", "专项学习B", "专项学习C"]
    # Published to everyone or to unit B (the committee admin reads all); drafts only for their managers.
    assert sorted(found["library"]) == ["专项读本A草稿", "专项读本B", "专项读本（全体）"]
    assert search(cast.committee_admin, "A1")["orgs"] == [cast.branch_a1.name]  # by org code


def test_secretary_b_does_not_find_the_people_or_records_of_unit_a(search, cast, records):
    assert search(cast.secretary_b, "王建国") == {}
    assert search(cast.secretary_b, "刘洋") == {}
    assert search(cast.secretary_b, "财政局") == {}
    helper = make_person("吴晓", cast.unit_b, org=cast.branch_b1)
    assert search(cast.secretary_b, helper.name)["people"] == ["吴晓"]
    found = search(cast.secretary_b, "专项")
    assert found["duties"] == ["专项整治B"]
    assert found["meetings"] == ["专项学习B"]
    assert sorted(found["library"]) == ["专项读本B", "专项读本（全体）"]
    assert "people" not in found


def test_secretary_a_finds_unit_a_and_its_own_drafts(search, cast, records):
    found = search(cast.secretary_a, "专项")
    assert found["duties"] == ["专项整治A"]
    assert found["meetings"] == ["专项学习A"]
    assert sorted(found["library"]) == ["专项读本A草稿", "专项读本（全体）"]
    # People of the unit, also staff outside any party org (the unit's root org is not in 书记 A1's
    # scope: the same answer as the people list).
    assert search(cast.secretary_a, "刘洋")["people"] == ["刘洋"]
    assert search(cast.secretary_a, "李红梅") == {}


def test_the_outsider_finds_only_their_own_things(search, cast, records):
    me = search(cast.outsider, "孙丽")
    assert me == {"people": ["孙丽"]}
    assert search(cast.outsider, "王建国") == {}
    assert search(cast.outsider, "李红梅") == {}
    assert search(cast.outsider, "市财政局") == {}
    assert search(cast.outsider, "司法局") == {"people": ["孙丽"], "orgs": [cast.branch_c.name]}
    found = search(cast.outsider, "专项")
    assert found == {
        "duties": ["专项整治C"],
        "meetings": ["专项学习C"],
        "library": ["专项读本（全体）"],
    }


def test_a_member_finds_only_themself_among_people_and_gets_no_people_list_link(
    client, search, cast, records
):
    from sizheng.search.tests.conftest import page

    assert search(cast.member, "王建国") == {}
    found, response = page(client, cast.member, "刘洋")
    assert found == {"people": ["刘洋"]}
    people = next(g for g in response.context["groups"] if g.kind == "people")
    assert people.more_url is None
    assert "/org/people/?q=" not in response.content.decode()


def test_the_system_accounts_find_no_business_data(search, cast, records):
    for user in (cast.sysadmin, cast.secadmin, cast.auditor):
        assert search(user, "专项") == {}
        assert search(user, "王建国") == {}


def test_every_word_must_match_and_spaces_of_any_kind_separate_words(search, cast, records):
    assert search(cast.committee_admin, "专项 整治 B") == {"duties": ["专项整治B"]}
    assert search(cast.committee_admin, "专项\u3000学习  C") == {"meetings": ["专项学习C"]}
    assert search(cast.committee_admin, "专项 不存在的词") == {}
    # LIKE wildcards are literal characters.
    assert search(cast.committee_admin, "%") == {}
    assert search(cast.committee_admin, "_") == {}


def test_the_leader_sees_no_people_but_themself(search, cast, records):
    assert search(cast.leader, "刘洋") == {}
    assert search(cast.leader, "陈志强")["people"] == ["陈志强"]
