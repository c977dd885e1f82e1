"""The organisational-life API: meetings list/record/read and the compliance cells, scoped."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from sizheng.core.apitools import api_token_issue
from sizheng.core.models import AuditEvent
from sizheng.life import services
from sizheng.life.models import Meeting, MeetingKind, MeetingState
from sizheng.org.models import Person

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 8, 20)
URL = "/api/v1/meetings"


def _get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def _post(client, user, data):
    client.force_login(user)
    return client.post(URL, data, content_type="application/json")


def _payload(cast, **over):
    data = {
        "org_id": cast.branch_a1.pk, "kind": "members_meeting", "starts_at": "2026-08-12T09:00:00+08:00",
        "ends_at": "2026-08-12T11:00:00+08:00", "place": "三楼会议室", "topic": "学习贯彻全会精神",
    }  # fmt: skip
    data.update(over)
    return data


def _record(cast, org=None, day=date(2026, 8, 3), kind=MeetingKind.MEMBERS_MEETING):
    return services.meeting_record(
        actor=cast.secretary_a, org=org or cast.branch_a1, kind=kind, topic="会议",
        starts_at=datetime(day.year, day.month, day.day, 9, tzinfo=SH),
        ends_at=datetime(day.year, day.month, day.day, 11, tzinfo=SH), place="会议室",
    )  # fmt: skip


@time_machine.travel(TODAY, tick=False)
def test_it_lists_meetings_in_scope_with_filters(client, cast):
    a = _record(cast)
    lecture = _record(cast, kind=MeetingKind.PARTY_LECTURE, day=date(2026, 7, 1))
    _record(cast, org=cast.branch_c)
    data = _get(client, cast.secretary_a, URL).json()
    assert data["count"] == 2 and {m["id"] for m in data["items"]} == {a.pk, lecture.pk}
    assert data["items"][0]["kind_label"] == "党员大会" and data["items"][0]["state"] == "submitted"
    assert _get(client, cast.secretary_a, URL, kind="party_lecture").json()["count"] == 1
    assert (
        _get(client, cast.secretary_a, URL, **{"from": "2026-08-01", "to": "2026-08-31"}).json()["count"] == 1
    )
    assert _get(client, cast.secretary_a, URL, state="draft").json()["count"] == 0
    assert _get(client, cast.secretary_a, URL, org_id=cast.committee_a.pk).status_code == 404
    assert _get(client, cast.committee_admin, URL, org_id=cast.committee_a.pk).json()["count"] == 2
    assert _get(client, cast.secretary_a, URL, kind="nonsense").status_code == 422
    assert _get(client, cast.outsider, URL).json()["count"] == 1


@time_machine.travel(TODAY, tick=False)
def test_it_records_a_submitted_meeting_with_the_roster(client, cast):
    absent = Person.objects.get(name="刘洋")
    resp = _post(client, cast.secretary_a, _payload(cast, attendance=[
        {"person_id": absent.pk, "status": "on_leave", "reason": "公务出差"}]))  # fmt: skip
    assert resp.status_code == 201, resp.content
    body = resp.json()
    meeting = Meeting.objects.get()
    assert body["id"] == meeting.pk and body["state"] == MeetingState.SUBMITTED
    assert len(body["attendance"]) == 3 and body["quorum"]["present"] == 2
    assert next(a for a in body["attendance"] if a["person_id"] == absent.pk)["reason"] == "公务出差"
    assert AuditEvent.objects.filter(action="meeting_record", object_id=str(meeting.pk)).exists()


@time_machine.travel(TODAY, tick=False)
def test_it_refuses_bad_or_unauthorised_records(client, cast):
    assert _post(client, cast.member, _payload(cast)).status_code == 403  # sees the branch, manages nothing
    assert _post(client, cast.secretary_b, _payload(cast)).status_code == 404
    assert _post(client, cast.outsider, _payload(cast)).status_code == 404
    resp = _post(client, cast.secretary_a, _payload(cast, ends_at="2026-08-12T08:00:00+08:00"))
    assert resp.status_code == 422 and resp.json()["errors"][0]["message"] == "结束时间必须晚于开始时间。"
    resp = _post(client, cast.secretary_a, _payload(cast, kind="picnic"))
    assert resp.status_code == 422
    resp = _post(client, cast.secretary_a, {"org_id": cast.branch_a1.pk})
    assert resp.status_code == 422 and resp.json()["errors"][0]["message"] == "此项为必填项。"
    absent = Person.objects.get(name="刘洋")
    resp = _post(
        client, cast.secretary_a, _payload(cast, attendance=[{"person_id": absent.pk, "status": "absent"}])
    )
    assert resp.status_code == 422 and "原因" in resp.json()["errors"][0]["message"]
    client.force_login(cast.secretary_a)
    assert client.put(URL, {}, content_type="application/json").status_code == 405
    assert not Meeting.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_it_reads_one_meeting_with_attendance_and_hides_others(client, cast):
    meeting = _record(cast)
    data = _get(client, cast.member, f"{URL}/{meeting.pk}").json()
    assert data["id"] == meeting.pk and len(data["attendance"]) == 3 and data["quorum"]["rule"] == "BR-MTG-1q"
    resp = _get(client, cast.outsider, f"{URL}/{meeting.pk}")
    assert resp.status_code == 404 and resp.json()["detail"] == "未找到该对象，或您无权查看。"


@time_machine.travel(TODAY, tick=False)
def test_it_works_with_a_bearer_token(client, cast):
    _, raw = api_token_issue(actor=cast.secretary_a)
    resp = client.post(
        URL, _payload(cast), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert resp.status_code == 201


@time_machine.travel(TODAY, tick=False)
def test_it_turns_the_quarter_s_cell_to_met_when_a_members_meeting_is_recorded(client, cast):
    def cell(user):
        items = _get(
            client, user, "/api/v1/compliance", org_id=cast.branch_a1.pk, year=2026, limit=500
        ).json()
        return {(i["org_id"], i["rule_id"], i["period"]): i["status"] for i in items["items"]}

    key = (cast.branch_a1.pk, "BR-MTG-1", "2026-Q3")
    before = cell(cast.secretary_a)
    assert before[key] == "not_yet_due"
    assert before[(cast.branch_a1.pk, "BR-MTG-1", "2026-Q2")] == "warning"
    assert _post(client, cast.secretary_a, _payload(cast)).status_code == 201
    after = cell(cast.secretary_a)
    assert after[key] == "met"


@time_machine.travel(TODAY, tick=False)
def test_it_pages_compliance_over_the_subtree_and_hides_other_orgs(client, cast):
    data = _get(
        client, cast.committee_admin, "/api/v1/compliance", org_id=cast.committee_a.pk, limit=5
    ).json()
    assert len(data["items"]) == 5 and data["count"] > 5
    assert set(data["items"][0]) == {"org_id", "rule_id", "period", "status"}
    full = _get(
        client, cast.committee_admin, "/api/v1/compliance", org_id=cast.committee_a.pk, limit=500
    ).json()
    orgs = {i["org_id"] for i in full["items"]}
    assert {cast.branch_a1.pk, cast.branch_a2.pk} <= orgs and cast.branch_c.pk not in orgs
    periods = {i["period"] for i in full["items"]}
    assert {"2026-Q3", "2026"} <= periods
    assert _get(client, cast.outsider, "/api/v1/compliance", org_id=cast.branch_a1.pk).status_code == 404
    assert _get(client, cast.secretary_a, "/api/v1/compliance").status_code == 422
