"""T2/T3 and T1 data are never searched: a unique string planted in a talk, a talk trigger, a care
case, a counselling note, a wellbeing contact request, a survey answer, meeting minutes and absence
reasons, and a sensitive duty's old description is found by nobody; nor is a person found by their
身份证号 or phone digits — not even by the committee admin or the 党务干部 who may see them in full."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from sizheng.care.models import CareAction, CareCase, ContactRequest, Handler, OpenedVia
from sizheng.core.models import AuditEvent
from sizheng.duties.models import Duty, SourceKind
from sizheng.life.models import AttendanceStatus
from sizheng.search.tests.conftest import API, URL, duty, meeting
from sizheng.talks.models import Talk, TalkParticipant, TalkTrigger, TriggerReason
from sizheng.talks.tests.test_services import TODAY
from sizheng.talks.tests.test_services import record as record_talk

pytestmark = pytest.mark.django_db

CANARY = "ZEBRAFINCH"  # used nowhere else
PERSONAS = (
    "committee_admin", "secretary_a", "secretary_b", "org_admin", "member", "leader",
    "counselor", "counselor_backup", "union", "outsider", "sysadmin", "secadmin", "auditor",
)  # fmt: skip


def _plant(cast) -> None:
    member, sec_a = cast.person(cast.member), cast.person(cast.secretary_a)
    with time_machine.travel(TODAY, tick=False):
        record_talk(cast, summary=f"{CANARY} 谈话摘要", content=f"{CANARY} 谈话内容")
    talk = Talk.objects.create(
        org=cast.branch_a1, initiator=sec_a, held_on=timezone.localdate() - timedelta(days=3),
        kind=f"{CANARY}kind", tags=json.dumps([f"{CANARY}tag"]), summary=f"{CANARY}summary",
        content=f"{CANARY}content",
    )  # fmt: skip
    TalkParticipant.objects.create(talk=talk, person=sec_a, is_initiator=True)
    TalkParticipant.objects.create(talk=talk, person=member)
    TalkTrigger.objects.create(
        person=member, org=cast.branch_a1, reason=TriggerReason.FAMILY_CHANGE, note=f"{CANARY} 必谈事由",
        occurred_on=timezone.localdate(), due_on=timezone.localdate() + timedelta(days=10),
    )  # fmt: skip
    case = CareCase.objects.create(
        person=member, org=cast.branch_a1, unit=cast.unit_a, opened_via=OpenedVia.SELF,
        handler=Handler.SECRETARY, handler_org=cast.branch_a1, category=f"{CANARY}类别",
        tier=f"{CANARY}tier", description=f"{CANARY} 困难诉求", opened_by=cast.member,
    )  # fmt: skip
    CareAction.objects.create(case=case, kind=CareAction.Kind.VISIT, note=f"{CANARY} 走访记录")
    ContactRequest.objects.create(person=member, org=cast.branch_a1, how=f"{CANARY} 联系方式")
    # Meeting minutes and an absence reason (only the topic is searched).
    meeting(
        cast, cast.branch_a1, "支部学习", minutes=f"{CANARY} 会议记录", resolutions=f"{CANARY} 决议",
        attendance={member.pk: (AttendanceStatus.ON_LEAVE, f"{CANARY} 请假事由")},
    )  # fmt: skip
    # A sensitive duty written before its description was blanked (the service blanks it now).
    Duty.objects.create(
        title="关爱跟进", description=f"{CANARY} 跟进原因", assignee_org=cast.branch_a1,
        assigning_org=cast.committee_a, due_on=timezone.localdate(), source_kind=SourceKind.CARE,
        is_sensitive=True,
    )  # fmt: skip


def test_no_one_finds_talks_care_cases_or_other_t2_t3_text(client, cast):
    _plant(cast)
    assert [t.summary.startswith(CANARY) for t in Talk.objects.all()] == [True, True]
    for name in PERSONAS:
        user = getattr(cast, name)
        client.force_login(user)
        for q in (CANARY.lower(), "谈话摘要", "困难诉求", "请假事由"):
            response = client.get(URL, {"q": q})
            assert response.status_code == 200
            assert all(not g.hits for g in response.context["groups"]), (name, q)
        api = client.get(API, {"q": CANARY}).json()
        assert api["count"] == 0 and api["items"] == [], name


def test_the_canary_never_shows_in_any_hit(client, cast):
    """Searching broad words that do match records near the planted ones shows no planted text."""
    _plant(cast)
    client.force_login(cast.committee_admin)
    for q in ("支部", "关爱", "刘洋", "学习"):
        response = client.get(URL, {"q": q})
        assert CANARY not in response.content.decode()
        assert CANARY not in json.dumps(client.get(API, {"q": q}).json(), ensure_ascii=False)


def test_no_one_finds_a_person_by_id_number_or_phone(client, cast):
    member = cast.person(cast.member)
    id_number, phone = member.id_number, member.phone
    assert len(id_number) == 18 and len(phone) == 11
    for user in (cast.committee_admin, cast.org_admin, cast.member):
        client.force_login(user)
        for q in (id_number, id_number[-6:], phone, phone[-4:], phone[:3]):
            response = client.get(URL, {"q": q})
            assert all(not g.hits for g in response.context["groups"]), (user, q)
        assert client.get(API, {"q": id_number}).json()["count"] == 0
        assert client.get(API, {"q": phone}).json()["count"] == 0
        assert "刘洋" not in client.get(URL, {"q": id_number}).content.decode().split('id="main"')[1]


def test_sensitive_duties_match_only_on_their_generic_title(search, cast):
    care = duty(cast, cast.branch_a1, "看望困难党员刘洋", description="家中老人住院", source=SourceKind.CARE)
    talk = duty(cast, cast.branch_a1, "与刘洋谈心", description="工作压力", sensitive=True)
    plain = duty(cast, cast.branch_a1, "整理党费台账", description="核对工作压力清单")
    assert care.is_sensitive and care.title == "关爱跟进" and care.description == ""
    assert talk.is_sensitive and talk.title == "工作提醒"
    Duty.objects.filter(pk=care.pk).update(description="家中老人住院")  # as if written before blanking
    assert search(cast.committee_admin, "关爱跟进") == {"duties": ["关爱跟进"]}
    assert search(cast.secretary_a, "工作提醒") == {"duties": ["工作提醒"]}
    assert search(cast.committee_admin, "住院") == {}
    assert search(cast.committee_admin, "看望") == {}
    assert search(cast.committee_admin, "工作压力") == {"duties": [plain.title]}  # by description
    assert "duties" not in search(cast.committee_admin, "刘洋")


def test_searching_writes_no_audit_row_and_logs_no_query_text(client, cast, caplog):
    client.force_login(cast.committee_admin)
    before = AuditEvent.objects.count()
    with caplog.at_level(logging.DEBUG):
        client.get(URL, {"q": "王建国 机密词"})
        client.get(API, {"q": "王建国 机密词"})
    assert AuditEvent.objects.count() == before
    assert not [r for r in caplog.records if r.levelno >= logging.INFO and "机密词" in r.getMessage()]
