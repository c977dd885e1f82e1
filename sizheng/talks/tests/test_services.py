"""The talks services: recording, editing, cancelling, the follow-up duty; validation and who may write."""

from __future__ import annotations

import json
import sys
import types
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import given
from hypothesis import strategies as st

from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent, Notification
from sizheng.duties.models import Duty, SourceKind
from sizheng.org.models import Person
from sizheng.org.testing import make_person
from sizheng.talks import services
from sizheng.talks.models import TAGS, Kind, Mode, Status, Talk, TalkParticipant

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 8, 20)
CANARY = "SECRET-CANARY-7Q"


def record(cast, *, actor=None, org=None, initiator=None, counterparts=None, **over):
    """A talk recorded through the service (by shuji_a with 刘洋 in branch A1 unless told otherwise)."""
    actor = actor or cast.secretary_a
    fields = {
        "held_on": TODAY - timedelta(days=2), "mode": Mode.IN_PERSON, "kind": Kind.FAMILY,
        "tags": ["心理压力", "家庭"], "summary": f"{CANARY}-summary", "content": f"{CANARY}-content",
    }  # fmt: skip
    fields.update(over)
    return services.talk_record(
        actor=actor,
        org=org or cast.branch_a1,
        initiator=initiator or cast.person(cast.secretary_a),
        counterparts=counterparts if counterparts is not None else [cast.person(cast.member)],
        **fields,
    )


@pytest.fixture
def held_calls(monkeypatch):
    """Count on_talk_held calls (the triggers module is another helper's: patched, or stood in for)."""
    calls = []
    try:
        import sizheng.talks.triggers as triggers
    except ModuleNotFoundError:
        triggers = types.ModuleType("sizheng.talks.triggers")
        monkeypatch.setitem(sys.modules, "sizheng.talks.triggers", triggers)
    monkeypatch.setattr(triggers, "on_talk_held", lambda talk: calls.append(talk.pk), raising=False)
    return calls


