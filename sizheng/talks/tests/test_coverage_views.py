"""The coverage and trigger screens, and the 会前谈心 line of a 组织生活会's page."""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sizheng.core.models import AuditEvent
from sizheng.duties.models import Duty, SourceKind
from sizheng.life.models import Meeting, MeetingKind, MeetingState
from sizheng.org.testing import make_person
from sizheng.talks import coverage, triggers
from sizheng.talks.models import CoverageRule, Kind, Status, Talk, TalkParticipant, TalkTrigger, TriggerReason

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
CANARY = "金丝雀-T2-7f3a"


@pytest.fixture(autouse=True)
def _today(db):
    coverage.coverage_rules_install_defaults()
    with time_machine.travel(datetime(2026, 8, 20, 10, tzinfo=SH), tick=False):
        yield


def talk(org, initiator, *others, on=date(2026, 3, 2), **extra) -> Talk:
    t = Talk.objects.create(org=org, initiator=initiator, held_on=on, kind=Kind.CARE, summary=CANARY,
                            content=CANARY, tags=f'["{CANARY}"]', **extra)  # fmt: skip
    TalkParticipant.objects.create(talk=t, person=initiator, is_initiator=True)
    for p in others:
        TalkParticipant.objects.create(talk=t, person=p)
    return t


def family_trigger(cast, note=CANARY) -> TalkTrigger:
    return triggers.trigger_open(actor=cast.secretary_a, person=cast.person(cast.member),
                                 reason=TriggerReason.FAMILY_CHANGE, occurred_on=date(2026, 8, 18), note=note)  # fmt: skip


# --- coverage page ---------------------------------------------------------------------------------


def test_it_shows_a_secretary_their_branchs_matrix_with_a_summary_and_no_t2(client, cast):
    talk(cast.branch_a1, cast.person(cast.secretary_a), cast.person(cast.member))
    client.force_login(cast.secretary_a)
    response = client.get(reverse("talks:coverage"))
    assert response.status_code == 200
    html = response.content.decode()
    assert cast.branch_a1.name in html
    for user in (cast.secretary_a, cast.member, cast.org_admin):
        assert cast.person(user).name in html
    assert '已覆盖 <span class="fs-3">2/3</span> 人' in html
    assert 'data-status="met"' in html and 'data-status="not_yet_due"' in html
    assert CANARY not in html and str(Kind.CARE.label) not in html
    assert f"{reverse('talks:trigger_create')}?person={cast.person(cast.org_admin).pk}" in html


def test_it_shows_the_committee_admin_each_branchs_coverage_under_an_org(client, cast):
    talk(cast.branch_a1, cast.person(cast.secretary_a), cast.person(cast.member))
    client.force_login(cast.committee_admin)
    html = client.get(reverse("talks:coverage"), {"org": cast.committee_a.pk, "year": 2026}).content.decode()
    assert 'id="sz-coverage-branches"' in html
    assert f'?org={cast.branch_a1.pk}&year=2026">{cast.branch_a1.name}</a>' in html
    assert "2/3" in html


def test_it_answers_404_for_an_org_outside_scope_and_403_without_a_listing_role(client, cast):
    client.force_login(cast.outsider)
    assert client.get(reverse("talks:coverage"), {"org": cast.branch_a1.pk}).status_code == 404
    assert client.get(reverse("talks:coverage")).status_code == 403
    assert client.get(reverse("talks:coverage_export"), {"org": cast.branch_a1.pk}).status_code == 404
    client.force_login(cast.secretary_a)
    assert client.get(reverse("talks:coverage"), {"org": cast.branch_b1.pk}).status_code == 404
    assert client.post(reverse("talks:coverage")).status_code == 405


