"""The duty workflow beyond the table: field checks, extensions, close handlers, sensitive sources,
due dates on rest days, and properties of the pure transition table."""

from __future__ import annotations

from collections import deque
from datetime import date

import chinese_calendar
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent
from sizheng.duties import services, workflow
from sizheng.duties.models import Duty, DutyEvent, SourceKind, State
from sizheng.org.testing import make_person

DUE = date(2026, 6, 30)


@pytest.fixture
def duty(cast):
    """A duty of branch A1 owned by 刘洋, assigned by the root (so gongwei inspects it)."""
    return services.duty_open(
        org=cast.branch_a1,
        title="召开专题组织生活会",
        due_on=DUE,
        actor=cast.committee_admin,
        assigning_org=cast.root,
        owner=cast.person(cast.member),
    )


def _move(duty, actor, *actions, **fields):
    """Take several actions in a row with the current version each time."""
    for action in actions:
        duty = services.duty_transition(duty=duty, action=action, actor=actor, version=duty.version, **fields)
    return duty


def _state(duty) -> tuple:
    """What a refused action must leave alone."""
    fresh = Duty.objects.get(pk=duty.pk)
    return (
        fresh.state,
        fresh.version,
        fresh.due_on,
        fresh.requested_due_on,
        DutyEvent.objects.filter(duty=duty).count(),
    )


def _in_progress(duty, cast):
    return _move(duty, cast.member, "accept", "start")


# --- field validation (422) ---------------------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_a_report_without_evidence(duty, cast):
    duty = _in_progress(duty, cast)
    before = _state(duty)
    with pytest.raises(ValidationError) as exc:
        services.duty_transition(
            duty=duty, action="report", actor=cast.member, version=duty.version, evidence="  ", today=DUE
        )
    assert "佐证" in exc.value.message_dict["evidence"][0]
    assert _state(duty) == before


@pytest.mark.django_db
def test_it_accepts_a_late_report_only_with_a_reason_and_marks_it_late(duty, cast):
    duty = _in_progress(duty, cast)
    before = _state(duty)
    late_day = date(2026, 7, 3)
    with pytest.raises(ValidationError) as exc:
        services.duty_transition(
            duty=duty,
            action="report",
            actor=cast.member,
            version=duty.version,
            evidence="已完成。",
            today=late_day,
        )
    assert "逾期原因" in exc.value.message_dict["late_reason"][0]
    assert _state(duty) == before
    duty = services.duty_transition(
        duty=duty,
        action="report",
        actor=cast.member,
        version=duty.version,
        evidence="已完成。",
        late_reason="会议因防汛任务推迟。",
        today=late_day,
    )
    assert (duty.state, duty.is_late, duty.late_reason, duty.reported_on) == (
        State.REPORTED,
        True,
        "会议因防汛任务推迟。",
        late_day,
    )


@pytest.mark.django_db
def test_it_marks_a_report_on_the_due_day_on_time_and_drops_a_needless_late_reason(duty, cast):
    duty = _in_progress(duty, cast)
    duty = services.duty_transition(
        duty=duty,
        action="report",
        actor=cast.member,
        version=duty.version,
        evidence="已完成。",
        late_reason="无",
        today=DUE,
    )
    assert (duty.is_late, duty.late_reason, duty.reported_on) == (False, "", DUE)


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["return", "cancel"])
def test_it_refuses_return_and_cancel_without_a_reason(duty, cast, action):
    duty = _move(_in_progress(duty, cast), cast.member, "report", evidence="已完成。", today=DUE)
    duty = _move(duty, cast.committee_admin, "review")
    before = _state(duty)
    with pytest.raises(ValidationError) as exc:
        services.duty_transition(duty=duty, action=action, actor=cast.committee_admin, version=duty.version)
    assert exc.value.message_dict["reason"][0].endswith("理由。")
    assert _state(duty) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("new_due_on", "reason", "field"),
    [
        (None, "工作冲突。", "new_due_on"),
        (DUE, "工作冲突。", "new_due_on"),
        (date(2026, 6, 1), "工作冲突。", "new_due_on"),
        (date(2026, 7, 15), "  ", "reason"),
    ],
)
def test_it_checks_the_extension_request(duty, cast, new_due_on, reason, field):
    before = _state(duty)
    with pytest.raises(ValidationError) as exc:
        services.duty_transition(
            duty=duty,
            action="request_extension",
            actor=cast.member,
            version=1,
            new_due_on=new_due_on,
            reason=reason,
        )
    assert field in exc.value.message_dict
    assert _state(duty) == before