@time_machine.travel(TODAY, tick=False)
def test_it_records_a_talk_with_its_participants_and_audits_ids_only(
    cast, held_calls, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        talk = record(cast)
    talk = Talk.objects.get(pk=talk.pk)
    assert talk.summary == f"{CANARY}-summary" and talk.kind == Kind.FAMILY
    assert talk.tag_list == ["心理压力", "家庭"] and talk.created_by == cast.secretary_a
    rows = {(p.person_id, p.is_initiator) for p in TalkParticipant.objects.filter(talk=talk)}
    assert rows == {(cast.person(cast.secretary_a).pk, True), (cast.person(cast.member).pk, False)}
    event = AuditEvent.objects.get(action="talk_record", object_id=str(talk.pk))
    assert event.detail == {
        "org": cast.branch_a1.pk, "initiator": cast.person(cast.secretary_a).pk,
        "counterparts": [cast.person(cast.member).pk], "status": "held",
    }  # fmt: skip
    assert CANARY not in event.object_repr and "family" not in json.dumps(event.detail)
    assert held_calls == [talk.pk]
    notes = list(Notification.objects.all())
    assert [n.user for n in notes] == [cast.member]
    assert notes[0].body == "有一条与您相关的谈心谈话记录已登记。" and notes[0].url == f"/talks/{talk.pk}/"
    assert "心理" not in notes[0].title + notes[0].body and CANARY not in notes[0].title + notes[0].body
    assert CANARY not in str(talk) and "家庭" not in str(talk)


@time_machine.travel(TODAY, tick=False)
def test_it_does_not_call_the_triggers_for_a_planned_talk_until_it_is_held(cast, held_calls):
    talk = record(cast, status=Status.PLANNED, held_on=TODAY + timedelta(days=3), summary="")
    assert held_calls == []
    with time_machine.travel(TODAY + timedelta(days=4), tick=False):
        services.talk_update(actor=cast.secretary_a, talk=talk, version=talk.version, status=Status.HELD,
                             summary="谈了工作安排。")  # fmt: skip
    assert held_calls == [talk.pk]
    assert Talk.objects.get(pk=talk.pk).status == Status.HELD


@time_machine.travel(TODAY, tick=False)
def test_it_lets_a_member_record_their_own_talk_but_not_someone_elses(cast):
    me, colleague = cast.person(cast.member), cast.person(cast.org_admin)
    talk = record(cast, actor=cast.member, initiator=me, counterparts=[colleague])
    assert talk.initiator == me
    with pytest.raises(PermissionDenied):
        record(cast, actor=cast.member, initiator=cast.person(cast.secretary_a), counterparts=[colleague])
    # The org must be visible to the actor at all.
    with pytest.raises(PermissionDenied):
        record(
            cast,
            actor=cast.member,
            org=cast.branch_c,
            initiator=me,
            counterparts=[cast.person(cast.outsider)],
        )


@time_machine.travel(TODAY, tick=False)
def test_it_lets_a_manager_record_a_talk_between_others(cast):
    talk = record(cast, actor=cast.org_admin)
    assert talk.created_by == cast.org_admin


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"counterparts": []}, "counterparts", "请至少选择一名谈话对象"),
        ({"counterparts": "self"}, "counterparts", "谈话人不能同时是谈话对象"),
        ({"counterparts": "left"}, "counterparts", "已离开本单位"),
        ({"counterparts": "outsider"}, "counterparts", "不在该党组织的人员名单中"),
        ({"held_on": TODAY + timedelta(days=1)}, "held_on", "不能晚于今天"),
        ({"tags": ["工作", "八卦"]}, "tags", "只能从列出的标签中选择"),
        ({"kind": "nonsense"}, "kind", "请选择谈话类型"),
        ({"mode": "fax"}, "mode", "请选择谈话方式"),
        ({"summary": "  "}, "summary", "请填写谈话摘要"),
        ({"next_talk_on": TODAY - timedelta(days=5)}, "next_talk_on", "应晚于本次谈话日期"),
        ({"status": Status.CANCELLED}, "status", "只能是"),
    ],
)
def test_it_refuses_bad_input_with_a_chinese_message(cast, over, field, message):
    if over.get("counterparts") == "self":
        over["counterparts"] = [cast.person(cast.secretary_a)]
    elif over.get("counterparts") == "left":
        gone = make_person("离职者", cast.unit_a, org=cast.branch_a1)
        Person.objects.filter(pk=gone.pk).update(left_on=TODAY - timedelta(days=30))
        over["counterparts"] = [Person.objects.get(pk=gone.pk)]
    elif over.get("counterparts") == "outsider":
        over["counterparts"] = [cast.person(cast.outsider)]
    with pytest.raises(ValidationError) as exc:
        record(cast, **over)
    assert message in " ".join(exc.value.message_dict[field])
    assert not Talk.objects.exists()


@time_machine.travel(TODAY, tick=False)
def test_it_links_only_a_pre_meeting_of_the_org_or_its_ancestors(cast):
    from sizheng.life import services as life

    def meeting(org, kind):
        at = datetime(2026, 8, 25, 9, tzinfo=SH)
        return life.meeting_record(actor=cast.committee_admin, org=org, kind=kind, topic="会", starts_at=at,
                                   ends_at=at + timedelta(hours=2), place="会议室", submit=False)  # fmt: skip

    olm = meeting(cast.committee_a, "life_meeting")
    assert record(cast, meeting=olm).meeting == olm
    assert list(services.pre_meetings(cast.branch_a1)) == [olm]
    for bad in (meeting(cast.branch_a1, "members_meeting"), meeting(cast.branch_b1, "life_meeting")):
        with pytest.raises(ValidationError) as exc:
            record(cast, meeting=bad)
        assert "会前谈心只能关联" in exc.value.message_dict["meeting"][0]


@time_machine.travel(TODAY, tick=False)
def test_it_updates_with_compare_and_swap_and_audits_field_names(cast, django_capture_on_commit_callbacks):
    talk = record(cast)
    admin = cast.person(cast.org_admin)
    with django_capture_on_commit_callbacks(execute=True):
        services.talk_update(actor=cast.secretary_a, talk=talk, version=1, summary=f"{CANARY}-new",
                             counterparts=[cast.person(cast.member), admin])  # fmt: skip
    fresh = Talk.objects.get(pk=talk.pk)
    assert fresh.summary == f"{CANARY}-new" and fresh.version == 2
    assert set(fresh.participants.values_list("person_id", flat=True)) == {
        cast.person(cast.secretary_a).pk, cast.person(cast.member).pk, admin.pk}  # fmt: skip
    event = AuditEvent.objects.get(action="talk_update")
    assert event.detail == {"fields": ["counterparts", "summary"]}
    # Only the newly added counterpart is told.
    assert list(Notification.objects.values_list("user", flat=True)) == [cast.org_admin.pk]
    with pytest.raises(Conflict):
        services.talk_update(actor=cast.secretary_a, talk=talk, version=1, summary="晚到的修改")
    assert Talk.objects.get(pk=talk.pk).summary == f"{CANARY}-new"