def test_it_searches_by_name_and_says_what_to_do_when_nobody_matches(client, cast):
    client.force_login(cast.secretary_a)
    html = client.get(reverse("talks:coverage"), {"q": "刘"}).content.decode()
    assert cast.person(cast.member).name in html and cast.person(cast.org_admin).name not in html
    html = client.get(reverse("talks:coverage"), {"q": "无此人"}).content.decode()
    assert "没有姓名包含“无此人”的党员" in html


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx.captured_queries)


def test_it_keeps_the_coverage_page_query_count_flat_in_members_and_talks(client, cast):
    client.force_login(cast.committee_admin)
    url, params = reverse("talks:coverage"), {"org": cast.branch_a1.pk}
    client.get(url, params)
    few = _queries(client, url, params)
    sec = cast.person(cast.secretary_a)
    for i in range(15):
        talk(
            cast.branch_a1,
            sec,
            make_person(f"党员{i}", cast.unit_a, org=cast.branch_a1),
            on=date(2026, 2, 1 + i),
        )
    assert _queries(client, url, params) == few
    above = {"org": cast.committee_a.pk}
    client.get(url, above)
    before = _queries(client, url, above)
    talk(cast.branch_a2, cast.person(cast.leader), make_person("党员X", cast.unit_a, org=cast.branch_a2))
    assert _queries(client, url, above) == before


def test_it_exports_the_matrix_without_t2_and_audits_it(client, cast):
    talk(cast.branch_a1, cast.person(cast.secretary_a), cast.person(cast.member))
    client.force_login(cast.secretary_a)
    response = client.get(reverse("talks:coverage_export"), {"org": cast.branch_a1.pk, "year": 2026})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    text = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None)
    assert cast.person(cast.member).name in text and CANARY not in text
    event = AuditEvent.objects.get(action="talk_coverage_export")
    assert event.detail == {"year": 2026, "rows": 3} and event.object_id == str(cast.branch_a1.pk)


# --- rules -------------------------------------------------------------------------------------------


def test_it_lists_the_rules_with_edit_links_for_the_committee_admin_only(client, cast):
    rule = CoverageRule.objects.get(code="BR-TALK-1")
    client.force_login(cast.secretary_a)
    html = client.get(reverse("talks:coverage_rules")).content.decode()
    assert "GROUP-TALK-1" in html and reverse("talks:coverage_rule_edit", args=[rule.pk]) not in html
    client.force_login(cast.committee_admin)
    html = client.get(reverse("talks:coverage_rules")).content.decode()
    assert reverse("talks:coverage_rule_edit", args=[rule.pk]) in html
    client.force_login(cast.member)
    assert client.get(reverse("talks:coverage_rules")).status_code == 403


def test_it_lets_the_committee_admin_change_a_rule(client, cast):
    rule = CoverageRule.objects.get(code="GROUP-TALK-1")
    url = reverse("talks:coverage_rule_edit", args=[rule.pk])
    client.force_login(cast.committee_admin)
    assert client.get(url).status_code == 200
    response = client.post(url, {"count": 3, "severity": "violation", "version": rule.version})
    assert response.status_code == 302 and response["Location"] == reverse("talks:coverage_rules")
    rule.refresh_from_db()
    assert (rule.count, rule.severity, rule.is_active, rule.version) == (3, "violation", False, 2)
    event = AuditEvent.objects.get(action="coverage_rule_update")
    assert event.detail == {"code": "GROUP-TALK-1", "fields": ["count", "is_active", "severity"]}


def test_it_refuses_rule_edits_to_others_bad_input_and_stale_versions(client, cast):
    rule = CoverageRule.objects.get(code="BR-TALK-1")
    url = reverse("talks:coverage_rule_edit", args=[rule.pk])
    client.force_login(cast.secretary_a)
    assert client.get(url).status_code == 403
    assert client.post(url, {"count": 2, "severity": "warning", "version": 1}).status_code == 403
    client.force_login(cast.committee_admin)
    response = client.post(url, {"count": 0, "severity": "warning", "is_active": "on", "version": 1})
    assert response.status_code == 422 and "每年次数至少为 1。" in response.content.decode()
    response = client.post(url, {"count": 2, "severity": "warning", "is_active": "on", "version": 7})
    assert response.status_code == 409 and "已被他人修改" in response.content.decode()
    assert CoverageRule.objects.get(pk=rule.pk).count == 1
    assert client.get(reverse("talks:coverage_rule_edit", args=[99999])).status_code == 404
    assert client.put(url).status_code == 405


