"""The two workflow tables and the validity arithmetic (pure, no database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sizheng.volunteer import workflow as wf


def test_it_only_lets_the_committee_review_and_the_system_expire():
    assert wf.allowed(wf.APPLICATION_TRANSITIONS, wf.SUBMITTED, {wf.APPLICANT}) == []
    assert wf.allowed(wf.APPLICATION_TRANSITIONS, wf.SUBMITTED, {wf.REVIEWER}) == ["approve", "return"]
    assert wf.allowed(wf.APPLICATION_TRANSITIONS, wf.RETURNED, {wf.APPLICANT}) == ["submit"]
    assert wf.allowed(wf.APPLICATION_TRANSITIONS, wf.APPROVED, {wf.SYSTEM}) == ["expire"]
    assert wf.APPLICATION_TRANSITIONS["return"].needs == ("opinion",)


def test_it_refuses_unknown_actions_and_wrong_states():
    with pytest.raises(LookupError):
        wf.check(wf.ACTIVITY_TRANSITIONS, "delete", wf.OPEN)
    with pytest.raises(ValueError):
        wf.check(wf.ACTIVITY_TRANSITIONS, "open", wf.DONE)
    assert wf.check(wf.ACTIVITY_TRANSITIONS, "cancel", wf.OPEN).target == wf.CANCELLED


@given(
    st.sampled_from(sorted({wf.DRAFT, wf.SUBMITTED, wf.APPROVED, wf.RETURNED, wf.EXPIRED})),
    st.sampled_from(sorted(wf.APPLICATION_TRANSITIONS)),
)
def test_it_never_leaves_a_final_state_except_by_its_own_transition(state, action):
    t = wf.APPLICATION_TRANSITIONS[action]
    if state == wf.EXPIRED:
        with pytest.raises(ValueError):
            wf.check(wf.APPLICATION_TRANSITIONS, action, state)
    elif state in t.sources:
        assert wf.check(wf.APPLICATION_TRANSITIONS, action, state).target == t.target


@given(st.sampled_from(sorted({wf.DONE, wf.CANCELLED})), st.sampled_from(sorted(wf.ACTIVITY_TRANSITIONS)))
def test_it_never_reopens_a_finished_or_cancelled_activity(state, action):
    with pytest.raises(ValueError):
        wf.check(wf.ACTIVITY_TRANSITIONS, action, state)


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(min_value=1, max_value=5)
)
def test_it_gives_a_validity_of_whole_years_ending_the_day_before(start, years):
    valid_from, valid_until = wf.validity(start, years)
    assert valid_from == start and valid_until > start
    assert valid_until.year == start.year + years - (1 if (start.month, start.day) == (1, 1) else 0)
    nxt = valid_until + timedelta(days=1)
    assert nxt == wf.add_years(start, years)
    assert (nxt.month, nxt.day) == (start.month, start.day) or (start.month, start.day) == (2, 29)


def test_it_moves_a_leap_day_to_the_28th():
    assert wf.add_years(date(2024, 2, 29), 3) == date(2027, 2, 28)
    assert wf.validity(date(2024, 2, 29), 4) == (date(2024, 2, 29), date(2028, 2, 28))
