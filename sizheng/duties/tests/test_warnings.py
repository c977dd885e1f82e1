"""Blue / yellow / red warnings: boundaries on real calendars, and SQL agreeing with Python."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sizheng.core.workdays import DEFAULT as CALENDAR
from sizheng.duties import warnings
from sizheng.duties.models import AWAITING_OWNER, Duty, State
from sizheng.duties.warnings import BLUE, NONE, RED, YELLOW, warning_of, warning_q

AWAITING = sorted(AWAITING_OWNER)
NOT_AWAITING = [State.REPORTED, State.UNDER_REVIEW, State.CLOSED, State.CANCELLED]


def reference(state: str, due_on: date, today: date, blue_days: int = 5, yellow_days: int = 5) -> str:
    """The module docstring's definition, counted day by day."""
    if state not in AWAITING_OWNER:
        return NONE
    if due_on > today:
        return BLUE if CALENDAR.workdays_between(today, due_on) <= blue_days else NONE
    return YELLOW if CALENDAR.workdays_between(due_on, today) <= yellow_days else RED


# (today, due date, level): National Day 2026 (10/1–10/7 off, 9/20 Sunday and 10/10 Saturday worked),
# Mid-autumn 2026 (9/25–9/27 off), and 2027, which the package does not cover (weekends only).
CASES = [
    # Tuesday before the holidays: the next workdays are 9/30, 10/8, 10/9, 10/10 (Sat), 10/12.
    (date(2026, 9, 29), date(2026, 9, 30), BLUE),
    (date(2026, 9, 29), date(2026, 10, 12), BLUE),
    (date(2026, 9, 29), date(2026, 10, 13), NONE),
    (date(2026, 9, 29), date(2026, 10, 11), BLUE),  # a Sunday before the 6th workday
    (date(2026, 9, 29), date(2026, 9, 29), YELLOW),
    # Back: 9/28, 9/24 (Mid-autumn in between), 9/23, 9/22, 9/21 — then 9/20, a 调休 Sunday.
    (date(2026, 9, 29), date(2026, 9, 21), YELLOW),
    (date(2026, 9, 29), date(2026, 9, 20), RED),
    (date(2026, 9, 29), date(2026, 9, 19), RED),
    # The 调休 Saturday is a workday like any other.
    (date(2026, 10, 10), date(2026, 10, 16), BLUE),
    (date(2026, 10, 10), date(2026, 10, 17), BLUE),  # Saturday after the 5th workday, before the 6th
    (date(2026, 10, 10), date(2026, 10, 19), NONE),
    (date(2026, 10, 10), date(2026, 9, 28), YELLOW),  # 9/29, 9/30, 10/8, 10/9, 10/10: five
    (date(2026, 10, 10), date(2026, 9, 24), RED),
    # On a holiday: 10/8 is the first workday ahead; back, 9/30, 9/29, 9/28, 9/24, 9/23 are five.
    (date(2026, 10, 3), date(2026, 10, 8), BLUE),
    (date(2026, 10, 3), date(2026, 10, 13), BLUE),
    (date(2026, 10, 3), date(2026, 10, 14), NONE),
    (date(2026, 10, 3), date(2026, 10, 3), YELLOW),
    (date(2026, 10, 3), date(2026, 9, 30), YELLOW),
    (date(2026, 10, 3), date(2026, 9, 22), YELLOW),
    (date(2026, 10, 3), date(2026, 9, 21), RED),
    # 2027: 10/1 is a plain Friday under the weekends-only fallback.
    (date(2027, 10, 1), date(2027, 10, 8), BLUE),
    (date(2027, 10, 1), date(2027, 10, 10), BLUE),
    (date(2027, 10, 1), date(2027, 10, 11), NONE),
    (date(2027, 10, 1), date(2027, 9, 24), YELLOW),
    (date(2027, 10, 1), date(2027, 9, 23), RED),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("today", "due_on", "level"), CASES)