# --- triggers ----------------------------------------------------------------------------------------


def test_it_shows_the_reason_to_the_branch_secretary_and_hides_it_from_the_committee_admin(client, cast):
    trigger = family_trigger(cast)
    client.force_login(cast.secretary_a)
    html = client.get(reverse("talks:triggers")).content.decode()
    assert cast.person(cast.member).name in html and "<td>家庭重大变化</td>" in html and CANARY not in html
    client.force_login(cast.committee_admin)
    html = client.get(reverse("talks:triggers")).content.decode()
    assert cast.person(cast.member).name in html
    assert "<td>家庭重大变化</td>" not in html and "<td>必谈提醒</td>" in html
    html = client.get(reverse("talks:trigger_detail", args=[trigger.pk])).content.decode()
    assert "家庭重大变化" not in html and CANARY not in html
    assert not AuditEvent.objects.filter(action="read_sensitive").exists()


def test_it_shows_the_note_to_the_branch_secretary_through_an_audited_read(client, cast):
    trigger = family_trigger(cast)
    client.force_login(cast.secretary_a)
    html = client.get(reverse("talks:trigger_detail", args=[trigger.pk])).content.decode()
    assert CANARY in html and "家庭重大变化" in html
    event = AuditEvent.objects.get(action="read_sensitive")
    assert event.actor == cast.secretary_a and event.detail == {"fields": ["reason", "note"]}
    assert CANARY not in str(event.detail)


def test_it_keeps_triggers_within_scope(client, cast):
    trigger = family_trigger(cast)
    client.force_login(cast.secretary_b)
    assert cast.person(cast.member).name not in client.get(reverse("talks:triggers")).content.decode()
    assert client.get(reverse("talks:trigger_detail", args=[trigger.pk])).status_code == 404
    client.force_login(cast.outsider)
    assert client.get(reverse("talks:triggers")).status_code == 403
    assert client.get(reverse("talks:trigger_detail", args=[trigger.pk])).status_code == 404


def test_it_filters_triggers_by_state(client, cast):
    trigger = family_trigger(cast)
    client.force_login(cast.secretary_a)
    assert (
        cast.person(cast.member).name
        not in client.get(reverse("talks:triggers"), {"state": "done"}).content.decode()
    )
    TalkTrigger.objects.filter(pk=trigger.pk).update(due_on=date(2026, 8, 19))
    html = client.get(reverse("talks:triggers"), {"state": "overdue"}).content.decode()
    assert cast.person(cast.member).name in html and "已逾期" in html


def test_it_keeps_the_trigger_list_query_count_flat(client, cast):
    client.force_login(cast.secretary_a)
    family_trigger(cast)
    client.get(reverse("talks:triggers"))
    few = _queries(client, reverse("talks:triggers"))
    for i in range(12):
        p = make_person(f"党员{i}", cast.unit_a, org=cast.branch_a1)
        triggers.trigger_open(actor=cast.secretary_a, person=p, reason=TriggerReason.WARNING,
                              occurred_on=date(2026, 8, 1))  # fmt: skip
    assert _queries(client, reverse("talks:triggers")) == few


