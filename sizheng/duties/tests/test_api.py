"""The duties API: scoped lists and filters, opening duties, the detail with its timeline, evidence
uploads and transitions — 404 outside scope, 403 off-side, 409 on a wrong state or stale version,
and nothing changing in any of those cases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from sizheng.core.apitools import api_token_issue
from sizheng.core.models import AuditEvent, Role, RoleGrant, StoredFile, User
from sizheng.duties import services
from sizheng.duties.models import Duty, DutyEvent, SourceKind

pytestmark = pytest.mark.django_db

URL = "/api/v1/duties"
# A Tuesday in an ordinary week of 2026 (no holiday within two weeks either side).
TODAY = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-03-10 10:00 +0800", tick=False):
        yield


def _open(cast, org=None, *, assigning=None, due=date(2026, 4, 10), owner=None, **extra) -> Duty:
    return services.duty_open(
        org=org or cast.branch_a1,
        title=extra.pop("title", "组织开展主题党日活动"),
        due_on=due,
        actor=cast.committee_admin,
        assigning_org=assigning or cast.root,
        owner=owner,
        **extra,
    )


def _admin_of(org, username: str) -> User:
    """A secretary of ``org`` with no roster record (e.g. the 纪委 of committee A)."""
    user = User.objects.create_user(username=username, password="x")
    RoleGrant.objects.create(
        user=user, role=Role.SECRETARY, scope_kind=RoleGrant.ScopeKind.ORG, scope_id=org.pk
    )
    return user


def _snapshot(duty: Duty) -> tuple:
    duty.refresh_from_db()
    return duty.state, duty.version, DutyEvent.objects.filter(duty=duty).count(), AuditEvent.objects.count()


def _post(client, user, url, data):
    client.force_login(user)
    return client.post(url, data, content_type="application/json")


# --- list ----------------------------------------------------------------------------


def test_it_scopes_the_list_to_the_callers_duties(client, cast):
    a1 = _open(cast)
    b1 = _open(cast, cast.branch_b1)
    client.force_login(cast.committee_admin)
    assert {d["id"] for d in client.get(URL).json()["items"]} == {a1.pk, b1.pk}
    client.force_login(cast.secretary_a)
    data = client.get(URL).json()
    assert data["count"] == 1
    item = data["items"][0]
    assert item == {
        "id": a1.pk,
        "title": "组织开展主题党日活动",
        "state": "assigned",
        "version": 1,
        "due_on": "2026-04-10",
        "warning": "none",
        "assignee_org_id": cast.branch_a1.pk,
        "assigning_org_id": cast.root.pk,
        "owner_id": None,
        "source_kind": "manual",
        "is_late": False,
    }
    client.force_login(cast.outsider)
    assert client.get(URL).json() == {"count": 0, "items": []}


def test_it_filters_by_org_subtree_state_and_warning(client, cast):
    red = _open(cast, due=date(2026, 2, 2))
    yellow = _open(cast, due=date(2026, 3, 9))
    blue = _open(cast, cast.branch_a2, due=date(2026, 3, 12))
    none = _open(cast, cast.branch_b1, due=date(2026, 6, 1))
    reported = _open(cast, cast.branch_b1, due=date(2026, 2, 2))
    Duty.objects.filter(pk=reported.pk).update(state="reported")
    client.force_login(cast.committee_admin)

    def ids(**params):
        return {d["id"] for d in client.get(URL, params).json()["items"]}

    assert ids(warning="red") == {red.pk}
    assert ids(warning="yellow") == {yellow.pk}
    assert ids(warning="blue") == {blue.pk}
    assert ids(warning="none") == {none.pk, reported.pk}
    assert ids(org_id=cast.committee_a.pk) == {red.pk, yellow.pk, blue.pk}
    assert ids(org_id=cast.branch_b1.pk, state="reported") == {reported.pk}
    assert ids(org_id=999999) == set()
    warnings_shown = {d["id"]: d["warning"] for d in client.get(URL).json()["items"]}
    assert warnings_shown == {
        red.pk: "red",
        yellow.pk: "yellow",
        blue.pk: "blue",
        none.pk: "none",
        reported.pk: "none",
    }
    bad = client.get(URL, {"warning": "purple"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["message"] == "取值不在允许的范围内。"


def test_it_keeps_list_queries_flat(client, cast, django_assert_max_num_queries):
    _open(cast)
    client.force_login(cast.secretary_a)
    with django_assert_max_num_queries(30) as ctx:
        client.get(URL, {"limit": 100, "warning": "none"})
    for i in range(25):
        _open(cast, title=f"事项{i}", due=date(2026, 3, 2) + timedelta(days=i))
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        assert client.get(URL, {"limit": 100}).json()["count"] == 26


def test_it_requires_authentication(client, cast):
    assert client.get(URL).status_code == 401


# --- create --------------------------------------------------------------------------


def test_it_opens_a_duty_from_the_nearest_org_the_caller_administers(client, cast):
    jiwei = _admin_of(cast.committee_a, "jiwei_a")
    RoleGrant.objects.create(
        user=jiwei, role=Role.ORG_ADMIN, scope_kind=RoleGrant.ScopeKind.ORG, scope_id=cast.root.pk
    )
    before = AuditEvent.objects.filter(action="duty_open").count()
    resp = _post(
        client,
        jiwei,
        URL,
        {
            "org_id": cast.branch_a1.pk,
            "title": "开展专题调研",
            "due_on": "2026-03-14",
            "description": "形成调研报告",
            "priority": "high",
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    duty = Duty.objects.get(pk=body["id"])
    # 2026-03-14 is a Saturday: the deadline moves to Monday.
    assert body == {"id": duty.pk, "state": "assigned", "version": 1, "due_on": "2026-03-16"}
    assert (duty.assigning_org, duty.assignee_org, duty.priority, duty.created_by) == (
        cast.committee_a,
        cast.branch_a1,
        "high",
        jiwei,
    )
    assert list(duty.events.values_list("action", flat=True)) == ["open"]
    assert AuditEvent.objects.filter(action="duty_open", object_id=str(duty.pk), actor=jiwei).exists()
    assert AuditEvent.objects.filter(action="duty_open").count() == before + 1


def test_it_opens_from_the_root_for_the_committee_admin_and_from_the_own_org_for_a_secretary(client, cast):
    owner = cast.person(cast.member)
    resp = _post(
        client,
        cast.committee_admin,
        URL,
        {
            "org_id": cast.branch_a1.pk,
            "title": "学习贯彻全会精神",
            "due_on": "2026-04-30",
            "owner_id": owner.pk,
            "supervising_org_id": cast.committee_a.pk,
        },
    )
    duty = Duty.objects.get(pk=resp.json()["id"])
    assert (duty.assigning_org, duty.owner, duty.supervising_org) == (cast.root, owner, cast.committee_a)
    resp = _post(
        client,
        cast.secretary_a,
        URL,
        {"org_id": cast.branch_a1.pk, "title": "支部自查", "due_on": "2026-04-30"},
    )
    assert Duty.objects.get(pk=resp.json()["id"]).assigning_org == cast.branch_a1


def test_it_refuses_to_open_a_duty_with_403_or_404(client, cast):
    data = {"org_id": cast.branch_a1.pk, "title": "越权部署", "due_on": "2026-04-30"}
    resp = _post(client, cast.member, URL, data)  # sees their own branch, administers nothing
    assert resp.status_code == 403 and "不能向该党组织部署事项" in resp.json()["detail"]
    assert _post(client, cast.secretary_b, URL, data).status_code == 404
    assert _post(client, cast.outsider, URL, data).status_code == 404
    assert not Duty.objects.exists()


def test_it_rejects_bad_input_with_chinese_messages(client, cast):
    other_unit = cast.person(cast.secretary_b)
    resp = _post(
        client,
        cast.committee_admin,
        URL,
        {"org_id": cast.branch_a1.pk, "title": "事项", "due_on": "2026-03-01", "owner_id": other_unit.pk},
    )
    assert resp.status_code == 422
    messages = {e["loc"][0]: e["message"] for e in resp.json()["errors"]}
    assert messages == {"due_on": "完成时限不能早于今天。", "owner_id": "责任人须是责任单位在册的人员。"}
    resp = _post(client, cast.committee_admin, URL, {"org_id": cast.branch_a1.pk, "due_on": "2026-04-01"})
    assert resp.status_code == 422 and resp.json()["errors"][0]["message"] == "此项为必填项。"
    assert not Duty.objects.exists()


# --- detail --------------------------------------------------------------------------


def test_it_shows_the_duty_with_its_timeline_and_actions(client, cast):
    duty = _open(cast)
    services.duty_transition(duty=duty, action="accept", actor=cast.secretary_a, version=1, comment="收到")
    client.force_login(cast.secretary_a)
    body = client.get(f"{URL}/{duty.pk}").json()
    assert (body["state"], body["version"], body["warning"]) == ("accepted", 2, "none")
    assert [
        (e["action"], e["from_state"], e["to_state"], e["actor"], e["comment"]) for e in body["events"]
    ] == [
        ("open", "", "assigned", "gongwei", ""),
        ("accept", "assigned", "accepted", "shuji_a", "收到"),
    ]
    assert "start" in body["actions"] and "pass" not in body["actions"]
    client.force_login(cast.committee_admin)
    assert "start" not in client.get(f"{URL}/{duty.pk}").json()["actions"]
    client.force_login(cast.secretary_b)
    resp = client.get(f"{URL}/{duty.pk}")
    assert resp.status_code == 404 and resp.json()["detail"] == "未找到该对象，或您无权查看。"


def test_it_never_shows_what_is_behind_a_sensitive_duty(client, cast):
    duty = _open(cast, source=(SourceKind.TALK, 7), description="某同志家庭变故，需谈心")
    Duty.objects.filter(pk=duty.pk).update(evidence="谈话记录要点")
    DutyEvent.objects.filter(duty=duty).update(comment="涉及个人情况")
    StoredFile.objects.create(name="谈话要点.txt", content_type="text/plain", size=1, sha256="0" * 64, path="x",
                              owner_kind="duty", owner_id=duty.pk)  # fmt: skip
    client.force_login(cast.secretary_a)
    body = client.get(f"{URL}/{duty.pk}").json()
    assert body["title"] == "谈心谈话提醒" and body["is_sensitive"] is True
    assert "家庭" not in str(body) and "谈话记录" not in str(body) and "个人情况" not in str(body)
    assert body["files"] == [] and body["description"] == ""


# --- files ---------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


EVIDENCE = "已召开专题会议。".encode()


def _upload(client, user, duty, name="落实情况.txt", content=EVIDENCE):
    client.force_login(user)
    return client.post(f"{URL}/{duty.pk}/files", {"file": SimpleUploadedFile(name, content)})


def test_it_uploads_evidence_for_the_owner_side(client, cast, media):
    duty = _open(cast)
    resp = _upload(client, cast.org_admin, duty)
    assert resp.status_code == 201, resp.content
    stored = StoredFile.objects.get(owner_kind="duty", owner_id=duty.pk)
    assert resp.json()["name"] == stored.name == "落实情况.txt"
    assert resp.json()["url"] == f"/files/{stored.uid}/"
    assert (media / stored.path).read_bytes() == EVIDENCE
    assert AuditEvent.objects.filter(
        action="file_upload", object_id=str(stored.pk), actor=cast.org_admin
    ).exists()
    client.force_login(cast.secretary_a)
    assert [f["name"] for f in client.get(f"{URL}/{duty.pk}").json()["files"]] == ["落实情况.txt"]


def test_it_refuses_bad_uploads(client, cast, media):
    duty = _open(cast)
    resp = _upload(client, cast.secretary_a, duty, name="病毒.exe", content=b"MZ\x90\x00")
    assert resp.status_code == 422 and resp.json()["detail"].startswith("不支持上传 .exe 文件")
    assert (
        _upload(client, cast.committee_admin, duty).status_code == 403
    )  # the assigner is not the owner side
    assert _upload(client, cast.secretary_b, duty).status_code == 404
    Duty.objects.filter(pk=duty.pk).update(state="closed")
    resp = _upload(client, cast.secretary_a, duty)
    assert resp.status_code == 409 and "不能再上传" in resp.json()["detail"]
    assert not StoredFile.objects.exists()
    client.force_login(cast.secretary_a)
    assert client.get(f"{URL}/{duty.pk}/files").status_code == 405


# --- transitions ---------------------------------------------------------------------


def _act(client, user, duty, **data):
    return _post(client, user, f"{URL}/{duty.pk}/transition", data)


def test_it_walks_a_duty_through_the_closed_loop(client, cast):
    duty = _open(cast, assigning=cast.committee_a)
    jiwei = _admin_of(cast.committee_a, "jiwei_a")
    steps = [
        (cast.secretary_a, {"action": "accept", "comment": "收到，马上落实"}, "accepted"),
        (cast.org_admin, {"action": "start"}, "in_progress"),
        (cast.secretary_a, {"action": "report", "evidence": "已于3月9日召开。"}, "reported"),
        (jiwei, {"action": "review"}, "under_review"),
        (jiwei, {"action": "return", "reason": "缺少会议记录。"}, "returned"),
        (cast.secretary_a, {"action": "start"}, "in_progress"),
        (cast.secretary_a, {"action": "report", "evidence": "补充了会议记录。"}, "reported"),
        (jiwei, {"action": "review"}, "under_review"),
        (jiwei, {"action": "pass", "comment": "同意销号"}, "closed"),
    ]
    for version, (user, data, state) in enumerate(steps, start=1):
        resp = _act(client, user, duty, version=version, **data)
        assert resp.status_code == 200, (data, resp.content)
        assert resp.json() == {"state": state, "version": version + 1}
    duty.refresh_from_db()
    assert (duty.state, duty.returns, duty.closed_on, duty.evidence) == (
        "closed",
        1,
        TODAY,
        "补充了会议记录。",
    )
    assert duty.events.count() == len(steps) + 1
    assert AuditEvent.objects.filter(
        object_type="duties.duty", object_id=str(duty.pk), action="duty_pass", actor=jiwei
    ).exists()


def test_it_answers_404_outside_scope_and_changes_nothing(client, cast):
    duty = _open(cast)
    before = _snapshot(duty)
    for user in (cast.secretary_b, cast.outsider):
        resp = _act(client, user, duty, action="accept", version=1)
        assert resp.status_code == 404
    assert _snapshot(duty) == before


def test_it_answers_403_to_a_visible_duty_the_caller_may_not_change(client, cast):
    jiwei = _admin_of(cast.committee_a, "jiwei_a")
    duty = _open(cast, supervising_org=cast.committee_a)
    before = _snapshot(duty)
    resp = _act(client, cast.member, duty, action="accept", version=1)  # sees their branch's duty
    assert resp.status_code == 403 and resp.json()["detail"] == "您不能对该事项执行“认领”。"
    resp = _act(
        client, jiwei, duty, action="cancel", version=1, reason="不需要了"
    )  # the supervisor only urges
    assert resp.status_code == 403
    assert _snapshot(duty) == before
    assert _act(client, jiwei, duty, action="urge", version=1, comment="请抓紧").status_code == 200


def test_it_answers_409_to_a_wrong_state_or_a_stale_version(client, cast):
    duty = _open(cast)
    before = _snapshot(duty)
    resp = _act(client, cast.secretary_a, duty, action="start", version=1)
    assert (
        resp.status_code == 409 and resp.json()["detail"] == "该事项当前状态为“已部署”，不能执行“开始落实”。"
    )
    resp = _act(client, cast.secretary_a, duty, action="accept", version=7)
    assert resp.status_code == 409 and resp.json()["detail"] == "该事项已被他人处理，请刷新页面后重试。"
    assert _snapshot(duty) == before


def test_it_answers_422_to_missing_fields_and_changes_nothing(client, cast):
    duty = _open(cast)
    services.duty_transition(duty=duty, action="accept", actor=cast.secretary_a, version=1)
    services.duty_transition(duty=duty, action="start", actor=cast.secretary_a, version=2)
    before = _snapshot(duty)
    resp = _act(client, cast.secretary_a, duty, action="report", version=3, evidence="  ")
    assert resp.status_code == 422
    assert resp.json()["errors"] == [{"loc": ["evidence"], "message": "报送时须填写落实情况及佐证说明。"}]
    resp = _act(client, cast.secretary_a, duty, action="dance", version=3)
    assert resp.status_code == 422 and resp.json()["errors"][0]["message"] == "未知的操作：dance。"
    resp = _act(client, cast.secretary_a, duty, action="report")
    assert resp.status_code == 422 and resp.json()["errors"][0]["loc"][-1] == "version"
    assert _snapshot(duty) == before


def test_it_takes_extension_and_reassignment_fields(client, cast):
    duty = _open(cast)
    newcomer = cast.person(cast.org_admin)
    resp = _act(
        client,
        cast.secretary_a,
        duty,
        action="request_extension",
        version=1,
        new_due_on="2026-05-08",
        reason="等待上级文件",
    )
    assert resp.json() == {"state": "assigned", "version": 2}
    assert _act(client, cast.committee_admin, duty, action="approve_extension", version=2).status_code == 200
    assert (
        _act(
            client, cast.committee_admin, duty, action="reassign", version=3, owner_id=newcomer.pk
        ).status_code
        == 200
    )
    duty.refresh_from_db()
    assert (duty.due_on, duty.requested_due_on, duty.owner) == (date(2026, 5, 8), None, newcomer)


def test_it_rejects_the_wrong_method(client, cast):
    duty = _open(cast)
    client.force_login(cast.committee_admin)
    assert client.delete(f"{URL}/{duty.pk}").status_code == 405
    assert client.get(f"{URL}/{duty.pk}/transition").status_code == 405


def test_it_works_with_a_bearer_token(client, cast):
    duty = _open(cast)
    _, raw = api_token_issue(actor=cast.secretary_a)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert [d["id"] for d in client.get(URL, **auth).json()["items"]] == [duty.pk]
    resp = client.post(
        f"{URL}/{duty.pk}/transition",
        {"action": "accept", "version": 1},
        content_type="application/json",
        **auth,
    )
    assert resp.status_code == 200 and resp.json() == {"state": "accepted", "version": 2}
    assert DutyEvent.objects.filter(duty=duty, action="accept", actor=cast.secretary_a).exists()
    resp = client.post(
        URL,
        {"org_id": cast.branch_a1.pk, "title": "令牌部署", "due_on": "2026-04-01"},
        content_type="application/json",
        **auth,
    )
    assert resp.status_code == 201
