"""The whole workflow table, exhaustively: every action × state × side (issue 4 §3 and its acceptance).

The expected table below is written out from the issue text, independently of ``workflow.TRANSITIONS``,
and then checked against it, so a wrong entry in either one fails a test.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from sizheng.core.apitools import Conflict
from sizheng.core.models import AuditEvent
from sizheng.duties import services, workflow
from sizheng.duties.access import get_duty_or_404
from sizheng.duties.models import Duty, DutyEvent, State
from sizheng.org import services as org_services
from sizheng.org.models import OrgRole
from sizheng.org.testing import TERM_START, make_person

OPEN = {"assigned", "accepted", "in_progress", "reported", "under_review", "returned"}
ALL_STATES = [*sorted(OPEN), "closed", "cancelled"]
OWNER, ASSIGNER, SUPERVISOR = "owner", "assigner", "supervisor"

# action → (states it may start from, state it leads to (None: unchanged), sides that may take it)
EXPECTED = {
    "accept": ({"assigned"}, "accepted", {OWNER}),
    "start": ({"accepted", "returned"}, "in_progress", {OWNER}),
    "report": ({"in_progress"}, "reported", {OWNER}),
    "review": ({"reported"}, "under_review", {ASSIGNER}),
    "pass": ({"under_review"}, "closed", {ASSIGNER}),
    "return": ({"under_review"}, "returned", {ASSIGNER}),
    "urge": (OPEN, None, {ASSIGNER, SUPERVISOR}),
    "request_extension": (OPEN, None, {OWNER}),
    "approve_extension": (OPEN, None, {ASSIGNER}),
    "reject_extension": (OPEN, None, {ASSIGNER}),
    "reassign": (OPEN, None, {ASSIGNER}),
    "cancel": (OPEN, "cancelled", {ASSIGNER}),
}

TODAY = date(2026, 6, 1)
DUE = date(2026, 6, 30)
REQUESTED = date(2026, 7, 15)
CHINESE_SENTENCE = re.compile(r"[\u4e00-\u9fff].*。$")

# (actor key, whether the assigning org is the root, the sides the actor stands on, or "404")
ACTORS = [
    ("owner", False, {OWNER}),
    ("branch_secretary", False, {OWNER}),
    ("branch_org_admin", False, {OWNER}),
    ("committee_secretary", False, {ASSIGNER}),
    ("supervisor", False, {SUPERVISOR}),
    ("branch_member", False, set()),
    ("committee_admin", False, set()),
    ("other_secretary", False, "404"),
    ("committee_admin", True, {ASSIGNER}),
    ("committee_secretary", True, set()),
]


def test_it_writes_the_same_table_as_the_issue():
    assert set(workflow.TRANSITIONS) == set(EXPECTED)
    for action, (sources, target, sides) in EXPECTED.items():
        t = workflow.TRANSITIONS[action]
        assert (set(t.sources), t.target, set(t.sides)) == (sources, target, sides), action


@pytest.fixture
def people(cast):
    """The cast plus a secretary of committee A, a supervisor and a second member of branch A1."""
    unit_a = cast.unit_a
    sec_w = make_person("吴卫东", unit_a, org=cast.committee_a, username="shuji_w")
    _appoint(sec_w, cast.committee_a)
    supervisor = make_person("郑纪检", unit_a, org=cast.leading_a, username="jijian")
    _appoint(supervisor, cast.leading_a)
    member2 = make_person("钱二", unit_a, org=cast.branch_a1, username="dangyuan2")
    return {
        "cast": cast,
        "owner": cast.member,
        "branch_secretary": cast.secretary_a,
        "branch_org_admin": cast.org_admin,
        "committee_secretary": sec_w.user,
        "supervisor": supervisor.user,
        "branch_member": member2.user,
        "committee_admin": cast.committee_admin,
        "other_secretary": cast.secretary_b,
        "new_owner": member2,
    }


def _appoint(person, org):
    """Make a person the secretary of an org for the cast's term."""
    org_services.org_role_assign(
        actor=None, org=org, person=person, title=OrgRole.Title.SECRETARY, starts_on=TERM_START
    )


