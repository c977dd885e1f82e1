"""Wellbeing screens: self-screening and result, deletion, contact, the counselor's caseload, aggregates."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sizheng.care import wellbeing
from sizheng.care.models import (
    AnonymousScreening,
    Appointment,
    ContactRequest,
    CounselingCase,
    CrisisAlert,
    Screening,
    SessionNote,
)
from sizheng.core.models import AuditEvent, Notification
from sizheng.org.models import Person
from sizheng.org.testing import make_person

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
MILD = [1, 1, 1, 1, 1, 0, 0, 0, 0]
SEVERE = [3, 3, 3, 3, 3, 3, 2, 0, 0]
ITEM9_ONLY = [0, 0, 0, 0, 0, 0, 0, 0, 1]
NOT_COUNSELORS = (
    "committee_admin",
    "secretary_a",
    "org_admin",
    "leader",
    "member",
    "outsider",
    "union",
    "sysadmin",
)


def _url(name, *args):
    return reverse(f"care:{name}", args=args)


def _form(answers, *, consent=True, mode="anonymous"):
    data = {f"item_{i}": str(v) for i, v in enumerate(answers, start=1)}
    data["mode"] = mode
    if consent:
        data["consent"] = "on"
    return data


def _login(client, user):
    client.force_login(user)
    return client


# --- self-screening ----------------------------------------------------------------------------


def test_it_shows_the_home_page_and_the_questionnaire(client, cast):
    r = _login(client, cast.member).get(_url("wellbeing"))
    assert r.status_code == 200 and "PHQ-9" in r.content.decode() and "12356" in r.content.decode()
    r = client.get(_url("wellbeing_screen", "phq9"))
    body = r.content.decode()
    assert r.status_code == 200 and "做事时提不起劲或没有兴趣" in body and "一半以上的天数" in body
    assert re.search(r'value="anonymous"[^>]*checked', body) and not re.search(
        r'value="named"[^>]*checked', body
    )
    assert not re.search(r'name="consent"[^>]*checked', body)  # consent is never pre-ticked
    assert client.get(_url("wellbeing_screen", "bdi")).status_code == 404


def test_it_tells_an_account_without_a_person_that_it_cannot_screen(client, cast):
    r = _login(client, cast.counselor).get(_url("wellbeing"))
    assert r.status_code == 200 and "没有关联人员信息" in r.content.decode()
    assert client.post(_url("wellbeing_screen", "phq9"), _form(MILD)).status_code == 403


def test_it_shows_an_anonymous_result_once_with_the_deletion_code_and_stores_nothing_named(client, cast):
    audits = AuditEvent.objects.count()
    r = _login(client, cast.member).post(_url("wellbeing_screen", "phq9"), _form(MILD))
    body = r.content.decode()
    assert r.status_code == 200 and "轻度" in body and "删除码只显示这一次" in body
    assert "no-store" in r["Cache-Control"]
    assert not Screening.objects.exists() and AuditEvent.objects.count() == audits
    assert not Notification.objects.exists()
    assert 'class="alert alert-danger' not in body  # not a crisis
    pending = wellbeing.anon_store.pending("wellbeing", wellbeing.current_wave())
    assert len(pending) == 1
    # The code on the page deletes it.
    code = body.split('font-monospace mb-2">')[1].split("<")[0]
    r = client.post(_url("wellbeing_delete_code"), {"code": code})
    assert r.status_code == 302
    assert wellbeing.anon_store.pending("wellbeing", wellbeing.current_wave()) == []


def test_it_shows_the_crisis_resources_first_when_item9_is_positive_at_a_total_of_one(client, cast):
    r = _login(client, cast.member).post(_url("wellbeing_screen", "phq9"), _form(ITEM9_ONLY))
    body = r.content.decode()
    assert r.status_code == 200
    crisis = body.index('class="alert alert-danger')
    assert crisis < body.index('class="page-title"')  # at the top, before everything else
    block = body[crisis : body.index('class="page-header')]
    assert "12356" in block and "全国心理援助热线" in block and "请心理咨询员联系我" in block
    assert _url("wellbeing_contact") in block
    assert "1</strong> 分" in body and "无/极轻微" in body


def test_it_stores_a_named_screening_and_redirects_to_its_result(client, cast):
    r = _login(client, cast.member).post(_url("wellbeing_screen", "phq9"), _form(SEVERE, mode="named"))
    s = Screening.objects.get()
    assert r.status_code == 302 and r["Location"] == _url("wellbeing_result", s.pk)
    assert (
        s.band == "severe"
        and AuditEvent.objects.filter(action="screening_submit", actor=cast.member).exists()
    )
    assert CrisisAlert.objects.get().counselor == cast.counselor
    body = client.get(r["Location"]).content.decode()
    assert "重度" in body and "心理咨询员已收到提醒" in body and 'class="alert alert-danger' in body
    read = AuditEvent.objects.get(action="read_sensitive", object_type="care.screening")
    assert read.actor == cast.member and read.detail == {"fields": ["answers", "score", "band", "crisis"]}
    home = client.get(_url("wellbeing")).content.decode()
    assert _url("wellbeing_result", s.pk) in home and "重度" not in home  # the list shows no result
    for user in (cast.secretary_a, cast.counselor, cast.committee_admin):
        assert _login(client, user).get(_url("wellbeing_result", s.pk)).status_code == 404


def test_it_rerenders_the_questionnaire_with_messages_on_bad_input(client, cast):
    data = _form(MILD, consent=False)
    del data["item_3"]
    r = _login(client, cast.member).post(_url("wellbeing_screen", "phq9"), data)
    body = r.content.decode()
    assert r.status_code == 422 and "请先阅读说明并勾选同意处理健康信息" in body and "请回答第 3 题。" in body
    r = client.post(_url("wellbeing_screen", "gad7"), _form([0, 0, 0, 9, 0, 0, 0]))
    assert r.status_code == 422 and "第 4 题的答案无效" in r.content.decode()
    assert not Screening.objects.exists() and not wellbeing.anon_store.waves_pending("wellbeing")
    assert client.put(_url("wellbeing_screen", "phq9")).status_code == 405


def test_it_deletes_a_named_screening_after_confirmation(client, cast):
    s = wellbeing.screening_submit(actor=cast.member, instrument="phq9", answers=MILD, anonymous=False,
                                   consent=True).screening  # fmt: skip
    assert _login(client, cast.outsider).post(_url("wellbeing_delete", s.pk)).status_code == 404
    r = _login(client, cast.member).get(_url("wellbeing_delete", s.pk))
    assert r.status_code == 200 and "删除后无法恢复" in r.content.decode()
    assert Screening.objects.exists()
    r = client.post(_url("wellbeing_delete", s.pk))
    assert r.status_code == 302 and not Screening.objects.exists()
    assert AuditEvent.objects.filter(action="screening_delete", object_id=str(s.pk)).exists()
    assert client.post(_url("wellbeing_delete", s.pk)).status_code == 404


def test_it_says_clearly_when_no_screening_matches_a_code(client, cast):
    r = _login(client, cast.member).post(_url("wellbeing_delete_code"), {"code": "AAAA-BBBB-CCCC-DDDD"})
    assert r.status_code == 422 and "没有找到与该删除码对应的匿名自评记录" in r.content.decode()
    r = client.post(_url("wellbeing_delete_code"), {"code": "12"})
    assert r.status_code == 422 and "16 位" in r.content.decode()


def test_it_deletes_a_flushed_anonymous_screening_by_code(client, cast, settings):
    settings.ANONYMITY_MIN_GROUP = 3
    outcomes = [wellbeing.screening_submit(actor=cast.member, instrument="gad7", answers=[1] * 7,
                                           consent=True) for _ in range(3)]  # fmt: skip
    assert AnonymousScreening.objects.count() == 3
    r = _login(client, cast.secretary_b).post(
        _url("wellbeing_delete_code"), {"code": outcomes[1].deletion_code}
    )
    assert r.status_code == 302 and AnonymousScreening.objects.count() == 2


def test_it_creates_a_contact_request_with_one_tap(client, cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = _login(client, cast.member).post(_url("wellbeing_contact"), {})
    assert r.status_code == 302 and r["Location"] == _url("wellbeing")
    req = ContactRequest.objects.get()
    assert req.person == cast.person(cast.member) and req.how == ""
    assert CrisisAlert.objects.get().contact_request == req
    assert Notification.objects.filter(user=cast.counselor).count() == 1
    assert AuditEvent.objects.filter(action="contact_request_create", actor=cast.member).exists()
    assert client.get(_url("wellbeing_contact")).status_code == 200
    r = client.post(_url("wellbeing_contact"), {"how": "长" * 501})
    assert r.status_code == 422 and "500 字以内" in r.content.decode()
    assert _login(client, cast.counselor).post(_url("wellbeing_contact"), {}).status_code == 403


# --- the counselor ------------------------------------------------------------------------------


@pytest.fixture
def severe_alert(cast) -> CrisisAlert:
    wellbeing.screening_submit(
        actor=cast.member, instrument="phq9", answers=SEVERE, anonymous=False, consent=True
    )
    return CrisisAlert.objects.get()


@pytest.mark.parametrize("who", NOT_COUNSELORS)
def test_it_hides_every_counselor_screen_from_everybody_else(client, cast, severe_alert, who):
    case = wellbeing.crisis_alert_acknowledge(actor=cast.counselor, alert=severe_alert)
    user = getattr(cast, who)
    _login(client, user)
    for url in (
        _url("wellbeing_caseload"),
        _url("wellbeing_alert", severe_alert.pk),
        _url("wellbeing_case", case.pk),
        _url("wellbeing_stats"),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(_url("wellbeing_alert_ack", severe_alert.pk)).status_code == 404
    assert client.post(_url("wellbeing_case_note", case.pk), {"note": "x"}).status_code == 404
    assert not SessionNote.objects.exists()


def test_it_shows_the_caseload_and_audits_each_t3_read(client, cast, severe_alert):
    r = _login(client, cast.counselor).get(_url("wellbeing_caseload"))
    body = r.content.decode()
    assert r.status_code == 200 and "刘洋" in body and "重度" not in body
    assert not AuditEvent.objects.filter(action="read_sensitive").exists()  # the list reads no T3
    r = client.get(_url("wellbeing_alert", severe_alert.pk))
    body = r.content.decode()
    phone = cast.person(cast.member).phone
    assert r.status_code == 200 and "重度" in body and "20 分" in body and phone in body
    reads = AuditEvent.objects.filter(action="read_sensitive", actor=cast.counselor)
    assert {e.object_type for e in reads} == {"care.crisisalert", "org.person"}
    assert reads.get(object_type="org.person").detail == {"fields": ["phone"]}
    assert "20" not in str(reads.get(object_type="care.crisisalert").detail)


def test_it_acknowledges_an_alert_and_opens_a_case(client, cast, severe_alert):
    _login(client, cast.counselor)
    assert client.get(_url("wellbeing_alert_ack", severe_alert.pk)).status_code == 405
    r = client.post(_url("wellbeing_alert_ack", severe_alert.pk), {"version": severe_alert.version + 3})
    assert r.status_code == 409 and "刷新" in r.content.decode()
    r = client.post(_url("wellbeing_alert_ack", severe_alert.pk), {"version": severe_alert.version})
    case = CounselingCase.objects.get()
    assert r.status_code == 302 and r["Location"] == _url("wellbeing_case", case.pk)
    severe_alert.refresh_from_db()
    assert severe_alert.state == CrisisAlert.State.ACKNOWLEDGED and case.counselor == cast.counselor
    assert AuditEvent.objects.filter(
        action="crisis_alert_acknowledge", object_id=str(severe_alert.pk)
    ).exists()
    r = client.post(_url("wellbeing_alert_ack", severe_alert.pk), {"version": severe_alert.version})
    assert r.status_code == 409


def test_it_lets_the_counselor_take_a_contact_request_and_see_the_phone(client, cast):
    req, _ = wellbeing.contact_request_create(actor=cast.secretary_a, how="下午三点后方便")
    r = _login(client, cast.counselor).get(_url("wellbeing_request", req.pk))
    body = r.content.decode()
    assert r.status_code == 200 and "下午三点后方便" in body and cast.person(cast.secretary_a).phone in body
    assert AuditEvent.objects.filter(action="read_sensitive", object_type="care.contactrequest").exists()
    # The backup holds the org as backup only: contact requests go to the primary.
    assert _login(client, cast.counselor_backup).get(_url("wellbeing_request", req.pk)).status_code == 404
    r = _login(client, cast.counselor).post(_url("wellbeing_request_take", req.pk))
    case = CounselingCase.objects.get()
    assert r.status_code == 302 and case.contact_request == req
    req.refresh_from_db()
    assert req.state == ContactRequest.State.CONTACTED
    assert CrisisAlert.objects.get().state == CrisisAlert.State.ACKNOWLEDGED
    r = client.post(_url("wellbeing_request_take", req.pk))
    assert r.status_code == 302 and CounselingCase.objects.count() == 1  # already taken: a message, no case


def test_it_masks_the_phone_of_someone_who_did_not_ask(cast):
    person = cast.person(cast.org_admin)
    shown = wellbeing.contact_phone(cast.counselor, person)
    assert not shown["full"] and "****" in shown["phone"]
    assert not AuditEvent.objects.filter(action="read_sensitive").exists()


def test_it_runs_a_case_notes_appointment_referral_handover_and_closure(client, cast, severe_alert):
    case = wellbeing.crisis_alert_acknowledge(actor=cast.counselor, alert=severe_alert)
    _login(client, cast.counselor)
    r = client.get(_url("wellbeing_case", case.pk))
    assert r.status_code == 200 and "还没有辅导记录" in r.content.decode()
    assert AuditEvent.objects.filter(action="read_sensitive", object_type="care.counselingcase").exists()

    r = client.post(_url("wellbeing_case_note", case.pk), {"note": ""})
    assert r.status_code == 422 and "请填写辅导记录。" in r.content.decode()
    r = client.post(_url("wellbeing_case_note", case.pk), {"note": "首次谈话，情绪稳定。"})
    assert r.status_code == 302 and SessionNote.objects.get().note == "首次谈话，情绪稳定。"
    assert AuditEvent.objects.filter(action="session_note_add").exists()
    assert client.get(_url("wellbeing_case_note", case.pk)).status_code == 405

    when = (datetime.now(SH) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    r = client.post(_url("wellbeing_case_appointment", case.pk), {"starts_at": when, "place": "306 室"})
    appointment = Appointment.objects.get()
    assert r.status_code == 302 and appointment.place == "306 室"
    r = client.post(_url("wellbeing_appointment_done", case.pk, appointment.pk))
    appointment.refresh_from_db()
    assert r.status_code == 302 and appointment.done

    case.refresh_from_db()
    r = client.post(_url("wellbeing_case_refer", case.pk), {"version": case.version, "referral": ""})
    assert r.status_code == 422 and "请填写转介去向和情况。" in r.content.decode()
    r = client.post(
        _url("wellbeing_case_refer", case.pk), {"version": case.version, "referral": "转介市精神卫生中心"}
    )
    case.refresh_from_db()
    assert r.status_code == 302 and case.state == CounselingCase.State.REFERRED

    r = client.post(_url("wellbeing_case_handover", case.pk), {"version": case.version, "to": cast.member.pk})
    assert r.status_code == 422 and "只能转交给负责该党组织的其他心理咨询员" in r.content.decode()
    r = client.post(_url("wellbeing_case_handover", case.pk), {"version": case.version,
                                                                "to": cast.counselor_backup.pk})  # fmt: skip
    case.refresh_from_db()
    assert r.status_code == 302 and case.counselor == cast.counselor_backup
    assert client.get(_url("wellbeing_case", case.pk)).status_code == 404  # no longer on xinli's caseload

    _login(client, cast.counselor_backup)
    r = client.post(
        _url("wellbeing_case_close", case.pk), {"version": case.version - 1, "closing_note": "结案"}
    )
    assert r.status_code == 409
    r = client.post(
        _url("wellbeing_case_close", case.pk), {"version": case.version, "closing_note": "情况好转，结案。"}
    )
    case.refresh_from_db()
    severe_alert.refresh_from_db()
    assert r.status_code == 302 and case.state == CounselingCase.State.CLOSED and case.closed_at
    assert severe_alert.state == CrisisAlert.State.CLOSED
    assert AuditEvent.objects.filter(action="counseling_case_close", actor=cast.counselor_backup).exists()
    r = client.post(_url("wellbeing_case_note", case.pk), {"note": "补记"})
    assert r.status_code == 409 and "已结案" in r.content.decode()


def test_it_keeps_the_caseload_queries_flat(client, cast):
    def make(n):
        for i in range(n):
            p = make_person(
                f"人员{i}", cast.unit_a, org=cast.branch_a2, username=f"p{Person.objects.count()}x{i}"
            )
            req, _ = wellbeing.contact_request_create(actor=p.user)
            if i % 2 == 0:
                wellbeing.counseling_case_open(actor=cast.counselor, contact_request=req)

    _login(client, cast.counselor)
    make(1)
    client.get(_url("wellbeing_caseload"))  # warm per-process caches (site settings, calendar)
    with CaptureQueriesContext(connection) as one:
        assert client.get(_url("wellbeing_caseload")).status_code == 200
    make(10)
    with CaptureQueriesContext(connection) as eleven:
        assert client.get(_url("wellbeing_caseload")).status_code == 200
    assert len(eleven.captured_queries) == len(one.captured_queries)


# --- aggregates -------------------------------------------------------------------------------


def _screen(user, month: int, answers=MILD, *, anonymous=True):
    with time_machine.travel(datetime(2026, month, 10, 9, tzinfo=SH), tick=False):
        wellbeing.screening_submit(actor=user, instrument="phq9", answers=answers, anonymous=anonymous,
                                   consent=True)  # fmt: skip


def test_it_suppresses_the_leaders_counts_below_the_threshold_and_shows_them_at_it(client, cast, settings):
    settings.ANONYMITY_MIN_GROUP = 5
    for _ in range(3):
        _screen(cast.member, 3)
    _screen(cast.secretary_a, 3, SEVERE, anonymous=False)
    _screen(cast.outsider, 3)  # unit C: never in unit A's figures
    _login(client, cast.leader)
    with time_machine.travel(date(2026, 6, 1), tick=False):
        r = client.get(_url("wellbeing_overview"))
    body = r.content.decode()
    assert r.status_code == 200 and "少于匿名阈值" in body and "轻度" not in body
    _screen(cast.leader, 4)  # the fifth screening of unit A
    with time_machine.travel(date(2026, 4, 20), tick=False):
        body = client.get(_url("wellbeing_overview")).content.decode()
    assert "少于匿名阈值" in body  # April is still running: only finished months count
    with time_machine.travel(date(2026, 6, 1), tick=False):
        body = client.get(_url("wellbeing_overview")).content.decode()
    assert "共 5 人次" in body and "轻度：4" in body and "重度：1" in body and "截至2026年4月底" in body
    assert cast.branch_a1.name not in body  # no per-branch breakdown for leaders
    for user in (cast.counselor, cast.secretary_a, cast.committee_admin, cast.member):
        assert _login(client, user).get(_url("wellbeing_overview")).status_code == 404


def test_it_shows_counselors_per_org_counts_suppressed_below_the_threshold(client, cast, settings):
    settings.ANONYMITY_MIN_GROUP = 5
    for _ in range(5):
        _screen(cast.member, 2)
    _screen(cast.leader, 2)  # branch A2: one screening, suppressed
    with time_machine.travel(date(2026, 5, 1), tick=False):
        r = _login(client, cast.counselor).get(_url("wellbeing_stats"))
    body = r.content.decode()
    assert r.status_code == 200
    a1 = body.split(cast.branch_a1.name)[1].split("list-group-item")[0]
    a2 = body.split(cast.branch_a2.name)[1].split("list-group-item")[0]
    assert "共 5 人次" in a1 and "轻度：5" in a1
    assert "少于匿名阈值" in a2 and "人次" not in a2.replace("自评人次少于", "")
    assert cast.branch_c.name not in body  # outside xinli's orgs


def test_it_offers_each_role_its_wellbeing_menu_entries(cast):
    from sizheng.core import nav

    def names(user):
        return {i["name"] for i in nav.items_for(user) if i["name"].startswith("care:wellbeing")}

    assert names(cast.member) == {"care:wellbeing"}
    assert names(cast.counselor) == {"care:wellbeing_caseload", "care:wellbeing_stats"}
    assert "care:wellbeing_overview" in names(cast.leader)
    assert names(cast.sysadmin) == set() and "care:wellbeing_caseload" not in names(cast.secretary_a)