@time_machine.travel(TODAY, tick=False)
def test_it_refuses_an_edit_by_someone_who_did_not_record_the_talk(cast):
    talk = record(cast)
    for user in (cast.org_admin, cast.committee_admin):
        with pytest.raises(PermissionDenied):
            services.talk_update(actor=user, talk=talk, version=talk.version, summary="改")
    with pytest.raises(ValidationError):
        services.talk_update(actor=cast.secretary_a, talk=talk, version=talk.version, org=cast.branch_a2)


@time_machine.travel(TODAY, tick=False)
def test_it_never_moves_a_held_talk_back_to_planned(cast):
    talk = record(cast)
    with pytest.raises(Conflict):
        services.talk_update(actor=cast.secretary_a, talk=talk, version=talk.version, status=Status.PLANNED)


@time_machine.travel(TODAY, tick=False)
def test_it_cancels_only_a_planned_talk_and_keeps_the_reason_out_of_the_audit(cast):
    planned = record(cast, status=Status.PLANNED, held_on=TODAY + timedelta(days=2), summary="")
    with pytest.raises(ValidationError):
        services.talk_cancel(actor=cast.secretary_a, talk=planned, version=1, reason=" ")
    services.talk_cancel(actor=cast.secretary_a, talk=planned, version=1, reason=f"{CANARY}-reason")
    fresh = Talk.objects.get(pk=planned.pk)
    assert fresh.status == Status.CANCELLED and f"{CANARY}-reason" in fresh.summary
    event = AuditEvent.objects.get(action="talk_cancel")
    assert CANARY not in json.dumps(event.detail, ensure_ascii=False)
    held = record(cast)
    with pytest.raises(Conflict):
        services.talk_cancel(actor=cast.secretary_a, talk=held, version=1, reason="不谈了")
    with pytest.raises(Conflict):
        services.talk_update(actor=cast.secretary_a, talk=fresh, version=fresh.version, summary="再改")


@time_machine.travel(TODAY, tick=False)
def test_it_opens_a_follow_up_duty_with_the_generic_title(cast):
    talk = record(cast)
    duty = services.talk_follow_up_duty(actor=cast.secretary_a, talk=talk, due_on=TODAY + timedelta(days=10),
                                        owner=cast.person(cast.secretary_a))  # fmt: skip
    duty = Duty.objects.get(pk=duty.pk)
    assert duty.title == "谈心谈话提醒" and duty.description == ""
    assert (duty.source_kind, duty.source_id, duty.assignee_org) == (SourceKind.TALK, talk.pk, cast.branch_a1)
    assert AuditEvent.objects.filter(action="talk_follow_up_duty", object_id=str(talk.pk)).exists()
    with pytest.raises(ValidationError):
        services.talk_follow_up_duty(actor=cast.secretary_a, talk=talk, due_on=TODAY - timedelta(days=1))
    with pytest.raises(PermissionDenied):
        services.talk_follow_up_duty(actor=cast.org_admin, talk=talk, due_on=TODAY + timedelta(days=1))


def test_it_offers_the_roster_of_the_org_and_its_units_staff(cast):
    names = set(services.roster(cast.branch_a1).values_list("name", flat=True))
    assert names == {"王建国", "赵敏", "刘洋"}
    committee = set(services.roster(cast.committee_a).values_list("name", flat=True))
    assert {"王建国", "陈志强", "周杰"} <= committee and "孙丽" not in committee
    assert set(services.roster(cast.leading_a).values_list("name", flat=True)) == {"陈志强"}


@given(st.lists(st.sampled_from(TAGS), max_size=12))
def test_it_stores_any_tag_selection_as_a_round_trippable_list(tags):
    stored = services._tags_json(tags)
    assert Talk(tags=stored).tag_list == list(dict.fromkeys(tags))
