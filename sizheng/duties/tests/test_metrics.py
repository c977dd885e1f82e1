"""The duties metrics on known numbers, read back from the timeline, in O(1) queries."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sizheng.core import metrics as registry
from sizheng.core.metrics import Consumer, Suppressed, Tier
from sizheng.core.rules import Period
from sizheng.duties import metrics  # noqa: F401  (registers the metrics)
from sizheng.duties.models import Duty, DutyEvent, State
from sizheng.org.testing import org_targets

TZ = ZoneInfo("Asia/Shanghai")
Q3 = Period.of("quarter", 2026, 3)
NAMES = ["duties.on_time_rate", "duties.overdue_count", "duties.return_rate", "duties.mean_days_to_close"]


def _at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


def _duty(org, *, created: date, due: date, state: str = State.ASSIGNED, **fields) -> Duty:
    return Duty.objects.create(
        title="事项", assignee_org=org, assigning_org=org.parent or org, created_at=_at(created, 9),
        due_on=due, state=state, **fields,
    )  # fmt: skip


def _events(duty: Duty, *steps) -> None:
    """Timeline rows: (moment, action, to_state[, payload])."""
    for at, action, to_state, *payload in steps:
        DutyEvent.objects.create(
            duty=duty, at=at, action=action, to_state=to_state, payload=(payload or [{}])[0]
        )


def _compute(name: str, targets, period) -> dict:
    return registry.compute(name, targets, period, consumer=Consumer.ASSESSMENT)


def test_it_declares_four_t0_org_metrics():
    for name in NAMES:
        m = registry.get(name)
        assert (m.tier, m.level) == (Tier.T0, "org") and m.label and m.description
    assert registry.get("duties.on_time_rate").higher_is_better
    assert not registry.get("duties.overdue_count").higher_is_better


@pytest.fixture
def closed(cast):
    """Branch A1 closes three duties in Q3 2026 (two on time), and one each side of the quarter."""
    a1 = cast.branch_a1
    closed_kw = {"state": State.CLOSED}
    # 7 workdays: 7/2, 7/3, 7/6 … 7/10; reported the day before the due date.
    _duty(a1, created=date(2026, 7, 1), due=date(2026, 7, 9), reported_on=date(2026, 7, 8),
          closed_on=date(2026, 7, 10), **closed_kw)  # fmt: skip
    # 13 workdays; reported late.
    _duty(a1, created=date(2026, 8, 3), due=date(2026, 8, 14), reported_on=date(2026, 8, 19),
          closed_on=date(2026, 8, 20), is_late=True, **closed_kw)  # fmt: skip
    # 6 workdays across Mid-autumn (9/25–9/27 off): 9/22, 9/23, 9/24, 9/28, 9/29, 9/30; reported on the day.
    _duty(a1, created=date(2026, 9, 21), due=date(2026, 9, 30), reported_on=date(2026, 9, 30),
          closed_on=date(2026, 9, 30), **closed_kw)  # fmt: skip
    # Outside the quarter, cancelled, or another org's: none of these count.
    _duty(a1, created=date(2026, 9, 1), due=date(2026, 10, 9), reported_on=date(2026, 9, 3),
          closed_on=date(2026, 10, 9), **closed_kw)  # fmt: skip
    _duty(a1, created=date(2026, 6, 1), due=date(2026, 6, 30), reported_on=date(2026, 6, 3),
          closed_on=date(2026, 6, 30), **closed_kw)  # fmt: skip
    _duty(a1, created=date(2026, 7, 1), due=date(2026, 7, 9), state=State.CANCELLED)
    _duty(cast.branch_b1, created=date(2026, 7, 1), due=date(2026, 7, 9), reported_on=date(2026, 7, 20),
          closed_on=date(2026, 7, 21), **closed_kw)  # fmt: skip
    return cast


@pytest.mark.django_db
def test_it_computes_the_on_time_rate(closed):
    values = _compute(
        "duties.on_time_rate", [closed.branch_a1.pk, closed.branch_a2.pk, closed.branch_b1.pk], Q3
    )
    assert values[closed.branch_a1.pk] == 66.7
    assert values[closed.branch_b1.pk] == 0.0
    assert isinstance(values[closed.branch_a2.pk], Suppressed)
    assert values[closed.branch_a2.pk].reason.startswith("本期没有")
    year = _compute("duties.on_time_rate", [closed.branch_a1.pk], Period.of("year", 2026))
    assert year[closed.branch_a1.pk] == 80.0  # 4 of 5 closed in 2026


@pytest.mark.django_db
def test_it_computes_the_mean_workdays_to_close(closed):
    values = _compute("duties.mean_days_to_close", [closed.branch_a1.pk, closed.branch_a2.pk], Q3)
    assert values[closed.branch_a1.pk] == round((7 + 13 + 6) / 3, 1) == 8.7
    assert isinstance(values[closed.branch_a2.pk], Suppressed)


@pytest.mark.django_db
def test_it_counts_workdays_to_close_across_new_year_and_its_sunday_workday(cast):
    # Opened 2025-12-30, closed 2026-01-05: 12/31, 1/4 (a Sunday worked), 1/5; 1/1–1/3 off.
    _duty(cast.branch_a2, created=date(2025, 12, 30), due=date(2026, 1, 9), reported_on=date(2026, 1, 5),
          closed_on=date(2026, 1, 5), state=State.CLOSED)  # fmt: skip
    values = _compute("duties.mean_days_to_close", [cast.branch_a2.pk], Period.of("month", 2026, 1))
    assert values[cast.branch_a2.pk] == 3.0


@pytest.mark.django_db
def test_it_computes_the_return_rate_from_the_timeline(cast):
    a1, a2 = cast.branch_a1, cast.branch_a2
    one = _duty(a1, created=date(2026, 6, 1), due=date(2026, 9, 30))
    two = _duty(a1, created=date(2026, 6, 1), due=date(2026, 9, 30))
    _events(
        one,
        (_at(date(2026, 6, 30), 23, 59), "report", State.REPORTED),  # before the quarter
        (_at(date(2026, 7, 1), 0, 1), "return", State.RETURNED),
        (_at(date(2026, 7, 20)), "report", State.REPORTED),
        (_at(date(2026, 7, 22)), "pass", State.CLOSED),
    )
    _events(
        two,
        (_at(date(2026, 8, 1)), "report", State.REPORTED),
        (_at(date(2026, 8, 5)), "return", State.RETURNED),
        (_at(date(2026, 9, 30), 23, 30), "report", State.REPORTED),
        (_at(date(2026, 10, 1), 0, 10), "return", State.RETURNED),  # after the quarter
    )
    # Only a return in A2's quarter, no report: nothing to divide by.
    three = _duty(a2, created=date(2026, 6, 1), due=date(2026, 9, 30))
    _events(
        three,
        (_at(date(2026, 6, 29)), "report", State.REPORTED),
        (_at(date(2026, 7, 2)), "return", State.RETURNED),
    )
    values = _compute("duties.return_rate", [a1.pk, a2.pk, cast.branch_b1.pk], Q3)
    assert values[a1.pk] == round(100 * 2 / 3, 1) == 66.7  # returns 7/1 and 8/5; reports 7/20, 8/1, 9/30
    assert isinstance(values[a2.pk], Suppressed) and isinstance(values[cast.branch_b1.pk], Suppressed)


@pytest.fixture
def overdue(cast):
    """Branch A1's duties around the end of Q3 2026 (9/30), each with its timeline."""
    a1 = cast.branch_a1
    d = {}
    # Accepted and overdue at 9/30, still open now.
    d["accepted"] = _duty(a1, created=date(2026, 9, 1), due=date(2026, 9, 15), state=State.ACCEPTED)
    _events(d["accepted"], (_at(date(2026, 9, 1)), "open", State.ASSIGNED),
            (_at(date(2026, 9, 2)), "accept", State.ACCEPTED))  # fmt: skip
    # Reported by 9/30 (closed later): not awaiting the owner at the period's end.
    d["reported"] = _duty(a1, created=date(2026, 9, 1), due=date(2026, 9, 15), state=State.CLOSED)
    _events(d["reported"], (_at(date(2026, 9, 1)), "open", State.ASSIGNED),
            (_at(date(2026, 9, 20)), "report", State.REPORTED), (_at(date(2026, 10, 10)), "pass", State.CLOSED))  # fmt: skip
    # Still assigned at 9/30 and closed only in October: overdue at the period's end all the same.
    d["closed_later"] = _duty(a1, created=date(2026, 9, 1), due=date(2026, 9, 15), state=State.CLOSED)
    _events(d["closed_later"], (_at(date(2026, 9, 1)), "open", State.ASSIGNED),
            (_at(date(2026, 10, 5)), "report", State.REPORTED), (_at(date(2026, 10, 9)), "pass", State.CLOSED))  # fmt: skip
    # Due on the period's last day: due, not yet overdue.
    d["due_that_day"] = _duty(a1, created=date(2026, 9, 1), due=date(2026, 9, 30))
    _events(d["due_that_day"], (_at(date(2026, 9, 1)), "open", State.ASSIGNED))
    # Extended in October from 9/20 to 10/30: overdue at 9/30 by the due date then in force.
    d["extended_later"] = _duty(a1, created=date(2026, 9, 1), due=date(2026, 10, 30))
    _events(d["extended_later"], (_at(date(2026, 9, 1)), "open", State.ASSIGNED),
            (_at(date(2026, 10, 8)), "approve_extension", State.ASSIGNED,
             {"old_due_on": "2026-09-20", "new_due_on": "2026-10-30"}))  # fmt: skip
    # Extended in September from 9/10 to 10/20: not overdue at 9/30 (but overdue in November).
    d["extended_before"] = _duty(a1, created=date(2026, 9, 1), due=date(2026, 10, 20))
    _events(d["extended_before"], (_at(date(2026, 9, 1)), "open", State.ASSIGNED),
            (_at(date(2026, 9, 25)), "approve_extension", State.ASSIGNED,
             {"old_due_on": "2026-09-10", "new_due_on": "2026-10-20"}))  # fmt: skip
    # Opened after the period.
    d["opened_later"] = _duty(a1, created=date(2026, 10, 2), due=date(2026, 10, 5))
    _events(d["opened_later"], (_at(date(2026, 10, 2)), "open", State.ASSIGNED))
    # No timeline at all (bulk-loaded): counted in its current state.
    d["no_events"] = _duty(a1, created=date(2026, 8, 1), due=date(2026, 9, 1), state=State.IN_PROGRESS)
    # Returned on 9/25, due 9/10.
    d["returned"] = _duty(a1, created=date(2026, 8, 1), due=date(2026, 9, 10), state=State.RETURNED)
    _events(d["returned"], (_at(date(2026, 8, 1)), "open", State.ASSIGNED),
            (_at(date(2026, 9, 8)), "report", State.REPORTED), (_at(date(2026, 9, 25)), "return", State.RETURNED))  # fmt: skip
    # Cancelled in September.
    d["cancelled"] = _duty(a1, created=date(2026, 8, 1), due=date(2026, 9, 10), state=State.CANCELLED)
    _events(d["cancelled"], (_at(date(2026, 8, 1)), "open", State.ASSIGNED),
            (_at(date(2026, 9, 20)), "cancel", State.CANCELLED))  # fmt: skip
    # Due yesterday and today, seen from 11/20.
    d["due_yesterday"] = _duty(a1, created=date(2026, 11, 2), due=date(2026, 11, 19))
    d["due_today"] = _duty(a1, created=date(2026, 11, 2), due=date(2026, 11, 20))
    return cast