def test_it_lets_the_org_admin_record_a_trigger_with_a_generic_duty(client, cast):
    member = cast.person(cast.member)
    url = f"{reverse('talks:trigger_create')}?person={member.pk}"
    client.force_login(cast.org_admin)
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"reason": TriggerReason.DISCIPLINE, "occurred_on": "2026-08-19", "note": CANARY}
    )
    trigger = TalkTrigger.objects.get(person=member)
    assert response.status_code == 302 and response["Location"] == reverse(
        "talks:trigger_detail", args=[trigger.pk]
    )
    assert (trigger.reason, trigger.note, trigger.org) == (TriggerReason.DISCIPLINE, CANARY, cast.branch_a1)
    duty = Duty.objects.get(source_kind=SourceKind.TALK_TRIGGER, source_id=trigger.pk)
    assert (duty.title, duty.description) == ("谈心谈话提醒", "")
    assert AuditEvent.objects.filter(action="talk_trigger_open", object_id=str(trigger.pk)).exists()
    # The 党务干部 is not the 书记: the page after saving does not show them the reason.
    html = client.get(response["Location"]).content.decode()
    assert str(TriggerReason.DISCIPLINE.label) not in html and CANARY not in html


def test_it_refuses_bad_trigger_input_with_the_message(client, cast):
    url = f"{reverse('talks:trigger_create')}?person={cast.person(cast.member).pk}"
    client.force_login(cast.secretary_a)
    response = client.post(url, {"occurred_on": "2026-08-25"})
    html = response.content.decode()
    assert response.status_code == 422 and "请选择必谈原因。" in html and "发生日期不能晚于今天。" in html
    assert not TalkTrigger.objects.exists()


def test_it_answers_404_405_and_403_around_the_trigger_form(client, cast):
    client.force_login(cast.secretary_a)
    waibu = cast.person(cast.outsider)
    assert client.get(f"{reverse('talks:trigger_create')}?person={waibu.pk}").status_code == 404
    assert client.get(reverse("talks:trigger_create")).status_code == 404
    me = cast.person(cast.member)
    assert client.put(f"{reverse('talks:trigger_create')}?person={me.pk}").status_code == 405
    client.force_login(cast.member)  # sees themselves, manages nobody
    response = client.post(f"{reverse('talks:trigger_create')}?person={me.pk}",
                           {"reason": TriggerReason.WARNING, "occurred_on": "2026-08-19"})  # fmt: skip
    assert response.status_code == 403 and not TalkTrigger.objects.exists()


# --- the 会前谈心 step of a 组织生活会 ------------------------------------------------------------------


def test_it_shows_who_and_when_of_pre_meeting_talks_on_the_meeting_page(client, cast):
    meeting = Meeting.objects.create(
        org=cast.branch_a1, kind=MeetingKind.LIFE_MEETING, topic="年度组织生活会", place="会议室",
        starts_at=datetime(2026, 8, 10, 9, tzinfo=SH), ends_at=datetime(2026, 8, 10, 11, tzinfo=SH),
        state=MeetingState.SUBMITTED,
    )  # fmt: skip
    sec, member, admin = cast.person(cast.secretary_a), cast.person(cast.member), cast.person(cast.org_admin)
    talk(cast.branch_a1, sec, member, on=date(2026, 8, 3), meeting=meeting)
    talk(cast.branch_a1, sec, admin, on=date(2026, 8, 4), meeting=meeting)
    talk(cast.branch_a1, sec, admin, on=date(2026, 8, 5), meeting=meeting, status=Status.PLANNED)
    url = reverse("life:meeting_detail", args=[meeting.pk])
    client.force_login(cast.secretary_a)
    html = client.get(url).content.decode()
    assert "已登记会前谈心谈话 2 次" in html
    assert (
        f"2026-08-03 {sec.name} 与 {member.name}" in html and f"2026-08-04 {sec.name} 与 {admin.name}" in html
    )
    assert CANARY not in html
    client.force_login(cast.member)  # sees the count, and who/when only of their own talk
    html = client.get(url).content.decode()
    assert "已登记会前谈心谈话 2 次" in html and f"2026-08-03 {sec.name} 与 {member.name}" in html
    assert "2026-08-04" not in html and CANARY not in html
