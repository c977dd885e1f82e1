"""Meeting screens: record, edit, submit, review, report upward, rectify, notice; scope and statuses."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from sizheng.core.models import AuditEvent, Notification
from sizheng.duties.models import Duty
from sizheng.life import services
from sizheng.life.forms import roster_key
from sizheng.life.models import Attendance, Meeting, MeetingKind, MeetingState
from sizheng.org.models import Person

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 8, 20)


def _at(d: date, hour: int = 9) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=SH)


def _record(cast, *, kind=MeetingKind.MEMBERS_MEETING, submit=True, day=date(2026, 8, 12), org=None, **kw):
    return services.meeting_record(
        actor=cast.secretary_a, org=org or cast.branch_a1, kind=kind, topic="学习贯彻全会精神",
        starts_at=_at(day), ends_at=_at(day, 11), place="三楼会议室", submit=submit, **kw,
    )  # fmt: skip


def _roster(cast):
    return list(Person.objects.filter(org=cast.branch_a1).order_by("name", "pk"))


def _form_data(cast, **over):
    people = _roster(cast)
    data = {
        "org": cast.branch_a1.pk, "kind": MeetingKind.MEMBERS_MEETING, "topic": "学习党章", "day": "2026-08-18",
        "start_time": "09:00", "end_time": "11:00", "place": "三楼会议室", "roster": roster_key(people),
        "action": "submit",
    }  # fmt: skip
    for p in people:
        data[f"att_{p.pk}"] = "present"
        data[f"reason_{p.pk}"] = ""
    data.update(over)
    return data


# --- record --------------------------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_it_records_a_meeting_with_structured_absences(client, cast):
    client.force_login(cast.secretary_a)
    page = client.get(reverse("life:meeting_create"))
    assert page.status_code == 200 and "刘洋" in page.content.decode()
    absent = Person.objects.get(name="刘洋")
    resp = client.post(reverse("life:meeting_create"),
                       _form_data(cast, **{f"att_{absent.pk}": "on_leave", f"reason_{absent.pk}": "公务出差"}))  # fmt: skip
    meeting = Meeting.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("life:meeting_detail", args=[meeting.pk])
    assert meeting.state == MeetingState.SUBMITTED and meeting.topic == "学习党章"
    row = Attendance.objects.get(meeting=meeting, person=absent)
    assert (row.status, row.reason) == ("on_leave", "公务出差")
    assert Attendance.objects.filter(meeting=meeting, status="present").count() == 2
    assert AuditEvent.objects.filter(action="meeting_record", object_id=str(meeting.pk)).exists()


@time_machine.travel(TODAY, tick=False)
def test_it_saves_a_draft_when_asked(client, cast):
    client.force_login(cast.org_admin)
    resp = client.post(reverse("life:meeting_create"), _form_data(cast, action="draft"))
    assert resp.status_code == 302
    assert Meeting.objects.get().state == MeetingState.DRAFT


@time_machine.travel(TODAY, tick=False)
def test_it_refuses_an_absence_without_a_reason_with_422(client, cast):
    client.force_login(cast.secretary_a)
    absent = Person.objects.get(name="刘洋")
    resp = client.post(reverse("life:meeting_create"), _form_data(cast, **{f"att_{absent.pk}": "absent"}))
    assert resp.status_code == 422
    assert "刘洋缺席或请假，请写明原因。" in resp.content.decode()
    assert not Meeting.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_it_refuses_an_end_before_the_start_and_a_changed_roster(client, cast):
    client.force_login(cast.secretary_a)
    resp = client.post(reverse("life:meeting_create"), _form_data(cast, end_time="08:00"))
    assert resp.status_code == 422 and "结束时间必须晚于开始时间。" in resp.content.decode()
    resp = client.post(reverse("life:meeting_create"), _form_data(cast, roster="stale"))
    assert resp.status_code == 422 and "出席名单已按所选党组织" in resp.content.decode()
    assert not Meeting.objects.exists()


def test_it_guards_the_record_form(client, cast):
    client.force_login(cast.member)
    assert client.get(reverse("life:meeting_create")).status_code == 403
    client.force_login(cast.secretary_a)
    assert client.put(reverse("life:meeting_create")).status_code == 405
    assert client.get(reverse("life:meeting_create"), {"org": cast.branch_c.pk}).status_code == 404
    client.force_login(cast.member)
    assert client.post(reverse("life:meeting_create"), _form_data(cast)).status_code == 403
    assert not Meeting.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_it_prefills_the_birthday_theme_day(client, cast):
    Person.objects.filter(name="刘洋").update(joined_on=date(2001, 8, 3))
    client.force_login(cast.secretary_a)
    html = client.get(
        reverse("life:meeting_create"), {"org": cast.branch_a1.pk, "birthdays": "2026-08"}
    ).content
    text = html.decode()
    assert "重温入党誓词" in text and "刘洋" in text and "集体过政治生日" in text
    assert 'value="theme_day" selected' in text


# --- detail, edit, submit ------------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_it_shows_a_meeting_to_its_scope_only(client, cast):
    meeting = _record(cast)
    client.force_login(cast.member)
    resp = client.get(reverse("life:meeting_detail", args=[meeting.pk]))
    assert resp.status_code == 200 and "已达到法定人数" in resp.content.decode()
    client.force_login(cast.outsider)
    assert client.get(reverse("life:meeting_detail", args=[meeting.pk])).status_code == 404
    assert client.post(reverse("life:meeting_detail", args=[meeting.pk])).status_code == 405


@time_machine.travel(TODAY, tick=False)
def test_it_edits_a_draft_with_cas(client, cast):
    meeting = _record(cast, submit=False)
    url = reverse("life:meeting_edit", args=[meeting.pk])
    client.force_login(cast.secretary_a)
    assert client.get(url).status_code == 200
    absent = Person.objects.get(name="刘洋")
    data = _form_data(cast, topic="新主题", version=meeting.version, action="draft",
                      **{f"att_{absent.pk}": "absent", f"reason_{absent.pk}": "病假"})  # fmt: skip
    data.pop("org"), data.pop("kind")
    resp = client.post(url, data)
    assert resp.status_code == 302
    meeting.refresh_from_db()
    assert meeting.topic == "新主题" and meeting.version == 2 and meeting.state == MeetingState.DRAFT
    assert Attendance.objects.get(meeting=meeting, person=absent).status == "absent"
    assert AuditEvent.objects.filter(action="meeting_update").exists()
    assert AuditEvent.objects.filter(action="attendance_set").exists()
    stale = client.post(url, dict(data, version=1, topic="过期"))
    assert stale.status_code == 409 and "已被他人修改" in stale.content.decode()
    meeting.refresh_from_db()
    assert meeting.topic == "新主题"


@time_machine.travel(TODAY, tick=False)
def test_it_guards_the_edit_form(client, cast):
    meeting = _record(cast, submit=False)
    url = reverse("life:meeting_edit", args=[meeting.pk])
    client.force_login(cast.member)
    assert client.get(url).status_code == 403
    client.force_login(cast.outsider)
    assert client.get(url).status_code == 404
    client.force_login(cast.secretary_a)
    assert client.delete(url).status_code == 405
    bad = _form_data(cast, topic="", version=1)
    resp = client.post(url, bad)
    assert resp.status_code == 422 and "这个字段是必填项" in resp.content.decode()
    services.meeting_submit(actor=cast.secretary_a, meeting=meeting, version=1)
    assert client.get(url).status_code == 409


@time_machine.travel(TODAY, tick=False)
def test_it_submits_a_draft(client, cast):
    meeting = _record(cast, submit=False)
    url = reverse("life:meeting_submit", args=[meeting.pk])
    client.force_login(cast.member)
    assert client.post(url, {"version": 1}).status_code == 403
    client.force_login(cast.outsider)
    assert client.post(url, {"version": 1}).status_code == 404
    client.force_login(cast.secretary_a)
    assert client.get(url).status_code == 405
    assert client.post(url, {"version": 9}).status_code == 409
    assert client.post(url, {}).status_code == 422
    resp = client.post(url, {"version": 1})
    assert resp.status_code == 302
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.SUBMITTED
    assert AuditEvent.objects.filter(action="meeting_submit", object_id=str(meeting.pk)).exists()


# --- review, report upward, rectification ------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_it_lets_the_higher_org_approve_or_return(client, cast):
    from sizheng.org.testing import appoint, make_person

    boss = make_person("上级书记", cast.unit_a, org=cast.committee_a, username="shuji_jg")
    appoint(boss, cast.committee_a, "secretary")
    meeting = _record(cast)
    url = reverse("life:meeting_review", args=[meeting.pk])
    client.force_login(cast.secretary_a)  # manages the branch, not its parent
    assert client.post(url, {"version": 1, "decision": "approve"}).status_code == 403
    client.force_login(cast.outsider)
    assert client.post(url, {"version": 1, "decision": "approve"}).status_code == 404
    client.force_login(boss.user)
    assert client.get(url).status_code == 405
    resp = client.post(url, {"version": 1, "decision": "return", "opinion": ""})
    assert resp.status_code == 422 and "退回时须写明退回意见。" in resp.content.decode()
    assert client.post(url, {"version": 5, "decision": "approve"}).status_code == 409
    assert (
        client.post(url, {"version": 1, "decision": "return", "opinion": "请补充会议记录"}).status_code == 302
    )
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.RETURNED and meeting.return_opinion == "请补充会议记录"
    assert AuditEvent.objects.filter(action="meeting_return").exists()
    services.meeting_submit(actor=cast.secretary_a, meeting=meeting, version=meeting.version)
    assert client.post(url, {"version": meeting.version, "decision": "approve"}).status_code == 302
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.APPROVED


@time_machine.travel(TODAY, tick=False)
def test_it_tracks_the_report_upward_of_a_democratic_life_meeting(client, cast):
    meeting = _record(
        cast, kind=MeetingKind.DEMOCRATIC_LIFE_MEETING, org=cast.leading_a, day=date(2026, 7, 1)
    )
    client.force_login(cast.committee_admin)
    page = client.get(reverse("life:meeting_detail", args=[meeting.pk])).content.decode()
    assert "已逾期未报送" in page  # due 16 July, today 20 August
    url = reverse("life:meeting_report", args=[meeting.pk])
    assert client.post(url, {"version": 1, "reported_on": "2026-12-01"}).status_code == 422
    assert client.post(url, {"version": 3, "reported_on": "2026-08-19"}).status_code == 409
    assert client.post(url, {"version": 1, "reported_on": "2026-08-19"}).status_code == 302
    meeting.refresh_from_db()
    assert meeting.reported_on == date(2026, 8, 19)
    assert AuditEvent.objects.filter(action="meeting_report_upward").exists()
    client.force_login(cast.member)
    assert client.post(url, {"version": 2, "reported_on": "2026-08-19"}).status_code == 404  # not his org
    client.force_login(cast.committee_admin)
    assert client.get(url).status_code == 405


@time_machine.travel(TODAY, tick=False)
def test_it_turns_a_rectification_item_into_a_duty(client, cast):
    meeting = _record(cast, kind=MeetingKind.LIFE_MEETING)
    url = reverse("life:meeting_rectify", args=[meeting.pk])
    client.force_login(cast.member)
    assert client.post(url, {"version": 1, "title": "x", "due_on": "2026-09-30"}).status_code == 403
    client.force_login(cast.outsider)
    assert client.post(url, {"version": 1, "title": "x", "due_on": "2026-09-30"}).status_code == 404
    client.force_login(cast.secretary_a)
    assert client.get(url).status_code == 405
    resp = client.post(url, {"version": 1, "title": "", "due_on": "2026-09-30"})
    assert resp.status_code == 422 and "这个字段是必填项" in resp.content.decode()
    assert (
        client.post(url, {"version": 4, "title": "落实谈心谈话", "due_on": "2026-09-30"}).status_code == 409
    )
    resp = client.post(url, {"version": 1, "title": "落实谈心谈话制度", "due_on": "2026-09-30"})
    assert resp.status_code == 302
    duty = Duty.objects.get()
    assert duty.title == "落实谈心谈话制度" and duty.category == "组织生活会整改"
    assert str(meeting.pk) in duty.description
    meeting.refresh_from_db()
    assert meeting.steps["rectification"][0]["duty_id"] == duty.pk
    assert AuditEvent.objects.filter(action="meeting_rectification_add").exists()


# --- notice ---------------------------------------------------------------------------------------


@time_machine.travel(TODAY, tick=False)
def test_it_sends_a_notice_for_a_planned_meeting(client, cast):
    planned = _record(cast, submit=False, day=TODAY + timedelta(days=5))
    url = reverse("life:meeting_notice", args=[planned.pk])
    client.force_login(cast.member)
    assert client.post(url).status_code == 403
    client.force_login(cast.outsider)
    assert client.post(url).status_code == 404
    client.force_login(cast.secretary_a)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    assert Notification.objects.filter(user=cast.member, title__startswith="会议通知").count() == 1
    assert AuditEvent.objects.filter(action="meeting_notify", object_id=str(planned.pk)).exists()
    held = _record(cast)
    resp = client.post(reverse("life:meeting_notice", args=[held.pk]))
    assert resp.status_code == 409 and "只能为尚未召开的计划会议" in resp.content.decode()


def test_it_shows_absence_reasons_only_to_the_orgs_managers_and_the_person(client, cast):
    meeting = _record(cast)
    admin = cast.person(cast.org_admin)
    Attendance.objects.filter(meeting=meeting, person=admin).update(
        status="on_leave", reason="家中老人住院陪护"
    )
    url = reverse("life:meeting_detail", args=[meeting.pk])
    client.force_login(cast.member)
    html = client.get(url).content.decode()
    assert "家中老人住院陪护" not in html and "原因仅组织管理人员可见" in html
    for user in (cast.secretary_a, cast.org_admin):
        client.force_login(user)
        assert "家中老人住院陪护" in client.get(url).content.decode()


def test_a_reelected_secretary_is_expected_at_the_committee_meeting(cast):
    """An ended earlier term must not hide a current one (found by the e2e secretary journey)."""
    from datetime import date

    from sizheng.life.models import MeetingKind
    from sizheng.life.services import expected_attendees
    from sizheng.org.models import OrgRole

    me = cast.person(cast.secretary_a)
    OrgRole.objects.create(org=cast.branch_a1, person=me, title=OrgRole.Title.SECRETARY,
                           starts_on=date(2021, 6, 1), ends_on=date(2024, 5, 31))  # fmt: skip
    former = cast.person(cast.member)
    OrgRole.objects.create(org=cast.branch_a1, person=former, title=OrgRole.Title.PARTY_AFFAIRS,
                           starts_on=date(2021, 6, 1), ends_on=date(2024, 5, 31))  # fmt: skip
    expected = set(expected_attendees(cast.branch_a1, MeetingKind.COMMITTEE_MEETING))
    assert me in expected and former not in expected
