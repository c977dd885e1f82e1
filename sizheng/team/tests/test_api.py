"""The team API: the register (list, create, read with the training record, patch) and coverage, scoped."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.org.testing import make_person
from sizheng.team import coverage
from sizheng.team.models import TeamMember, TeamRole
from sizheng.team.tests.helpers import audited, enlist, fill

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_today")]
URL = "/api/v1/team/members"


@pytest.fixture
def _today():
    with time_machine.travel(date(2026, 11, 20), tick=False):
        yield


def _payload(cast, **over):
    data = {"person_id": cast.person(cast.member).pk, "org_id": cast.branch_a1.pk, "role": "party_cadre",
            "is_full_time": False, "position": "组织委员（兼）", "qualifications": ["基层党组织书记轮训结业"],
            "since": "2026-01-05"}  # fmt: skip
    data.update(over)
    return data


def test_it_creates_an_entry_with_audit(client, cast):
    client.force_login(cast.secretary_a)
    response = client.post(URL, _payload(cast), content_type="application/json")
    assert response.status_code == 201
    data = response.json()
    member = TeamMember.objects.get()
    assert data["id"] == member.pk and data["covers"] == [cast.branch_a1.pk] and data["version"] == 1
    assert data["role_label"] == "党务干部" and data["qualifications"] == ["基层党组织书记轮训结业"]
    assert audited("team_member_create", member)


def test_it_answers_403_404_and_422_in_chinese(client, cast):
    client.force_login(cast.member)
    assert client.post(URL, _payload(cast), content_type="application/json").status_code == 403
    client.force_login(cast.secretary_a)
    assert (
        client.post(
            URL, _payload(cast, org_id=cast.branch_b1.pk), content_type="application/json"
        ).status_code
        == 404
    )
    bad = client.post(URL, _payload(cast, subtype="young_cadre"), content_type="application/json")
    assert bad.status_code == 422 and "只有思政骨干" in bad.json()["errors"][0]["message"]
    outside = client.post(URL, _payload(cast, covers=[cast.branch_b1.pk]), content_type="application/json")
    assert outside.status_code == 422 and "下级党组织" in outside.json()["errors"][0]["message"]
    unknown = client.post(URL, _payload(cast, role="boss"), content_type="application/json")
    assert unknown.status_code == 422
    stranger = client.post(
        URL, _payload(cast, person_id=cast.person(cast.secretary_b).pk), content_type="application/json"
    )
    assert stranger.status_code == 422 and "管理范围" in stranger.json()["errors"][0]["message"]
    assert not TeamMember.objects.exists()
    assert client.delete(URL).status_code == 405


def test_it_patches_with_compare_and_swap(client, cast):
    member = enlist(cast, cast.member)
    client.force_login(cast.org_admin)
    url = f"{URL}/{member.pk}"
    ok = client.patch(
        url,
        {"version": 1, "is_full_time": True, "covers": [cast.branch_a1.pk]},
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json()["is_full_time"] is True and ok.json()["version"] == 2
    assert audited("team_member_update", member)
    stale = client.patch(url, {"version": 1, "position": "x"}, content_type="application/json")
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["detail"]
    client.force_login(cast.member)
    assert (
        client.patch(url, {"version": 2, "position": "x"}, content_type="application/json").status_code == 403
    )
    client.force_login(cast.outsider)
    assert (
        client.patch(url, {"version": 2, "position": "x"}, content_type="application/json").status_code == 404
    )
    assert client.get(url).status_code == 404
    assert client.get(url, {"year": 2030}).status_code == 404  # existence first, never a hint


def test_it_lists_in_scope_with_filters_and_flat_queries(client, cast):
    enlist(cast, cast.member)
    enlist(cast, cast.secretary_b, org=cast.branch_b1, actor=cast.secretary_b)
    client.force_login(cast.secretary_a)
    data = client.get(URL).json()
    assert data["count"] == 1 and data["items"][0]["person_name"] == "刘洋"
    client.force_login(cast.committee_admin)
    assert client.get(URL).json()["count"] == 2
    assert client.get(URL, {"org_id": cast.general_b.pk}).json()["count"] == 1
    assert client.get(URL, {"full_time": "true"}).json()["count"] == 0
    with CaptureQueriesContext(connection) as one:
        client.get(URL)
    for i in range(10):
        enlist(cast, person=make_person(f"骨干{i}", cast.unit_a, org=cast.branch_a2), org=cast.committee_a,
               role=TeamRole.BACKBONE, covers=[cast.committee_a, cast.branch_a2])  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        assert client.get(URL).json()["count"] == 12
    assert len(many.captured_queries) == len(one.captured_queries)
    client.force_login(cast.outsider)
    assert client.get(URL).json() == {"count": 0, "items": []}


def test_it_reports_coverage_in_scope(client, cast):
    fill(cast.branch_a2, cast.unit_a, 50)
    client.force_login(cast.committee_admin)
    data = client.get("/api/v1/team/coverage", {"org_id": cast.committee_a.pk, "year": 2026}).json()
    assert data["year"] == 2026 and data["as_of"] == "2026-11-20"
    cells = {(i["org_id"], i["rule_id"]): i for i in data["items"]}
    assert cells[(cast.committee_a.pk, coverage.TEAM_1)]["status"] == "violation"
    assert cells[(cast.branch_a2.pk, coverage.TEAM_1)]["members"] == 51
    assert cells[(cast.branch_a1.pk, "TEAM-2")]["status"] == "warning"
    assert all(i["duty_id"] is None for i in data["items"])
    client.force_login(cast.secretary_a)
    assert client.get("/api/v1/team/coverage", {"org_id": cast.branch_b1.pk}).status_code == 404
    assert {i["org_id"] for i in client.get("/api/v1/team/coverage").json()["items"]} == {cast.branch_a1.pk}
    assert client.get("/api/v1/team/coverage", {"year": 2030}).status_code == 422
    client.force_login(cast.member)
    assert client.get("/api/v1/team/coverage").status_code == 403
