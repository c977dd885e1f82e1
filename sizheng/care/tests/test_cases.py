"""Care-case services: opening (self, secretary with consent, union), the workflow table and its
transition function, the yearly re-check job."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import given
from hypothesis import strategies as st

from sizheng.care import jobs, services, workflow
from sizheng.care.access import is_handler
from sizheng.care.models import CareAction, CareCase, CaseState, Category, Handler, OpenedVia
from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent, Notification, SentReminder
from sizheng.duties.models import Duty, SourceKind
from sizheng.duties.models import State as DutyState
from sizheng.org.models import OrgRole, Person
from sizheng.org.testing import appoint, make_person
from sizheng.talks.models import Talk, TalkParticipant

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 3, 10)
CANARY = "CANARYCARE"


def open_self(cast, user=None, **kw) -> CareCase:
    user = user or cast.member
    kw.setdefault("category", Category.LIVING)
    kw.setdefault("description", f"{CANARY}-家中老人住院，医疗费用负担较重")
    return services.care_case_open(actor=user, person=cast.person(user), **kw)


def open_behalf(cast, actor, person, **kw) -> CareCase:
    kw.setdefault("category", Category.MEDICAL)
    kw.setdefault("description", f"{CANARY}-谈话中了解到孩子患病")
    kw.setdefault("consent_on", TODAY)
    kw.setdefault("consent_method", "oral")
    return services.care_case_open(actor=actor, person=person, **kw)


def step(case, actor, action, **kw) -> CareCase:
    fresh = CareCase.objects.metadata_only().select_related("handler_org").get(pk=case.pk)
    kw.setdefault("version", fresh.version)
    return services.care_case_transition(actor=actor, case=fresh, action=action, **kw)


def talk(cast, org, initiator, counterpart) -> Talk:
    t = Talk.objects.create(org=org, initiator=initiator, held_on=TODAY, summary="谈话")
    TalkParticipant.objects.create(talk=t, person=initiator, is_initiator=True)
    TalkParticipant.objects.create(talk=t, person=counterpart)
    return t


# --- opening -----------------------------------------------------------------------------------


@time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=SH), tick=False)
def test_it_refuses_a_case_on_behalf_without_the_persons_consent(cast):
    person = cast.person(cast.member)
    with pytest.raises(ValidationError) as err:
        open_behalf(cast, cast.secretary_a, person, consent_on=None, consent_method="")
    assert "须先征得本人同意" in err.value.message_dict["consent_on"][0]
    assert "同意的方式" in err.value.message_dict["consent_method"][0]
    with pytest.raises(ValidationError) as err:
        open_behalf(cast, cast.secretary_a, person, consent_on=TODAY + timedelta(days=1))
    assert err.value.message_dict["consent_on"] == ["本人同意的日期不能晚于今天。"]
    assert not CareCase.objects.exists()
    assert not AuditEvent.objects.filter(action="care_case_open").exists()


@time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=SH), tick=False)
def test_it_opens_a_case_on_behalf_with_consent_recorded(cast, django_capture_on_commit_callbacks):
    person = cast.person(cast.member)
    with django_capture_on_commit_callbacks(execute=True):
        case = open_behalf(cast, cast.secretary_a, person, consent_method="written")
    case.refresh_from_db()
    assert case.opened_via == OpenedVia.SECRETARY and case.opened_by == cast.secretary_a
    assert (case.consent_on, case.consent_method, case.consent_recorded_by) == (
        TODAY,
        "written",
        cast.secretary_a,
    )
    assert case.org == cast.branch_a1 and case.handler_org == cast.branch_a1 and case.unit == cast.unit_a
    assert case.state == CaseState.ACCEPTED and case.description.startswith(CANARY)
    assert list(case.actions.values_list("kind", "to_state")) == [("accept", "accepted")]
    event = AuditEvent.objects.get(action="care_case_open", object_id=str(case.pk))
    assert event.detail == {
        "person": person.pk,
        "opened_via": "secretary",
        "handler": "secretary",
        "handler_org": cast.branch_a1.pk,
        "source_talk": None,
    }
    # The follow-up duty: generic title, no reason, linked both ways.
    duty = Duty.objects.get(source_kind=SourceKind.CARE, source_id=case.pk)
    assert duty.title == "关爱跟进" and duty.description == "" and duty.assignee_org == cast.branch_a1
    assert case.duty_id == duty.pk
    # The opener is the handler here: nobody else to tell, and nothing sensitive anywhere.
    for n in Notification.objects.all():
        assert CANARY not in n.title + n.body and "医疗" not in n.title + n.body


@time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=SH), tick=False)
def test_it_lets_the_person_open_their_own_case_and_tells_the_handler_without_content(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = open_self(cast, tier="relative")
    assert case.opened_via == OpenedVia.SELF and case.consent_on is None and case.consent_recorded_by is None
    assert case.handler_org == cast.branch_a1 and is_handler(cast.secretary_a, case)
    note = Notification.objects.get(user=cast.secretary_a, url=f"/care/{case.pk}/")
    assert note.title == "有一项新的困难诉求待处理。" == note.body
    # The follow-up duty's own notice carries its generic title only.
    assert (
        Notification.objects.get(user=cast.secretary_a, url=f"/duties/{case.duty_id}/").title
        == "【新部署】关爱跟进"
    )
    assert not Notification.objects.filter(user=cast.member).exists()


@time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=SH), tick=False)
def test_it_refuses_people_outside_the_openers_reach(cast):
    person = cast.person(cast.member)
    for stranger in (cast.secretary_b, cast.outsider, cast.leader, cast.counselor):
        with pytest.raises(PermissionDenied):
            open_behalf(cast, stranger, person)
    assert not CareCase.objects.exists()


@time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=SH), tick=False)
def test_it_routes_a_union_case_to_the_union_covering_the_persons_org(
    cast, django_capture_on_commit_callbacks
):
    person = cast.person(cast.member)
    with pytest.raises(ValidationError) as err:
        open_behalf(cast, cast.union, person, handler=Handler.UNION, consent_on=None)
    assert "consent_on" in err.value.message_dict
    with django_capture_on_commit_callbacks(execute=True):
        case = open_behalf(cast, cast.union, person, handler=Handler.UNION)
    assert case.opened_via == OpenedVia.UNION and case.handler_org == cast.committee_a
    assert case.consent_recorded_by == cast.union
    assert is_handler(cast.union, case) and not is_handler(cast.secretary_a, case)
    # Union handlers are not on any duty's owner side: no duty for a union case.
    assert not Duty.objects.filter(source_kind=SourceKind.CARE).exists()
    # The person may ask for the union too; the union handler hears of it.
    with django_capture_on_commit_callbacks(execute=True):
        own = open_self(cast, handler=Handler.UNION)
    assert own.opened_via == OpenedVia.SELF and own.handler_org == cast.committee_a
    assert Notification.objects.filter(user=cast.union, title="有一项新的困难诉求待处理。").count() == 1


@time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=SH), tick=False)
def test_it_refuses_a_union_handler_where_no_union_covers_the_org(cast):
    with pytest.raises(ValidationError) as err:
        open_self(cast, user=cast.outsider, handler=Handler.UNION)
    assert err.value.message_dict["handler"] == ["该同志所在党组织没有工会承办人，请选择由党组织书记承办。"]
    with pytest.raises(PermissionDenied):
        open_behalf(cast, cast.union, cast.person(cast.outsider), handler=Handler.UNION)


@time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=SH), tick=False)
def test_it_checks_the_details(cast):
    with pytest.raises(ValidationError) as err:
        open_self(cast, category="nonsense", description="  ", tier="worst", handler="boss")
    assert set(err.value.message_dict) == {"category", "description", "tier", "handler"}


@time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=SH), tick=False)
def test_it_links_a_talk_the_opener_may_read_and_the_person_took_part_in(cast):
    person = cast.person(cast.member)
    mine = talk(cast, cast.branch_a1, cast.person(cast.secretary_a), person)
    case = open_behalf(cast, cast.secretary_a, person, source_talk=mine)
    assert case.source_talk == mine
    assert AuditEvent.objects.get(action="care_case_open").detail["source_talk"] == mine.pk
    other = talk(cast, cast.branch_a1, cast.person(cast.secretary_a), cast.person(cast.org_admin))
    with pytest.raises(ValidationError) as err:
        open_behalf(cast, cast.secretary_a, person, source_talk=other)
    assert "source_talk" in err.value.message_dict
    # dangwu_a manages the person but may not read a talk she did not take part in (not the 书记).
    with pytest.raises(ValidationError):
        open_behalf(cast, cast.org_admin, person, source_talk=mine)


@time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=SH), tick=False)
def test_it_files_a_non_member_under_the_units_root_org(cast):
    staff = Person.objects.get(name="周杰")
    case = open_behalf(cast, cast.committee_admin, staff)
    assert case.org == cast.committee_a and case.handler_org == cast.committee_a
    assert case.opened_via == OpenedVia.SECRETARY


@time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=SH), tick=False)
def test_it_hands_a_secretarys_own_case_to_the_org_above(cast):
    chief = make_person("郑书记", cast.unit_a, org=cast.committee_a, username="shuji_wei")
    appoint(chief, cast.committee_a, OrgRole.Title.SECRETARY)
    case = open_self(cast, user=cast.secretary_a)
    assert case.handler_org == cast.committee_a
    assert is_handler(chief.user, case) and not is_handler(cast.secretary_a, case)


# --- the workflow -----------------------------------------------------------------------------------


def test_it_runs_the_whole_state_machine(cast, django_capture_on_commit_callbacks):
    with time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=SH), tick=False):
        case = open_self(cast)
        duty = Duty.objects.get(pk=case.duty_id)
        with django_capture_on_commit_callbacks(execute=True):
            case = step(case, cast.secretary_a, "start", note=f"{CANARY}-已电话联系")
        assert case.state == CaseState.IN_PROGRESS
        assert Notification.objects.get(user=cast.member).title == "您反映的困难诉求有新进展。"
        case = step(case, cast.secretary_a, "add_action", note=f"{CANARY}-上门走访", kind="visit")
        assert case.state == CaseState.IN_PROGRESS
    with time_machine.travel(datetime(2026, 3, 20, 9, tzinfo=SH), tick=False):
        case = step(case, cast.secretary_a, "resolve", note="协调解决", is_ongoing=True)
        assert case.state == CaseState.RESOLVED and case.resolved_at is not None
        assert case.is_ongoing and case.recheck_on == date(2027, 3, 20)
        duty.refresh_from_db()
        assert duty.state == DutyState.CLOSED and "困难" in duty.evidence
        case = step(case, cast.secretary_a, "follow_up", satisfaction=4)
        assert case.state == CaseState.FOLLOWED_UP and case.satisfaction == 4 and case.followed_up_at
        # The person's own rating replaces what the handler recorded.
        case = step(case, cast.member, "rate", satisfaction=2, note="希望再跟进")
        assert case.state == CaseState.FOLLOWED_UP and case.satisfaction == 2
        # Relapse: the person re-opens, with a reason.
        case = step(case, cast.member, "reopen", note=f"{CANARY}-困难再次出现")
    assert case.state == CaseState.IN_PROGRESS and case.reopen_count == 1
    assert (case.resolved_at, case.followed_up_at, case.satisfaction, case.recheck_on) == (
        None,
        None,
        None,
        None,
    )
    assert (
        Duty.objects.filter(source_kind=SourceKind.CARE, source_id=case.pk, state=DutyState.ASSIGNED).count()
        == 1
    )
    kinds = list(case.actions.values_list("kind", flat=True))
    assert kinds == ["accept", "transition", "visit", "transition", "follow_up", "follow_up", "reopen"]
    actions = [
        e.action for e in AuditEvent.objects.filter(object_id=str(case.pk), object_type="care.carecase")
    ]
    for a in ("care_case_start", "care_case_add_action", "care_case_resolve", "care_case_follow_up",
              "care_case_rate", "care_case_reopen"):  # fmt: skip
        assert a in actions
    for e in AuditEvent.objects.all():
        assert CANARY not in json.dumps(e.detail, ensure_ascii=False) + e.object_repr
    assert case.version == 7


@time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=SH), tick=False)
def test_it_refuses_illegal_transitions_stale_versions_and_other_sides(cast):
    case = open_self(cast)
    with pytest.raises(Conflict) as err:
        step(case, cast.secretary_a, "resolve")
    assert err.value.status_code == 409 and "当前状态为“受理”，不能执行“办结”" in err.value.message
    with pytest.raises(Conflict) as err:
        step(case, cast.secretary_a, "start", version=case.version + 5)
    assert "已被他人处理" in err.value.message
    with pytest.raises(PermissionDenied):
        step(case, cast.org_admin, "start")
    with pytest.raises(PermissionDenied):
        step(case, cast.member, "start")
    with pytest.raises(PermissionDenied):
        step(case, cast.committee_admin, "add_action", note="x")
    with pytest.raises(ValidationError):
        step(case, cast.secretary_a, "fly")
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED and case.version == 1


@time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=SH), tick=False)
def test_it_requires_a_rating_and_a_reason_where_the_table_says(cast):
    case = open_self(cast)
    step(case, cast.secretary_a, "start")
    with pytest.raises(ValidationError) as err:
        step(case, cast.secretary_a, "add_action", note=" ")
    assert err.value.message_dict["note"] == ["请填写帮扶情况。"]
    step(case, cast.secretary_a, "resolve")
    for bad in (None, 0, 6, "x"):
        with pytest.raises(ValidationError) as err:
            step(case, cast.secretary_a, "follow_up", satisfaction=bad)
        assert "满意度" in err.value.message_dict["satisfaction"][0]
    with pytest.raises(ValidationError) as err:
        step(case, cast.member, "reopen", note="")
    assert "重新打开的原因" in err.value.message_dict["note"][0]


@time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=SH), tick=False)
def test_it_lets_the_persons_own_rating_win(cast):
    case = open_self(cast)
    step(case, cast.secretary_a, "start")
    step(case, cast.secretary_a, "resolve")
    case = step(case, cast.member, "rate", satisfaction=5)
    assert case.state == CaseState.FOLLOWED_UP and case.satisfaction == 5
    # The handler's 回访 can no longer overwrite it.
    with pytest.raises(Conflict):
        step(case, cast.secretary_a, "follow_up", satisfaction=1)
    assert CareCase.objects.get(pk=case.pk).satisfaction == 5


def test_it_rechecks_ongoing_hardship_once_a_year(cast, django_capture_on_commit_callbacks):
    with time_machine.travel(datetime(2026, 3, 10, 9, tzinfo=SH), tick=False):
        case = open_self(cast)
        step(case, cast.secretary_a, "start")
        step(case, cast.secretary_a, "resolve", is_ongoing=True)
        other = open_self(cast)
        step(other, cast.secretary_a, "start")
        step(other, cast.secretary_a, "resolve")  # not ongoing: never re-checked
        assert jobs.recheck_due() == 0
    with time_machine.travel(datetime(2027, 3, 9, 9, tzinfo=SH), tick=False):
        assert jobs.recheck_due() == 0
    with time_machine.travel(datetime(2027, 3, 10, 9, tzinfo=SH), tick=False):
        assert jobs.recheck_due() == 1
        assert jobs.recheck_due() == 0  # the same day again: nothing twice
    case.refresh_from_db()
    assert case.recheck_on == date(2028, 3, 10) and case.state == CaseState.RESOLVED
    assert case.actions.filter(kind=CareAction.Kind.RECHECK).count() == 1
    assert not other.actions.filter(kind=CareAction.Kind.RECHECK).exists()
    duty = Duty.objects.get(pk=case.duty_id)
    assert (
        duty.title == "关爱跟进" and duty.state == DutyState.ASSIGNED and duty.assignee_org == cast.branch_a1
    )
    reminders = Notification.objects.filter(
        user=cast.secretary_a, title="有一项长期困难诉求到了年度复核时间。"
    )
    assert reminders.count() == 1 and reminders[0].url == f"/care/{case.pk}/"
    assert SentReminder.objects.filter(key=f"care:recheck:{case.pk}:2027-03-10").exists()
    assert AuditEvent.objects.filter(action="care_case_recheck", object_id=str(case.pk)).count() == 1
    # A job that was down for a while catches up once and moves the date past today.
    with time_machine.travel(datetime(2029, 6, 1, 9, tzinfo=SH), tick=False):
        assert jobs.recheck_due() == 1
    case.refresh_from_db()
    assert case.recheck_on == date(2030, 3, 10)


def test_it_registers_the_recheck_as_a_daily_job():
    from sizheng.core.scheduler import JOBS

    job = JOBS["care.recheck"]
    assert job.at is not None and job.func is jobs.recheck_due


# --- the table (pure) -----------------------------------------------------------------------------


def test_it_keeps_the_table_consistent():
    for t in workflow.TRANSITIONS.values():
        assert t.sources <= set(workflow.STATES)
        assert t.target is None or t.target in workflow.STATES
        assert t.sides <= {workflow.HANDLER, workflow.PERSON}
    assert workflow.allowed_actions("accepted", {workflow.PERSON}) == []
    assert workflow.allowed_actions("resolved", {workflow.PERSON}) == ["rate", "reopen"]
    assert workflow.allowed_actions("accepted", {workflow.HANDLER}) == ["start", "add_action"]


@given(
    st.lists(st.tuples(st.sampled_from(sorted(workflow.TRANSITIONS)), st.sampled_from(["handler", "person"])))
)
def test_it_never_leaves_the_known_states_whatever_is_tried(attempts):
    state, reopened = workflow.ACCEPTED, 0
    for action, side in attempts:
        if action in workflow.allowed_actions(state, {side}):
            new = workflow.target_of(action, state)
            reopened += action == "reopen"
            if action == "reopen":
                assert state in (workflow.RESOLVED, workflow.FOLLOWED_UP) and new == workflow.IN_PROGRESS
            state = new
        else:
            if state not in workflow.TRANSITIONS[action].sources:
                with pytest.raises(ValueError):
                    workflow.target_of(action, state)
        assert state in workflow.STATES
    # Only the handler moves a case forward out of 受理 / 处理中.
    assert workflow.allowed_actions(workflow.IN_PROGRESS, {"person"}) == []
