"""The duties demo: every simulated life follows the workflow table, and the city's two years of
duties have realistic outcomes, consistent timelines and warnings to show today."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from sizheng.core import demo as core_demo
from sizheng.core.models import AuditEvent, Notification
from sizheng.duties import warnings
from sizheng.duties.demo import OUTCOMES, demo_duties, lifecycle, pick_outcome, plan_specs, replay
from sizheng.duties.models import OPEN_STATES, Campaign, Duty, DutyEvent, DutyList
from sizheng.org.demo import demo_city
from sizheng.org.models import Org

OUTCOME_NAMES = [name for name, _ in OUTCOMES] + ["on_time"]


def _weekdays(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def _add_weekdays(d: date, n: int) -> date:
    """A weekends-only calendar, like ``Calendar.add_workdays``."""
    d = _weekdays(d) if n == 0 else d
    step = 1 if n > 0 else -1
    for _ in range(abs(n)):
        d += timedelta(days=step)
        while d.weekday() >= 5:
            d += timedelta(days=step)
    return d


# --- one life (pure) -------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    opened=st.dates(date(2024, 1, 1), date(2027, 12, 31)),
    days=st.integers(0, 400),
    outcome=st.sampled_from(OUTCOME_NAMES),
)
def test_it_draws_lives_the_workflow_table_allows(seed, opened, days, outcome):
    opened = _weekdays(opened)
    due = _weekdays(opened + timedelta(days=days))
    steps = lifecycle(random.Random(seed), opened=opened, due=due, outcome=outcome, workday=_weekdays)
    assert steps[0].action == "open" and steps[-1].action in ("pass", "cancel")
    assert all(a.at < b.at and a.day <= b.day for a, b in zip(steps, steps[1:], strict=False))
    assert all(s.day.weekday() < 5 for s in steps)
    for n in range(1, len(steps) + 1):  # a life cut at any moment is a valid duty
        fields = replay(steps[:n], due)
        assert fields["version"] == n
        assert fields["is_late"] == bool(fields["late_reason"])
        if fields["is_late"]:
            assert fields["reported_on"] > fields["due_on"]
    final = replay(steps, due)
    assert final["state"] == ("cancelled" if outcome == "cancelled" else "closed")
    assert final["requested_due_on"] is None
    if outcome == "returned":
        assert final["returns"] == 1
    if outcome in ("late", "stalled"):
        assert final["is_late"] and final["late_reason"]
    if outcome == "extended" and any(s.action == "approve_extension" for s in steps):
        assert final["due_on"] > due


def test_it_refuses_a_step_the_table_does_not_allow():
    steps = lifecycle(random.Random(1), opened=date(2026, 3, 2), due=date(2026, 4, 1), outcome="on_time")
    with pytest.raises(ValueError, match="not allowed"):
        replay([steps[0], steps[3]], date(2026, 4, 1))  # open, then report before accept and start
    with pytest.raises(ValueError, match="starts with open"):
        replay(steps[1:], date(2026, 4, 1))


def test_it_draws_the_outcomes_in_their_shares():
    rng = random.Random(3)
    counts = Counter(pick_outcome(rng) for _ in range(20000))
    for name, share in OUTCOMES:
        assert abs(counts[name] / 20000 - share) < 0.01
    assert counts["on_time"] > 20000 * 0.6


def _orgs():
    root = {
        "id": 1,
        "parent_id": None,
        "depth": 0,
        "kind": "work_committee",
        "founded_on": None,
        "dissolved_on": None,
    }
    unit = {
        "id": 2,
        "parent_id": 1,
        "depth": 1,
        "kind": "committee",
        "founded_on": None,
        "dissolved_on": None,
    }
    lg = {
        "id": 3,
        "parent_id": 1,
        "depth": 1,
        "kind": "leading_group",
        "founded_on": None,
        "dissolved_on": None,
    }
    branch = {"id": 4, "parent_id": 2, "depth": 2, "kind": "branch", "founded_on": None, "dissolved_on": None}
    gone = {"id": 5, "parent_id": 1, "depth": 1, "kind": "branch", "founded_on": None,
            "dissolved_on": date(2025, 6, 1)}  # fmt: skip
    return [root, unit, lg, branch, gone]


def test_it_plans_the_same_specs_for_the_same_seed_and_nothing_after_today():
    today = date(2026, 11, 27)
    first = plan_specs(random.Random(9), _orgs(), 1, today, _add_weekdays)
    assert first == plan_specs(random.Random(9), _orgs(), 1, today, _add_weekdays)
    assert first != plan_specs(random.Random(10), _orgs(), 1, today, _add_weekdays)
    lists, campaigns, specs = first
    assert [(org, year) for org, year, _ in lists] == [(2, 2025), (5, 2025), (2, 2026)]
    assert all(s.opened <= today for s in specs) and all(
        launched <= today for _, _, launched, _, _ in campaigns
    )
    assert {s.org_id for s in specs} == {2, 4, 5}  # never the 党组, never the root
    assert all(s.due < date(2025, 6, 1) for s in specs if s.org_id == 5)
    assert {s.assigning_id for s in specs if s.org_id == 4} == {2}  # branches get theirs from the committee


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), today=st.dates(date(2025, 1, 1), date(2027, 12, 31)))
def test_it_shows_every_warning_on_any_day(seed, today):
    rng = random.Random(seed)
    _, _, specs = plan_specs(rng, _orgs(), 1, today, _add_weekdays)
    now = datetime.combine(today, time(23, 59), tzinfo=UTC)
    b = warnings.Bounds(blue_until=_add_weekdays(today, 5), today=today, yellow_from=_add_weekdays(today, -5))
    shown = set()
    for spec in specs:
        life = lifecycle(rng, opened=spec.opened, due=spec.due, outcome=spec.outcome, workday=_weekdays)
        life = [s for s in life if s.at <= now]
        if life:
            fields = replay(life, spec.due)
            shown.add(warnings.warning_of(fields["state"], fields["due_on"], today, b))
    assert {warnings.RED, warnings.YELLOW, warnings.BLUE} <= shown


# --- the city (database) ---------------------------------------------------------------------

NOW = "2026-11-27 15:00 +0800"  # a Friday


@pytest.fixture
def generated(db, settings):
    settings.DEMO = True
    with time_machine.travel(NOW, tick=False):
        ctx = core_demo.DemoContext(scale=0.1, seed=11, rng=random.Random(11), log=lambda _m: None)
        demo_city(ctx)
        ctx.rng = random.Random("11:duties.history")
        demo_duties(ctx)
        yield ctx


def test_it_gives_each_unit_org_a_list_for_both_years(generated):
    unit_orgs = Org.objects.filter(depth=1).exclude(kind=Org.Kind.LEADING_GROUP)
    for org in unit_orgs:
        if org.dissolved_on is None:
            assert set(DutyList.objects.filter(org=org).values_list("year", flat=True)) == {2025, 2026}
    assert not Duty.objects.filter(assignee_org__kind=Org.Kind.LEADING_GROUP).exists()
    assert (
        Campaign.objects.exists()
        and Duty.objects.filter(source_kind="campaign", campaign__isnull=False).exists()
    )
    assert set(Duty.objects.values_list("source_kind", flat=True)) >= {"template", "campaign", "manual"}


def test_it_writes_realistic_outcomes(generated):
    last_year = Duty.objects.filter(due_on__year=2025)
    total = last_year.count()
    closed = last_year.filter(state="closed")
    assert closed.count() > total * 0.75
    assert closed.filter(is_late=False).count() > total * 0.6
    late = closed.filter(is_late=True)
    assert late.exists() and not late.filter(late_reason="").exists()
    assert closed.filter(returns=1).exists()
    assert last_year.filter(state="cancelled").exists()
    assert DutyEvent.objects.filter(action="approve_extension").exists()
    assert DutyEvent.objects.filter(action="urge").exists()


def test_it_leaves_this_years_duties_open_in_every_state_with_warnings_today(generated):
    with time_machine.travel(NOW, tick=False):
        today = timezone.localdate()
        states = set(Duty.objects.filter(state__in=OPEN_STATES).values_list("state", flat=True))
        assert {"assigned", "accepted", "in_progress"} <= states and states & {"reported", "under_review"}
        for level in (warnings.RED, warnings.YELLOW, warnings.BLUE):
            assert Duty.objects.filter(warnings.warning_q(level, today)).exists(), level


def test_it_keeps_each_timeline_consistent_with_its_duty(generated):
    now = timezone.now()
    events: dict[int, list] = {}
    for e in DutyEvent.objects.order_by("at", "id"):
        events.setdefault(e.duty_id, []).append(e)
    for duty in Duty.objects.all():
        timeline = events[duty.pk]
        assert timeline[0].action == "open" and timeline[0].at == duty.created_at
        assert len(timeline) == duty.version
        assert timeline[-1].to_state == duty.state
        assert all(a.to_state == b.from_state for a, b in zip(timeline, timeline[1:], strict=False))
        assert all(e.at <= now for e in timeline)
    assert not DutyEvent.objects.filter(at__gt=timezone.now()).exists()
    # Closed duties were reported and passed; a report after the deadline is marked late.
    assert not Duty.objects.filter(state="closed", closed_on__isnull=True).exists()
    for duty in Duty.objects.filter(reported_on__isnull=False):
        assert duty.is_late == (duty.reported_on > duty.due_on)


def test_it_sends_nothing_and_audits_nothing_for_history(generated):
    assert not Notification.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="duty_").exists()


def test_it_does_not_duplicate_anything_when_run_twice(generated):
    before = (Duty.objects.count(), DutyEvent.objects.count(), DutyList.objects.count())
    demo_duties(generated)
    assert (Duty.objects.count(), DutyEvent.objects.count(), DutyList.objects.count()) == before