def test_it_sets_the_warning_boundaries_on_the_real_calendar(today, due_on, level):
    assert reference(State.IN_PROGRESS, due_on, today) == level  # the table itself is right
    for state in AWAITING:
        assert warning_of(state, due_on, today) == level
    for state in NOT_AWAITING:
        assert warning_of(state, due_on, today) == NONE


@pytest.mark.django_db
def test_it_takes_the_thresholds_from_settings(settings):
    settings.DUTY_WARNING_BLUE_DAYS = 2
    settings.DUTY_WARNING_YELLOW_DAYS = 1
    today = date(2026, 9, 29)
    assert warning_of(State.ASSIGNED, date(2026, 10, 8), today) == BLUE
    assert warning_of(State.ASSIGNED, date(2026, 10, 9), today) == NONE
    assert warning_of(State.ASSIGNED, date(2026, 9, 28), today) == YELLOW
    assert warning_of(State.ASSIGNED, date(2026, 9, 24), today) == RED


@pytest.mark.django_db
@settings(max_examples=300, deadline=None)
@given(
    today=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    offset=st.integers(-30, 30),
    state=st.sampled_from(AWAITING + NOT_AWAITING),
)
def test_it_matches_the_day_by_day_definition(today, offset, state):
    due_on = today + timedelta(days=offset)
    assert warning_of(state, due_on, today) == reference(state, due_on, today)


@pytest.fixture
def org(db):
    from sizheng.org.models import Org
    from sizheng.org.testing import make_org

    return make_org("市直机关工委", Org.Kind.WORK_COMMITTEE, None, "W-ROOT")


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    today=st.sampled_from([date(2026, 9, 29), date(2026, 10, 3), date(2026, 10, 10), date(2027, 10, 1)]),
    duties=st.lists(st.tuples(st.sampled_from(AWAITING + NOT_AWAITING), st.integers(-25, 25)), max_size=25),
)
def test_it_selects_in_sql_what_it_computes_in_python(org, today, duties):
    with transaction.atomic():
        rows = Duty.objects.bulk_create(
            Duty(title="x", assignee_org=org, assigning_org=org, state=s, due_on=today + timedelta(days=k))
            for s, k in duties
        )
        ids = {d.pk for d in rows}
        for level in (BLUE, YELLOW, RED, NONE):
            in_sql = set(
                Duty.objects.filter(pk__in=ids).filter(warning_q(level, today)).values_list("pk", flat=True)
            )
            in_python = {d.pk for d in rows if warning_of(d.state, d.due_on, today) == level}
            assert in_sql == in_python, level
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_it_selects_through_a_relation_with_a_prefix(org):
    from sizheng.duties.models import DutyEvent

    today = date(2026, 10, 10)
    red = Duty.objects.create(title="x", assignee_org=org, assigning_org=org, due_on=date(2026, 9, 1))
    blue = Duty.objects.create(title="y", assignee_org=org, assigning_org=org, due_on=date(2026, 10, 12))
    DutyEvent.objects.create(duty=red, action="open")
    DutyEvent.objects.create(duty=blue, action="open")
    assert DutyEvent.objects.filter(warning_q(RED, today, prefix="duty__")).get().duty == red
    assert DutyEvent.objects.filter(warning_q(BLUE, today, prefix="duty__")).get().duty == blue


@pytest.mark.django_db
def test_it_refuses_an_unknown_level():
    with pytest.raises(ValueError):
        warning_q("purple", date(2026, 1, 5))


@pytest.mark.django_db
def test_it_uses_the_frozen_day_for_today():
    with time_machine.travel(datetime(2026, 10, 9, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        today = timezone.localdate()
        assert today == date(2026, 10, 9)
        b = warnings.bounds(today)
        # 10/10 (调休 Saturday), 10/12, 10/13, 10/14, 10/15 ahead; the 6th is 10/16.
        assert b.blue_until == date(2026, 10, 15)
        # 10/9, 10/8, 9/30, 9/29, 9/28 are five; the 6th on or before today is 9/24.
        assert b.yellow_from == date(2026, 9, 24)
        assert warning_of(State.RETURNED, date(2026, 9, 24), today) == YELLOW
        assert warning_of(State.RETURNED, date(2026, 9, 23), today) == RED