@pytest.mark.django_db
def test_it_counts_what_was_overdue_at_the_end_of_a_past_period(overdue):
    a1, a2 = overdue.branch_a1.pk, overdue.branch_a2.pk
    with time_machine.travel(_at(date(2026, 11, 20)), tick=False):
        values = _compute("duties.overdue_count", [a1, a2], Q3)
    # accepted, closed_later, extended_later, no_events, returned
    assert values == {a1: 5, a2: 0}


@pytest.mark.django_db
def test_it_counts_what_is_overdue_today_in_the_current_period(overdue):
    a1 = overdue.branch_a1.pk
    with time_machine.travel(_at(date(2026, 11, 20)), tick=False):
        values = _compute("duties.overdue_count", [a1], Period.of("quarter", 2026, 4))
        future = _compute("duties.overdue_count", [a1], Period.of("quarter", 2027, 1))
    # accepted, due_that_day, extended_later, extended_before, opened_later, no_events, returned, due_yesterday
    assert values == {a1: 8}
    assert isinstance(future[a1], Suppressed)


@pytest.mark.django_db
def test_it_keeps_a_past_periods_overdue_count_when_duties_move_on_later(overdue):
    a1 = overdue.branch_a1.pk
    with time_machine.travel(_at(date(2026, 11, 20)), tick=False):
        before = _compute("duties.overdue_count", [a1], Q3)[a1]
        accepted = Duty.objects.get(assignee_org_id=a1, state=State.ACCEPTED)
        Duty.objects.filter(pk=accepted.pk).update(state=State.CLOSED)
        _events(accepted, (_at(date(2026, 11, 20), 9), "pass", State.CLOSED))
        assert _compute("duties.overdue_count", [a1], Q3)[a1] == before
        assert _compute("duties.overdue_count", [a1], Period.of("quarter", 2026, 4))[a1] == 7


@pytest.mark.django_db
@pytest.mark.parametrize("name", NAMES)
def test_it_computes_each_metric_in_the_same_queries_for_1_and_50_orgs(closed, name):
    one = [closed.branch_a1.pk]
    fifty = one + org_targets(49)
    with time_machine.travel(_at(date(2026, 11, 20)), tick=False):
        _compute(name, one, Q3)  # the workday calendar is loaded once per process, not per target
        with CaptureQueriesContext(connection) as q1:
            _compute(name, one, Q3)
        with CaptureQueriesContext(connection) as q50:
            values = _compute(name, fifty, Q3)
    assert len(q1.captured_queries) == len(q50.captured_queries) == 1
    assert set(values) == set(fifty)