@pytest.mark.django_db
def test_it_refuses_to_reassign_to_someone_outside_the_assignee_orgs_unit(duty, cast):
    stranger = cast.person(cast.secretary_b)  # unit B
    left = make_person("离职人", cast.unit_a, org=cast.branch_a1, left_on=date(2026, 1, 1))
    before = _state(duty)
    for owner_id in (stranger.pk, left.pk, None, 987654):
        with pytest.raises(ValidationError) as exc:
            services.duty_transition(
                duty=duty, action="reassign", actor=cast.committee_admin, version=1, owner_id=owner_id
            )
        assert "owner_id" in exc.value.message_dict
    assert _state(duty) == before
    colleague = make_person("同事", cast.unit_a, org=cast.branch_a2)  # same unit, another branch
    duty = services.duty_transition(
        duty=duty, action="reassign", actor=cast.committee_admin, version=1, owner_id=colleague.pk
    )
    assert duty.owner_id == colleague.pk and duty.state == State.ASSIGNED
    assert DutyEvent.objects.get(duty=duty, action="reassign").payload == {
        "old_owner": cast.person(cast.member).pk,
        "new_owner": colleague.pk,
    }


@pytest.mark.django_db
def test_it_refuses_an_unknown_action(duty, cast):
    with pytest.raises(ValidationError):
        services.duty_transition(duty=duty, action="finish", actor=cast.member, version=1)


# --- extensions ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_moves_the_due_date_when_an_extension_is_approved(duty, cast):
    duty = services.duty_transition(
        duty=duty,
        action="request_extension",
        actor=cast.member,
        version=1,
        new_due_on=date(2026, 10, 1),  # National Day: rolls to the next workday
        reason="等待上级文件。",
    )
    assert (duty.due_on, duty.requested_due_on, duty.state) == (DUE, date(2026, 10, 8), State.ASSIGNED)
    with pytest.raises(Conflict, match="等待审批"):
        services.duty_transition(
            duty=duty,
            action="request_extension",
            actor=cast.secretary_a,
            version=duty.version,
            new_due_on=date(2026, 11, 2),
            reason="再延一次。",
        )
    assert Duty.objects.get(pk=duty.pk).requested_due_on == date(2026, 10, 8)
    duty = services.duty_transition(
        duty=duty, action="approve_extension", actor=cast.committee_admin, version=2
    )
    assert (duty.due_on, duty.requested_due_on, duty.extension_reason) == (date(2026, 10, 8), None, "")
    event = DutyEvent.objects.get(duty=duty, action="approve_extension")
    assert event.payload == {"old_due_on": "2026-06-30", "new_due_on": "2026-10-08"}
    with pytest.raises(Conflict, match="没有待审批"):
        services.duty_transition(duty=duty, action="reject_extension", actor=cast.committee_admin, version=3)


@pytest.mark.django_db
def test_it_keeps_the_due_date_when_an_extension_is_rejected(duty, cast):
    duty = services.duty_transition(
        duty=duty,
        action="request_extension",
        actor=cast.secretary_a,
        version=1,
        new_due_on=date(2026, 7, 31),
        reason="人员外出。",
    )
    duty = services.duty_transition(
        duty=duty, action="reject_extension", actor=cast.committee_admin, version=2, comment="时限不能再延。"
    )
    assert (duty.due_on, duty.requested_due_on) == (DUE, None)
    # The request is settled, so the owner side may ask again.
    duty = services.duty_transition(
        duty=duty,
        action="request_extension",
        actor=cast.member,
        version=3,
        new_due_on=date(2026, 7, 10),
        reason="人员外出。",
    )
    assert duty.requested_due_on == date(2026, 7, 10)


@pytest.mark.django_db
def test_it_refuses_an_extension_decision_from_the_owner_side(duty, cast):
    duty = services.duty_transition(
        duty=duty,
        action="request_extension",
        actor=cast.member,
        version=1,
        new_due_on=date(2026, 7, 31),
        reason="忙。",
    )
    with pytest.raises(PermissionDenied):
        services.duty_transition(duty=duty, action="approve_extension", actor=cast.secretary_a, version=2)
    assert Duty.objects.get(pk=duty.pk).due_on == DUE


# --- the whole loop, close handlers ---------------------------------------------------------------