def _fresh_user(user):
    """A fresh copy of the user: scopes and role sets are cached on the instance."""
    return type(user).objects.get(pk=user.pk)


def _duty(people, *, state: str, root: bool, action: str) -> Duty:
    """A duty of branch A1 owned by 刘洋, in ``state``, at version 3 (two earlier changes)."""
    cast = people["cast"]
    duty = services.duty_open(
        org=cast.branch_a1,
        title="开展主题党日活动",
        due_on=DUE,
        actor=cast.committee_admin,
        assigning_org=cast.root if root else cast.committee_a,
        supervising_org=cast.leading_a,
        owner=cast.person(cast.member),
    )
    pending = action in ("approve_extension", "reject_extension")
    Duty.objects.filter(pk=duty.pk).update(
        state=state,
        version=3,
        requested_due_on=REQUESTED if pending else None,
        extension_reason="会期冲突。" if pending else "",
    )
    return Duty.objects.get(pk=duty.pk)


def _inputs(action: str, people) -> dict:
    """Valid action-specific fields."""
    return {
        "report": {"evidence": "已于6月召开主题党日，附签到表和照片。"},
        "return": {"reason": "佐证材料不全，请补充会议记录。"},
        "cancel": {"reason": "任务已由上级统一调整。"},
        "request_extension": {"new_due_on": REQUESTED, "reason": "受集中学习安排影响。"},
        "reassign": {"owner_id": people["new_owner"].pk},
    }.get(action, {})


def _snapshot(pk: int) -> dict:
    """Everything a refused action must leave alone."""
    row = Duty.objects.filter(pk=pk).values().get()
    row["events"] = DutyEvent.objects.filter(duty_id=pk).count()
    row["audit"] = AuditEvent.objects.filter(object_type="duties.duty", object_id=str(pk)).count()
    return row


def _expected_outcome(action: str, state: str, sides) -> str:
    if sides == "404":
        return "404"
    sources, _target, allowed_sides = EXPECTED[action]
    if not (allowed_sides & sides):
        return "403"
    if state not in sources:
        return "409"
    return "ok"


def _check_changes(action: str, before: dict, after: dict, people) -> list[str]:
    """The action-specific changes of a successful transition."""
    target = EXPECTED[action][1] or before["state"]
    wrong = []
    expect = {"state": target, "version": before["version"] + 1}
    if action == "report":
        expect |= {"evidence": _inputs(action, people)["evidence"], "reported_on": TODAY, "is_late": False}
    elif action == "pass":
        expect |= {"closed_on": TODAY}
    elif action == "return":
        expect |= {"returns": before["returns"] + 1}
    elif action == "request_extension":
        expect |= {"requested_due_on": REQUESTED, "due_on": DUE, "extension_reason": "受集中学习安排影响。"}
    elif action == "approve_extension":
        expect |= {"due_on": REQUESTED, "requested_due_on": None, "extension_reason": ""}
    elif action == "reject_extension":
        expect |= {"due_on": DUE, "requested_due_on": None, "extension_reason": ""}
    elif action == "reassign":
        expect |= {"owner_id": people["new_owner"].pk}
    for field, value in expect.items():
        if after[field] != value:
            wrong.append(f"{field}={after[field]!r}, expected {value!r}")
    untouched = set(before) - set(expect) - {"events", "audit"}
    wrong += [f"{f} changed" for f in sorted(untouched) if before[f] != after[f]]
    if after["events"] != before["events"] + 1 or after["audit"] != before["audit"] + 1:
        wrong.append("expected exactly one new event and one new audit row")
    return wrong


