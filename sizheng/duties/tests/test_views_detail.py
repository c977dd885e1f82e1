"""The duty page and its writes: the timeline in words, a form per available action, transitions
(200/302, 405, 404, 403, 422, 409 on the HTML form), evidence uploads and file access."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sizheng.core.models import AuditEvent, StoredFile
from sizheng.duties import services
from sizheng.duties.models import Duty, DutyEvent, SourceKind, State

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-03-10 10:00 +0800", tick=False):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _open(cast, org=None, *, title="组织开展主题党日活动", due=date(2026, 4, 10), **extra) -> Duty:
    return services.duty_open(org=org or cast.branch_a1, title=title, due_on=due, actor=cast.committee_admin,
                              assigning_org=extra.pop("assigning_org", cast.root), **extra)  # fmt: skip


def _step(duty: Duty, action: str, user, **kw) -> Duty:
    duty.refresh_from_db()
    return services.duty_transition(duty=duty, action=action, actor=user, version=duty.version, **kw)


def _post(client, user, duty, data):
    client.force_login(user)
    return client.post(reverse("duties:transition", args=[duty.pk]), data)


def _audited(action: str, duty: Duty) -> bool:
    return AuditEvent.objects.filter(action=action, object_id=str(duty.pk)).exists()


# --- the page ----------------------------------------------------------------------------------


def test_it_shows_the_duty_with_its_timeline_in_words_and_the_owner_side_forms(client, cast):
    duty = _open(cast, description="每月第一个周五开展主题党日。", evidence_required="活动记录")
    _step(duty, "accept", cast.secretary_a, comment="本周内落实")
    _step(
        duty, "request_extension", cast.secretary_a, new_due_on=date(2026, 4, 24), reason="与专题学习合并开展"
    )
    client.force_login(cast.secretary_a)
    response = client.get(reverse("duties:detail", args=[duty.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "每月第一个周五开展主题党日。" in html and "活动记录" in html
    assert "已部署 → 已认领" in html and "本周内落实" in html
    assert "申请将完成时限延至2026年4月24日。" in html and "理由：与专题学习合并开展" in html
    actions = [f.action for f in response.context["action_forms"]]
    assert actions == ["start"]  # an extension is pending: no second request
    assert 'name="version" value="3"' in html and 'id="action-start"' in html


def test_it_offers_the_assigner_review_forms_and_the_notice(client, cast):
    duty = _open(cast)
    _step(duty, "accept", cast.secretary_a)
    _step(duty, "request_extension", cast.secretary_a, new_due_on=date(2026, 4, 24), reason="时间冲突")
    client.force_login(cast.committee_admin)
    response = client.get(reverse("duties:detail", args=[duty.pk]))
    actions = [f.action for f in response.context["action_forms"]]
    assert actions == ["urge", "approve_extension", "reject_extension", "reassign", "cancel"]
    html = response.content.decode()
    assert reverse("duties:urge_notice", args=[duty.pk]) in html
    assert "申请延期至 2026年4月24日（原完成时限 2026年4月10日），理由：时间冲突。" in html
    assert "赵敏" in html  # the reassign form lists the assignee org's people


def test_it_shows_a_read_only_page_to_a_member_and_404_to_an_outsider(client, cast):
    duty = _open(cast)
    client.force_login(cast.member)
    response = client.get(reverse("duties:detail", args=[duty.pk]))
    assert response.status_code == 200
    assert response.context["action_forms"] == []
    assert "目前没有需要您办理的操作" in response.content.decode()
    for user in (cast.secretary_b, cast.outsider):
        client.force_login(user)
        assert client.get(reverse("duties:detail", args=[duty.pk])).status_code == 404


def test_it_hides_the_content_of_a_sensitive_duty_from_those_on_neither_side(client, cast):
    duty = _open(cast, title="与某同志谈心", source=(SourceKind.TALK, 7), description="家中变故")
    _step(duty, "cancel", cast.committee_admin, reason="当事人已调离", comment="详情见谈话记录")
    client.force_login(cast.member)
    html = client.get(reverse("duties:detail", args=[duty.pk])).content.decode()
    assert "谈心谈话提醒" in html
    assert "与某同志谈心" not in html and "家中变故" not in html
    assert "当事人已调离" not in html and "详情见谈话记录" not in html
    assert "（涉及敏感信息，不予显示）" in html
    client.force_login(cast.secretary_a)
    assert "当事人已调离" in client.get(reverse("duties:detail", args=[duty.pk])).content.decode()


# --- transitions -------------------------------------------------------------------------------


def test_it_takes_an_action_from_the_page_with_event_and_audit(client, cast):
    duty = _open(cast)
    response = _post(
        client, cast.secretary_a, duty, {"action": "accept", "version": 1, "comment": "马上落实"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("duties:detail", args=[duty.pk])
    duty.refresh_from_db()
    assert duty.state == State.ACCEPTED and duty.version == 2
    assert DutyEvent.objects.filter(duty=duty, action="accept", comment="马上落实").exists()
    assert _audited("duty_accept", duty)
    page = client.get(response["Location"]).content.decode()
    assert "已认领：组织开展主题党日活动。" in page


def test_it_reports_with_evidence_and_a_late_reason_after_the_deadline(client, cast):
    duty = _open(cast, due=date(2026, 3, 2))
    _step(duty, "accept", cast.secretary_a)
    _step(duty, "start", cast.secretary_a)
    client.force_login(cast.org_admin)
    page = client.get(reverse("duties:detail", args=[duty.pk])).content.decode()
    assert "逾期原因" in page and "已超过完成时限" in page
    data = {"action": "report", "version": 3, "evidence": "已召开支部党员大会。", "late_reason": ""}
    response = client.post(reverse("duties:transition", args=[duty.pk]), data)
    assert response.status_code == 422
    assert "已超过完成时限，请说明逾期原因" in response.content.decode()
    data["late_reason"] = "书记外出学习"
    response = client.post(reverse("duties:transition", args=[duty.pk]), data)
    assert response.status_code == 302
    duty.refresh_from_db()
    assert duty.state == State.REPORTED and duty.is_late and duty.reported_on == date(2026, 3, 10)
    assert _audited("duty_report", duty)


def test_it_answers_405_to_a_get_on_the_transition_url(client, cast):
    duty = _open(cast)
    client.force_login(cast.secretary_a)
    assert client.get(reverse("duties:transition", args=[duty.pk])).status_code == 405


def test_it_answers_404_to_an_outsider_and_changes_nothing(client, cast):
    duty = _open(cast)
    for user in (cast.secretary_b, cast.outsider):
        assert _post(client, user, duty, {"action": "accept", "version": 1}).status_code == 404
    duty.refresh_from_db()
    assert duty.state == State.ASSIGNED and duty.version == 1


def test_it_answers_403_to_a_member_who_sees_the_duty_but_is_not_on_the_owner_side(client, cast):
    duty = _open(cast)
    _step(duty, "accept", cast.secretary_a)
    _step(duty, "start", cast.secretary_a)
    response = _post(client, cast.member, duty, {"action": "report", "version": 3, "evidence": "已完成"})
    assert response.status_code == 403
    assert "您不能对该事项执行“报送”。" in response.content.decode()
    response = _post(client, cast.secretary_a, duty, {"action": "pass", "version": 3})
    assert response.status_code == 403  # the owner side never closes its own duty
    duty.refresh_from_db()
    assert duty.state == State.IN_PROGRESS and duty.version == 3


def test_it_rejects_bad_input_with_422_and_the_chinese_message_on_the_action_form(client, cast):
    duty = _open(cast)
    _step(duty, "accept", cast.secretary_a)
    _step(duty, "start", cast.secretary_a)
    response = _post(client, cast.secretary_a, duty, {"action": "report", "version": 3, "evidence": "  "})
    assert response.status_code == 422
    assert "报送时须填写落实情况及佐证说明。" in response.content.decode()
    response = _post(client, cast.secretary_a, duty,
                     {"action": "request_extension", "version": 3, "new_due_on": "下个月", "reason": "x"})  # fmt: skip
    assert response.status_code == 422
    assert "请输入有效的日期" in response.content.decode()
    response = _post(
        client, cast.committee_admin, duty, {"action": "cancel", "version": 3, "reason": "重复部署"}
    )
    assert response.status_code == 422
    assert "请勾选确认后再撤销。" in response.content.decode()
    response = _post(client, cast.committee_admin, duty, {"action": "teleport", "version": 3})
    assert response.status_code == 422
    assert "未知的操作" in response.content.decode()
    duty.refresh_from_db()
    assert duty.state == State.IN_PROGRESS and duty.version == 3


def test_it_answers_409_to_a_stale_version_on_the_html_form_and_keeps_the_input(client, cast):
    duty = _open(cast)
    _step(duty, "accept", cast.secretary_a)  # version 2 now; the other page still says 1
    response = _post(client, cast.org_admin, duty, {"action": "start", "version": 1, "comment": "我来落实"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "该事项已被他人处理，请刷新页面后重试。" in html
    assert "我来落实" in html and 'name="version" value="2"' in html
    duty.refresh_from_db()
    assert duty.state == State.ACCEPTED and duty.version == 2


def test_it_answers_409_to_an_action_the_state_no_longer_allows(client, cast):
    duty = _open(cast)
    _step(duty, "accept", cast.secretary_a)
    response = _post(client, cast.org_admin, duty, {"action": "accept", "version": 2})
    assert response.status_code == 409
    assert "该事项当前状态为“已认领”，不能执行“认领”" in response.content.decode()


def test_it_runs_the_whole_loop_through_the_forms(client, cast):
    duty = _open(cast)
    member = cast.person(cast.member)
    steps = [
        (cast.secretary_a, {"action": "accept"}),
        (cast.committee_admin, {"action": "reassign", "owner_id": member.pk}),
        (cast.member, {"action": "start"}),
        (cast.member, {"action": "report", "evidence": "第一次报送"}),
        (cast.committee_admin, {"action": "review"}),
        (cast.committee_admin, {"action": "return", "reason": "缺少签到表"}),
        (cast.member, {"action": "start"}),
        (cast.member, {"action": "report", "evidence": "补充了签到表"}),
        (cast.committee_admin, {"action": "review"}),
        (cast.committee_admin, {"action": "pass", "comment": "同意销号"}),
    ]
    for user, data in steps:
        duty.refresh_from_db()
        response = _post(client, user, duty, {**data, "version": duty.version})
        assert response.status_code == 302, (data, response.content.decode()[-2000:])
    duty.refresh_from_db()
    assert duty.state == State.CLOSED and duty.returns == 1 and duty.owner == member
    client.force_login(cast.member)
    html = client.get(reverse("duties:detail", args=[duty.pk])).content.decode()
    assert "责任人由（未指定）调整为刘洋。" in html and "理由：缺少签到表" in html
    assert "该事项已已销号" not in html and "无需再办理" in html


# --- evidence ----------------------------------------------------------------------------------


EVIDENCE = "支部已于3月5日召开党员大会。".encode()


def _file(name="落实情况.txt", content=EVIDENCE):
    return SimpleUploadedFile(name, content, content_type="text/plain")


def test_it_uploads_evidence_for_the_owner_side_and_serves_it_to_those_who_see_the_duty(client, cast):
    duty = _open(cast)
    client.force_login(cast.secretary_a)
    response = client.post(reverse("duties:upload", args=[duty.pk]), {"file": _file()})
    assert response.status_code == 302
    stored = StoredFile.objects.get(owner_kind="duty", owner_id=duty.pk)
    assert stored.name == "落实情况.txt"
    assert AuditEvent.objects.filter(action="file_upload", object_id=str(stored.pk)).exists()
    assert DutyEvent.objects.filter(duty=duty, action="attach").exists()
    page = client.get(reverse("duties:detail", args=[duty.pk])).content.decode()
    assert "落实情况.txt" in page and "上传了佐证材料《落实情况.txt》。" in page
    client.force_login(cast.member)
    assert client.get(reverse("core:file", args=[stored.uid])).status_code == 200
    client.force_login(cast.secretary_b)
    assert client.get(reverse("core:file", args=[stored.uid])).status_code == 404


def test_it_refuses_uploads_by_method_scope_side_type_and_state(client, cast):
    duty = _open(cast)
    url = reverse("duties:upload", args=[duty.pk])
    client.force_login(cast.secretary_a)
    assert client.get(url).status_code == 405
    response = client.post(url, {"file": _file("病毒.exe", b"MZ\x90\x00binary")})
    assert response.status_code == 422
    assert "不支持上传 .exe 文件" in response.content.decode()
    response = client.post(url, {})
    assert response.status_code == 422 and "请选择要上传的文件。" in response.content.decode()
    client.force_login(cast.secretary_b)
    assert client.post(url, {"file": _file()}).status_code == 404
    client.force_login(cast.member)
    assert client.post(url, {"file": _file()}).status_code == 403
    Duty.objects.filter(pk=duty.pk).update(state=State.CLOSED)
    client.force_login(cast.secretary_a)
    response = client.post(url, {"file": _file()})
    assert response.status_code == 409 and "不能再上传佐证材料" in response.content.decode()
    assert not StoredFile.objects.filter(owner_kind="duty").exists()
