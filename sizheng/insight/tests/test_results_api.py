"""The results API: the groups a user may see, and one group's results with no value in a hidden cell."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.insight import results as R
from sizheng.insight.groups import audience
from sizheng.insight.models import WaveState
from sizheng.insight.tests.test_results import add_people, answer_randomly, make_survey, open_wave

pytestmark = pytest.mark.django_db
META = {"id", "number", "text", "kind", "dimension_id"}


def groups_url(survey):
    return f"/api/v1/surveys/{survey.pk}/groups"


def results_url(survey):
    return f"/api/v1/surveys/{survey.pk}/results"


@pytest.fixture
def forest(cast):
    """Anonymous, over committee A, general branch B and branch C; A2 (1) and B (3) are below k."""
    add_people(cast.unit_a, 5, org=cast.committee_a)
    add_people(cast.unit_a, 8, org=cast.branch_a1)
    add_people(cast.unit_b, 2, org=cast.branch_b1)
    add_people(cast.unit_c, 7, org=cast.branch_c)
    survey = make_survey(cast.root, orgs=[cast.committee_a, cast.general_b, cast.branch_c])
    answer_randomly(open_wave(survey, 1), audience(survey), seed=1)
    answer_randomly(open_wave(survey, 2), audience(survey), seed=2, text="希望减少文山会海")
    answer_randomly(open_wave(survey, 3, state=WaveState.OPEN), list(audience(survey))[:6], seed=3)
    return survey


def test_it_lists_the_reporting_groups_a_manager_may_see(client, cast, forest):
    client.force_login(cast.committee_admin)
    data = client.get(groups_url(forest)).json()

    org = lambda o: f"org:{o.pk}"  # noqa: E731
    assert data == [
        {"id": org(cast.committee_a), "name": cast.committee_a.name, "parent_id": None},
        {"id": org(cast.branch_a1), "name": cast.branch_a1.name, "parent_id": org(cast.committee_a)},
        {"id": org(cast.branch_a2), "name": cast.branch_a2.name, "parent_id": org(cast.committee_a)},
        {"id": org(cast.general_b), "name": cast.general_b.name, "parent_id": None},
        {"id": org(cast.branch_b1), "name": cast.branch_b1.name, "parent_id": org(cast.general_b)},
        {"id": org(cast.branch_c), "name": cast.branch_c.name, "parent_id": None},
    ]


def test_it_lists_only_a_leaders_unit_groups_and_serves_no_other(client, cast, forest):
    client.force_login(cast.leader)

    ids = [g["id"] for g in client.get(groups_url(forest)).json()]

    assert ids == [f"org:{o.pk}" for o in (cast.committee_a, cast.branch_a1, cast.branch_a2)]
    assert client.get(results_url(forest)).json()["group"]["id"] == ids[0]
    response = client.get(results_url(forest), {"group": f"org:{cast.branch_c.pk}"})
    assert response.status_code == 404 and response.json()["detail"]


@pytest.mark.parametrize("who", ["outsider", "member", "secretary_b", "counselor"])
def test_it_answers_404_to_anyone_who_may_not_see_results(client, cast, forest, who):
    client.force_login(getattr(cast, who))

    assert client.get(groups_url(forest)).status_code == 404
    assert client.get(results_url(forest)).status_code == 404


def test_it_serves_a_published_group_with_counts_and_means(client, cast, forest):
    client.force_login(cast.committee_admin)
    gid = f"org:{cast.committee_a.pk}"
    data = client.get(results_url(forest), {"group": gid}).json()

    wr = R.wave_results(forest.waves.get(number=2))
    assert data["wave"] == {"number": 2, "label": "第2轮"} and data["k"] == 5
    assert data["participation"]["n"] == wr.group(gid).n and data["participation"]["audience"] == 18
    likert = data["questions"][0]
    assert likert["n"] == wr.group(gid).n
    assert sum(o["count"] for o in likert["options"]) + likert["skipped"] == likert["n"]
    assert likert["mean"] == wr.questions[0].means[gid]
    multi = next(q for q in data["questions"] if q["kind"] == "multi")
    assert "mean" not in multi and [o["label"] for o in multi["options"]] == ["工作压力", "职业发展", "住房"]
    dims = {d["name"]: d for d in data["dimensions"]}
    assert dims["工作状态"]["n"] == wr.group(gid).n
    assert dims["工作状态"]["index"] == wr.dimensions[0].index[gid]


@pytest.mark.parametrize("branch", ["branch_a2", "branch_b1", "general_b"])
def test_it_answers_suppressed_with_no_value_key_at_all(client, cast, forest, branch):
    client.force_login(cast.committee_admin)
    gid = f"org:{getattr(cast, branch).pk}"
    data = client.get(results_url(forest), {"group": gid, "wave": 1}).json()

    assert data["participation"] == {"suppressed": True}
    for q in data["questions"]:
        assert set(q) == META | {"suppressed"} and q["suppressed"] is True
    for d in data["dimensions"]:
        assert d == {"id": d["id"], "name": d["name"], "suppressed": True}


def test_it_serves_only_closed_waves(client, cast, forest):
    client.force_login(cast.committee_admin)

    assert client.get(results_url(forest), {"wave": 1}).json()["wave"]["number"] == 1
    assert client.get(results_url(forest), {"wave": 3}).status_code == 404  # still open
    assert client.get(results_url(forest), {"wave": 7}).status_code == 404
    assert client.get(results_url(forest), {"group": "org:999999"}).status_code == 404
    assert client.get(results_url(forest), {"wave": "x"}).status_code == 422


def test_it_answers_in_the_same_number_of_queries_however_many_answered(client, cast):
    def build(extra):
        survey = make_survey(cast.root, orgs=[cast.committee_a], title=f"问卷{extra}")
        add_people(cast.unit_a, extra, org=cast.branch_a1, prefix=f"人{extra}-")
        answer_randomly(open_wave(survey), audience(survey), text="意见")
        return survey

    small, large = build(5), build(40)
    client.force_login(cast.committee_admin)

    def count(survey):
        client.get(results_url(survey))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(results_url(survey), {"group": f"org:{cast.branch_a1.pk}"}).status_code == 200
        return len(ctx.captured_queries)

    assert count(small) == count(large)