@pytest.mark.django_db
@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_it_allows_exactly_the_table_and_refuses_everything_else(people, action):
    failures = []
    for state, (key, root, sides) in itertools.product(ALL_STATES, ACTORS):
        user = _fresh_user(people[key])
        duty = _duty(people, state=state, root=root, action=action)
        where = f"{action} / {state} / {key}{' (root assigns)' if root else ''}"
        expected = _expected_outcome(action, state, sides)
        before = _snapshot(duty.pk)
        try:
            seen = get_duty_or_404(user, duty.pk)
        except Http404:
            if expected != "404":
                failures.append(f"{where}: 404, expected {expected}")
            continue
        if expected == "404":
            failures.append(f"{where}: visible, expected 404")
            continue
        offered = action in services.available_actions(user, seen)
        if offered != (expected == "ok"):
            failures.append(f"{where}: available_actions offers it: {offered}")
        if expected == "ok":
            for stale in (seen.version - 1, seen.version + 1):
                try:
                    services.duty_transition(
                        duty=seen,
                        action=action,
                        actor=user,
                        version=stale,
                        today=TODAY,
                        **_inputs(action, people),
                    )
                    failures.append(f"{where}: stale version {stale} accepted")
                except Conflict as exc:
                    if not CHINESE_SENTENCE.search(str(exc)) or _snapshot(duty.pk) != before:
                        failures.append(f"{where}: stale version changed something or bad message")
            services.duty_transition(
                duty=seen,
                action=action,
                actor=user,
                version=seen.version,
                comment="按要求处理",
                today=TODAY,
                **_inputs(action, people),
            )
            after = _snapshot(duty.pk)
            failures += [f"{where}: {w}" for w in _check_changes(action, before, after, people)]
            event = DutyEvent.objects.filter(duty_id=duty.pk).latest("at", "pk")
            wanted_event = (action, state, EXPECTED[action][1] or state, user.pk)
            if (event.action, event.from_state, event.to_state, event.actor_id) != wanted_event:
                failures.append(f"{where}: event {event.action} {event.from_state}→{event.to_state}")
            audit = AuditEvent.objects.filter(object_type="duties.duty", object_id=str(duty.pk)).latest("pk")
            if (audit.action, audit.actor_id) != (f"duty_{action}", user.pk):
                failures.append(f"{where}: audit row {audit.action}")
            continue
        wanted = {"403": PermissionDenied, "409": Conflict}[expected]
        try:
            services.duty_transition(
                duty=seen,
                action=action,
                actor=user,
                version=seen.version,
                today=TODAY,
                **_inputs(action, people),
            )
            failures.append(f"{where}: allowed, expected {expected}")
        except (PermissionDenied, Conflict) as exc:
            if not isinstance(exc, wanted):
                failures.append(f"{where}: {type(exc).__name__}, expected {expected}")
            elif not CHINESE_SENTENCE.search(str(exc)):
                failures.append(f"{where}: message is not a Chinese sentence: {exc}")
        if _snapshot(duty.pk) != before:
            failures.append(f"{where}: a refused action changed the duty")
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_it_lets_supervisors_read_and_urge_but_change_nothing(people):
    supervisor = _fresh_user(people["supervisor"])
    duty = _duty(people, state=State.IN_PROGRESS, root=False, action="urge")
    assert services.available_actions(supervisor, get_duty_or_404(supervisor, duty.pk)) == ["urge"]
    duty = services.duty_transition(
        duty=duty, action="urge", actor=supervisor, version=3, comment="请抓紧落实。"
    )
    assert duty.state == State.IN_PROGRESS and duty.version == 4
    assert DutyEvent.objects.filter(duty=duty, action="urge", comment="请抓紧落实。").exists()


@pytest.mark.django_db
def test_it_gives_the_outsider_404_for_any_duty(people):
    duty = _duty(people, state=State.ASSIGNED, root=True, action="accept")
    for key in ("other_secretary",):
        with pytest.raises(Http404):
            get_duty_or_404(_fresh_user(people[key]), duty.pk)
    outsider = _fresh_user(people["cast"].outsider)
    with pytest.raises(Http404):
        get_duty_or_404(outsider, duty.pk)
    assert not Duty.objects.visible_to(outsider).exists()


def test_it_covers_every_state_and_action_in_the_table_test():
    assert set(ALL_STATES) == {s.value for s in State}
    assert len(ALL_STATES) * len(EXPECTED) == 96
    assert TODAY < DUE < REQUESTED and DUE + timedelta(days=15) == REQUESTED
