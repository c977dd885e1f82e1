"""The volunteering API: scoped lists, planning an activity, self sign-up, civility applications —
404 outside scope, 403 visible but not allowed, 409 closed or repeated, 422 bad input."""

from __future__ import annotations

import pytest
import time_machine

from sizheng.core.models import AuditEvent
from sizheng.volunteer.models import Activity, Signup, SignupStatus
from sizheng.volunteer.tests.helpers import NOW, activity, application, audited, campaign

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_now")]
BASE = "/api/v1/volunteering"


@pytest.fixture
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _post(client, user, url, data=None):
    client.force_login(user)
    return client.post(url, data or {}, content_type="application/json")


def _payload(cast, **extra) -> dict:
    return {
        "org_id": cast.branch_a1.pk, "campaign_id": campaign().pk, "title": "垃圾分类入户宣传",
        "starts_at": "2026-03-21T09:00:00+08:00", "ends_at": "2026-03-21T11:00:00+08:00", "place": "幸福里社区",
        "planned_hours": "2", "capacity": 20, "open_now": True, **extra,
    }  # fmt: skip


def test_it_scopes_the_activity_list(client, cast):
    a1 = activity(cast)
    c = activity(cast, org=cast.branch_c, actor=cast.committee_admin, title="司法局的活动")
    client.force_login(cast.member)
    data = client.get(f"{BASE}/activities").json()
    assert [i["id"] for i in data["items"]] == [a1.pk] and data["count"] == 1
    item = data["items"][0]
    assert item["campaign"] == campaign().name and item["planned_hours"] == 3.0 and item["seats_taken"] == 0
    assert set(item) == {"id", "title", "campaign_id", "campaign", "org_id", "org", "starts_at", "ends_at",
                         "place", "planned_hours", "capacity", "seats_taken", "state", "version"}  # fmt: skip
    client.force_login(cast.committee_admin)
    assert {i["id"] for i in client.get(f"{BASE}/activities").json()["items"]} == {a1.pk, c.pk}
    filtered = client.get(f"{BASE}/activities", {"org_id": cast.branch_c.pk}).json()
    assert [i["id"] for i in filtered["items"]] == [c.pk]
    assert client.get(f"{BASE}/activities", {"state": "nonsense"}).status_code == 422


def test_it_plans_an_activity_for_a_managed_org(client, cast):
    response = _post(client, cast.secretary_a, f"{BASE}/activities", _payload(cast))
    assert response.status_code == 201
    act = Activity.objects.get(pk=response.json()["id"])
    assert act.state == "open" and act.capacity == 20 and audited("volunteer_activity_create", act)
    member = _post(client, cast.member, f"{BASE}/activities", _payload(cast))
    assert member.status_code == 403 and "书记、党务干部" in member.json()["detail"]
    outsider = _post(client, cast.outsider, f"{BASE}/activities", _payload(cast))
    assert outsider.status_code == 404
    bad = _post(
        client, cast.secretary_a, f"{BASE}/activities", _payload(cast, ends_at="2026-03-21T08:00:00+08:00")
    )
    assert bad.status_code == 422 and any("结束时间" in e["message"] for e in bad.json()["errors"])
    assert Activity.objects.count() == 1


def test_it_signs_the_caller_up_once(client, cast):
    act = activity(cast, capacity=1)
    url = f"{BASE}/activities/{act.pk}/signups"
    response = _post(client, cast.member, url)
    assert response.status_code == 201 and response.json()["status"] == "signed_up"
    signup = Signup.objects.get(pk=response.json()["id"])
    assert signup.person == cast.person(cast.member) and audited("volunteer_signup", signup)
    assert _post(client, cast.member, url).status_code == 409
    full = _post(client, cast.org_admin, url)
    assert full.status_code == 409 and "名额已满" in full.json()["detail"]
    assert _post(client, cast.leader, url).status_code == 403  # sees unit A's activity, not open to branch A2
    assert _post(client, cast.outsider, url).status_code == 404
    assert Signup.objects.filter(status=SignupStatus.SIGNED_UP).count() == 1
    assert client.get(url).status_code == 405


def test_it_scopes_civility_applications(client, cast):
    app = application(cast)
    client.force_login(cast.org_admin)
    data = client.get(f"{BASE}/civility").json()
    assert data["count"] == 1 and data["items"][0]["applicant"] == "市财政局"
    assert data["items"][0]["state"] == "draft"
    for user in (cast.outsider, cast.secretary_b, cast.member, cast.leader):
        client.force_login(user)
        assert client.get(f"{BASE}/civility").json() == {"count": 0, "items": []}
    client.force_login(cast.committee_admin)
    assert [i["id"] for i in client.get(f"{BASE}/civility", {"kind": "unit"}).json()["items"]] == [app.pk]
    assert client.get(f"{BASE}/civility", {"kind": "office"}).json()["count"] == 0
    assert AuditEvent.objects.filter(action__startswith="civility_").count() == 1  # reads write nothing
