"""Triggered talks (四必谈, BR-TALK-2): roster events and the secretary open them, a talk closes them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from sizheng.core import calendar
from sizheng.core.models import AuditEvent, Notification, SentReminder
from sizheng.duties import services as duty_services
from sizheng.duties.models import Duty, SourceKind, State
from sizheng.org import services as org_services
from sizheng.org.models import Person, Unit
from sizheng.org.testing import make_person
from sizheng.talks import jobs, triggers
from sizheng.talks.models import Kind, Mode, Status, Talk, TalkParticipant, TalkTrigger, TriggerReason

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
# A Monday just before the National Day holiday (2026-10-01 … 10-07, Saturday 10-10 a 调休 workday).
MONDAY = datetime(2026, 9, 28, 9, tzinfo=SH)


@pytest.fixture(autouse=True)
def _today(settings):
    settings.TALK_TRIGGER_WORKDAYS = 10
    with time_machine.travel(MONDAY, tick=False):
        yield


def _position(person: Person, actor, position: str = "一级主任科员") -> None:
    person.refresh_from_db()
    org_services.person_update(actor=actor, person=person, version=person.version, position=position)


def _record(actor, org, initiator, *counterparts, on=date(2026, 9, 28), **extra) -> Talk:
    from sizheng.talks.services import talk_record

    return talk_record(
        actor=actor, org=org, initiator=initiator, counterparts=list(counterparts), held_on=on,
        mode=Mode.IN_PERSON, kind=Kind.JOB_CHANGE, tags=["工作"], summary="谈了新岗位的打算。", **extra,
    )  # fmt: skip


def test_it_opens_a_trigger_and_a_generic_duty_due_ten_workdays_after_a_position_change(cast):
    member = cast.person(cast.member)
    _position(member, cast.org_admin)
    trigger = TalkTrigger.objects.get(person=member)
    # 9-29, 9-30, 10-08, 10-09, 10-10 (调休), 10-12 … 10-16: the holiday week does not count.
    assert trigger.due_on == date(2026, 10, 16) == calendar.add_workdays(date(2026, 9, 28), 10)
    assert (trigger.reason, trigger.org, trigger.occurred_on) == (
        TriggerReason.POSITION_CHANGE, cast.branch_a1, date(2026, 9, 28),
    )  # fmt: skip
    duty = Duty.objects.get(pk=trigger.duty_id)
    assert (duty.title, duty.description) == ("谈心谈话提醒", "")
    assert (duty.source_kind, duty.source_id) == (SourceKind.TALK_TRIGGER, trigger.pk)
    assert (duty.assignee_org, duty.owner, duty.due_on) == (cast.branch_a1, cast.person(cast.secretary_a),
                                                            date(2026, 10, 16))  # fmt: skip
    event = AuditEvent.objects.get(action="talk_trigger_open")
    assert event.detail == {"person": member.pk, "org": cast.branch_a1.pk, "duty": duty.pk}
    assert "position" not in str(event.detail) and "职务" not in event.object_repr


def test_it_opens_the_trigger_of_a_transfer_in_the_new_org_from_the_day_of_the_move(cast):
    member = cast.person(cast.member)
    org_services.person_transfer(actor=cast.committee_admin, person=member, on=date(2026, 9, 25),
                                 unit=cast.unit_b, office=cast.office_b, org=cast.branch_b1)  # fmt: skip
    trigger = TalkTrigger.objects.get(person=member)
    assert (trigger.reason, trigger.org, trigger.occurred_on) == (TriggerReason.TRANSFER, cast.branch_b1,
                                                                  date(2026, 9, 25))  # fmt: skip
    assert trigger.due_on == calendar.add_workdays(date(2026, 9, 25), 10)
    assert Duty.objects.get(pk=trigger.duty_id).owner == cast.person(cast.secretary_b)


def test_it_puts_a_secretarys_own_trigger_in_the_org_above(cast):
    _position(cast.person(cast.secretary_a), cast.committee_admin, "处长")
    trigger = TalkTrigger.objects.get(person=cast.person(cast.secretary_a))
    assert trigger.org == cast.committee_a
    assert Duty.objects.get(pk=trigger.duty_id).owner is None  # the post above is vacant in the cast


def test_it_puts_a_non_members_trigger_in_the_units_root_org(cast):
    staff = Person.objects.get(name="周杰")
    _position(staff, cast.committee_admin)
    assert TalkTrigger.objects.get(person=staff).org == cast.committee_a


def test_it_lets_the_roster_change_through_when_no_org_can_take_the_trigger(cast):
    unit = Unit.objects.create(name="新设单位", code="U-N")
    person = make_person("吴新", unit, status="masses")
    _position(person, cast.committee_admin)
    person.refresh_from_db()
    assert person.position == "一级主任科员"
    assert not TalkTrigger.objects.filter(person=person).exists()
    with pytest.raises(ValidationError):
        triggers.trigger_open(actor=cast.committee_admin, person=person, reason=TriggerReason.WARNING,
                              occurred_on=date(2026, 9, 28))  # fmt: skip


def test_it_reuses_an_open_trigger_for_the_same_reason(cast):
    member = cast.person(cast.member)
    first = triggers.trigger_open(actor=cast.secretary_a, person=member, reason=TriggerReason.FAMILY_CHANGE,
                                  occurred_on=date(2026, 9, 20), note="家属住院")  # fmt: skip
    again = triggers.trigger_open(actor=cast.secretary_a, person=member, reason=TriggerReason.FAMILY_CHANGE,
                                  occurred_on=date(2026, 9, 21))  # fmt: skip
    assert again.pk == first.pk and Duty.objects.filter(source_kind=SourceKind.TALK_TRIGGER).count() == 1
    assert first.note == "家属住院"
    assert "家属住院" not in str(AuditEvent.objects.filter(action="talk_trigger_open").values_list("detail"))


def test_it_refuses_a_trigger_for_someone_who_left(cast):
    member = cast.person(cast.member)
    Person.objects.filter(pk=member.pk).update(left_on=date(2026, 9, 1))
    member.refresh_from_db()
    with pytest.raises(ValidationError):
        triggers.trigger_open(actor=cast.secretary_a, person=member, reason=TriggerReason.WARNING,
                              occurred_on=date(2026, 9, 20))  # fmt: skip


def test_it_closes_the_trigger_and_its_duty_when_a_talk_with_the_person_is_recorded(cast):
    member, sec = cast.person(cast.member), cast.person(cast.secretary_a)
    _position(member, cast.org_admin)
    trigger = TalkTrigger.objects.get(person=member)
    talk = _record(cast.secretary_a, cast.branch_a1, sec, member, on=date(2026, 9, 28))
    trigger.refresh_from_db()
    assert (trigger.state, trigger.talk) == (TalkTrigger.State.DONE, talk)
    duty = Duty.objects.get(pk=trigger.duty_id)
    assert duty.state == State.CLOSED and duty.evidence == f"已登记谈心谈话（记录编号 #{talk.pk}）。"
    assert not duty.is_late
    done = AuditEvent.objects.get(action="talk_trigger_done")
    assert done.detail == {"talk": talk.pk, "person": member.pk}


def test_it_keeps_the_trigger_open_for_a_talk_before_the_event_or_as_initiator(cast):
    member, sec = cast.person(cast.member), cast.person(cast.secretary_a)
    _position(member, cast.org_admin)
    _record(cast.secretary_a, cast.branch_a1, sec, member, on=date(2026, 9, 20))  # before the change
    admin = cast.person(cast.org_admin)
    _record(cast.member, cast.branch_a1, member, admin, on=date(2026, 9, 28))  # the person talked to someone
    trigger = TalkTrigger.objects.get(person=member)
    assert trigger.state == TalkTrigger.State.OPEN
    assert Duty.objects.get(pk=trigger.duty_id).state == State.ASSIGNED


def test_it_ignores_a_planned_talk_until_it_is_held(cast):
    member, sec = cast.person(cast.member), cast.person(cast.secretary_a)
    _position(member, cast.org_admin)
    talk = Talk.objects.create(
        org=cast.branch_a1, initiator=sec, held_on=date(2026, 9, 29), status=Status.PLANNED
    )
    TalkParticipant.objects.create(talk=talk, person=member)
    assert triggers.on_talk_held(talk) == []
    talk.status = Status.HELD
    assert len(triggers.on_talk_held(talk)) == 1


def test_it_marks_the_trigger_done_without_a_talk_when_its_duty_is_closed_by_hand(cast):
    waibu = cast.person(cast.outsider)  # branch C sits under the root: the committee admin closes
    _position(waibu, cast.committee_admin)
    trigger = TalkTrigger.objects.get(person=waibu)
    duty = Duty.objects.get(pk=trigger.duty_id)
    Duty.objects.filter(pk=duty.pk).update(state=State.UNDER_REVIEW)
    duty.refresh_from_db()
    duty_services.duty_transition(duty=duty, action="pass", actor=cast.committee_admin, version=duty.version)
    trigger.refresh_from_db()
    assert (trigger.state, trigger.talk) == (TalkTrigger.State.DONE, None)


def test_it_reminds_the_initiator_once_three_days_before_the_next_talk(cast):
    sec, member = cast.person(cast.secretary_a), cast.person(cast.member)
    due = Talk.objects.create(org=cast.branch_a1, initiator=sec, held_on=date(2026, 9, 1), kind=Kind.FAMILY,
                              summary="机密摘要", next_talk_on=date(2026, 10, 1))  # fmt: skip
    TalkParticipant.objects.create(talk=due, person=member)
    Talk.objects.create(
        org=cast.branch_a1, initiator=sec, held_on=date(2026, 9, 1), next_talk_on=date(2026, 10, 2)
    )
    Talk.objects.create(org=cast.branch_a1, initiator=sec, held_on=date(2026, 9, 1), status=Status.CANCELLED,
                        next_talk_on=date(2026, 9, 30))  # fmt: skip
    assert jobs.next_talk_reminders() == 1
    assert jobs.next_talk_reminders() == 0
    note = Notification.objects.get(user=cast.secretary_a)
    assert note.title == "谈心谈话提醒" and "10月1日" in note.body
    for secret in ("机密摘要", str(Kind.FAMILY.label), member.name):
        assert secret not in note.title + note.body
    assert SentReminder.objects.filter(key=f"talks:next:{due.pk}").exists()
    with time_machine.travel(MONDAY + timedelta(days=1), tick=False):
        assert jobs.next_talk_reminders() == 1  # the talk due on 10-02 is now three days ahead