@pytest.mark.django_db
def test_it_runs_the_whole_loop_with_a_return(duty, cast):
    duty = _move(_in_progress(duty, cast), cast.member, "report", evidence="初稿。", today=DUE)
    duty = _move(duty, cast.committee_admin, "review")
    duty = _move(duty, cast.committee_admin, "return", reason="缺少会议记录。")
    duty = _move(duty, cast.secretary_a, "start")
    duty = _move(duty, cast.org_admin, "report", evidence="补充了会议记录。", today=DUE)
    duty = _move(duty, cast.committee_admin, "review", "pass", today=date(2026, 7, 2))
    assert (duty.state, duty.returns, duty.closed_on, duty.version) == (State.CLOSED, 1, date(2026, 7, 2), 10)
    actions = list(DutyEvent.objects.filter(duty=duty).values_list("action", flat=True))
    assert actions == [
        "open",
        "accept",
        "start",
        "report",
        "review",
        "return",
        "start",
        "report",
        "review",
        "pass",
    ]
    audits = set(AuditEvent.objects.filter(object_id=str(duty.pk)).values_list("action", flat=True))
    assert {f"duty_{a}" for a in actions} <= audits
    assert services.available_actions(cast.committee_admin, duty) == []


@pytest.mark.django_db
def test_it_runs_the_close_handler_of_the_source_inside_the_transaction(cast, monkeypatch):
    monkeypatch.setitem(services._CLOSE_HANDLERS, SourceKind.INSPECTION, [])
    seen = []

    @services.on_close(SourceKind.INSPECTION)
    def rectified(duty):
        seen.append((duty.pk, duty.source_id, Duty.objects.get(pk=duty.pk).state, connection.in_atomic_block))

    duty = services.duty_open(
        org=cast.branch_a1,
        title="整改督查发现的问题",
        due_on=DUE,
        source=(SourceKind.INSPECTION, 42),
        actor=cast.committee_admin,
        assigning_org=cast.root,
        owner=cast.person(cast.member),
    )
    duty = _move(_in_progress(duty, cast), cast.secretary_a, "report", evidence="已整改。", today=DUE)
    duty = _move(duty, cast.committee_admin, "review")
    assert seen == []
    _move(duty, cast.committee_admin, "pass")
    assert seen == [(duty.pk, 42, State.CLOSED, True)]


@pytest.mark.django_db
def test_it_rolls_the_close_back_when_the_handler_fails(cast, monkeypatch):
    monkeypatch.setitem(services._CLOSE_HANDLERS, SourceKind.INSPECTION, [])

    @services.on_close(SourceKind.INSPECTION)
    def broken(duty):
        raise RuntimeError("handler failed")

    duty = services.duty_open(
        org=cast.branch_a1,
        title="整改",
        due_on=DUE,
        source=(SourceKind.INSPECTION, 7),
        actor=cast.committee_admin,
        assigning_org=cast.root,
    )
    Duty.objects.filter(pk=duty.pk).update(state=State.UNDER_REVIEW, version=5)
    duty.refresh_from_db()
    with pytest.raises(RuntimeError):
        services.duty_transition(duty=duty, action="pass", actor=cast.committee_admin, version=5)
    fresh = Duty.objects.get(pk=duty.pk)
    assert (fresh.state, fresh.version, fresh.closed_on) == (State.UNDER_REVIEW, 5, None)
    assert not DutyEvent.objects.filter(duty=duty, action="pass").exists()


@pytest.mark.django_db
def test_it_does_not_run_close_handlers_of_other_sources(cast, monkeypatch):
    calls = []
    monkeypatch.setitem(services._CLOSE_HANDLERS, SourceKind.INSPECTION, [calls.append])
    duty = services.duty_open(
        org=cast.branch_a1, title="手工事项", due_on=DUE, actor=cast.committee_admin, assigning_org=cast.root
    )
    Duty.objects.filter(pk=duty.pk).update(state=State.UNDER_REVIEW)
    duty.refresh_from_db()
    services.duty_transition(duty=duty, action="pass", actor=cast.committee_admin, version=1)
    assert calls == []


# --- opening: sensitive sources, due dates ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "generic"), [(SourceKind.TALK, "谈心谈话提醒"), (SourceKind.CARE, "关爱跟进")]
)
def test_it_gives_duties_from_sensitive_sources_a_generic_title(cast, kind, generic):
    duty = services.duty_open(
        org=cast.branch_a1,
        title="某某家庭变故，需及时谈心",
        description="配偶重病住院，情绪低落。",
        due_on=DUE,
        source=(kind, 5),
        actor=cast.committee_admin,
    )
    duty.refresh_from_db()
    assert (duty.title, duty.description, duty.is_sensitive, duty.source_id) == (generic, "", True, 5)
    audit = AuditEvent.objects.get(action="duty_open", object_id=str(duty.pk))
    assert "家庭" not in audit.object_repr and "家庭" not in str(audit.detail)
    assert "家庭" not in str(DutyEvent.objects.get(duty=duty).payload)


@pytest.mark.django_db
def test_it_refuses_an_unknown_source(cast):
    with pytest.raises(ValidationError):
        services.duty_open(org=cast.branch_a1, title="x", due_on=DUE, source=("gossip", 1), actor=None)


def test_it_reads_the_2026_national_day_arrangement_from_the_package():
    holiday = [date(2026, 10, d) for d in range(1, 8)]
    assert all(chinese_calendar.is_holiday(d) for d in holiday)
    assert chinese_calendar.is_workday(date(2026, 10, 8))
    assert chinese_calendar.is_workday(date(2026, 10, 10))  # a Saturday: 调休 workday


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("asked", "due"),
    [
        (date(2026, 10, 1), date(2026, 10, 8)),  # National Day holiday → the first workday after it
        (date(2026, 10, 4), date(2026, 10, 8)),
        (date(2026, 10, 10), date(2026, 10, 10)),  # Saturday, but a 调休 workday: stays
        (date(2026, 10, 11), date(2026, 10, 12)),  # an ordinary Sunday
        (date(2026, 6, 30), date(2026, 6, 30)),
        (date(2027, 10, 2), date(2027, 10, 4)),  # 2027: not in the package, weekends only
    ],
)
def test_it_moves_a_due_date_on_a_rest_day_to_the_next_workday(cast, asked, due):
    duty = services.duty_open(org=cast.branch_a1, title="理论学习", due_on=asked, actor=cast.committee_admin)
    assert Duty.objects.get(pk=duty.pk).due_on == due


@pytest.mark.django_db
def test_it_assigns_from_the_parent_org_when_no_assigning_org_is_given(cast):
    duty = services.duty_open(org=cast.branch_a1, title="理论学习", due_on=DUE, actor=cast.committee_admin)
    assert duty.assigning_org == cast.committee_a and duty.state == State.ASSIGNED and duty.version == 1


# --- the pure table -------------------------------------------------------------------------------

STATES = sorted(workflow.OPEN | {workflow.CLOSED, workflow.CANCELLED})
SIDES = [workflow.OWNER, workflow.ASSIGNER, workflow.SUPERVISOR]


def _next_states(state: str) -> set[str]:
    return {t.target or state for t in workflow.TRANSITIONS.values() if state in t.sources}


def _reachable(state: str) -> set[str]:
    seen, todo = {state}, deque([state])
    while todo:
        for nxt in _next_states(todo.popleft()) - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def test_it_has_no_way_out_of_closed_or_cancelled():
    for state in (workflow.CLOSED, workflow.CANCELLED):
        assert _next_states(state) == set()
        assert workflow.allowed_actions(state, set(SIDES)) == []


@given(
    start=st.sampled_from(sorted(workflow.OPEN)), walk=st.lists(st.sampled_from(sorted(workflow.TRANSITIONS)))
)
def test_it_keeps_a_way_to_closed_after_any_walk(start, walk):
    state = start
    for action in walk:
        t = workflow.TRANSITIONS[action]
        if state not in t.sources:
            continue
        state = t.target or state
        assert state in STATES
    if state in workflow.OPEN:
        assert workflow.CLOSED in _reachable(state) and workflow.CANCELLED in _reachable(state)
    else:
        assert _next_states(state) == set()


@given(state=st.sampled_from(STATES), sides=st.sets(st.sampled_from(SIDES)))
def test_it_lists_allowed_actions_by_state_and_side(state, sides):
    actions = workflow.allowed_actions(state, sides)
    for name, t in workflow.TRANSITIONS.items():
        assert (name in actions) == (state in t.sources and bool(t.sides & sides))
    if not sides or state not in workflow.OPEN:
        assert actions == []
    if workflow.SUPERVISOR in sides and state in workflow.OPEN:
        assert "urge" in actions


def test_it_lets_only_the_assigning_side_close_and_only_the_owner_side_report():
    closing = [
        a for a, t in workflow.TRANSITIONS.items() if t.target in (workflow.CLOSED, workflow.CANCELLED)
    ]
    assert all(workflow.TRANSITIONS[a].sides == {workflow.ASSIGNER} for a in closing)
    assert workflow.TRANSITIONS["report"].sides == {workflow.OWNER}
    # Supervisors change nothing: every action open to them keeps the state.
    assert all(t.target is None for t in workflow.TRANSITIONS.values() if workflow.SUPERVISOR in t.sides)
