"""Tests of the pure workday calendar: 2026 holidays and 调休, uncovered years, overrides."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sizheng.core.workdays import DEFAULT, PACKAGE_YEARS, Calendar

# 2026 (from the package): 春节 2-15..2-23 off, Sat 2-14 and Sat 2-28 worked;
# 国庆/中秋 10-1..10-7 off, Sun 9-20 and Sat 10-10 worked.
SPRING_EVE = date(2026, 2, 13)  # Friday
SPRING_MAKEUP = date(2026, 2, 14)  # Saturday, 调休 workday
SPRING_BACK = date(2026, 2, 24)  # Tuesday, first workday after the holiday


def test_it_reads_the_covered_years_from_the_package() -> None:
    assert 2026 in PACKAGE_YEARS
    assert 2027 not in PACKAGE_YEARS
    assert DEFAULT.covered(2026)
    assert not DEFAULT.covered(2027)
    assert DEFAULT.uncovered_years([2027, 2026, 2027, 2030]) == [2027, 2030]


def test_it_knows_the_2026_spring_festival_and_its_makeup_saturday() -> None:
    assert DEFAULT.is_workday(SPRING_MAKEUP)
    assert not DEFAULT.is_workday(date(2026, 2, 16))  # Monday in the holiday
    assert DEFAULT.is_workday(date(2026, 2, 28))  # Saturday 调休
    assert DEFAULT.add_workdays(SPRING_EVE, 1) == SPRING_MAKEUP
    assert DEFAULT.add_workdays(SPRING_EVE, 2) == SPRING_BACK
    assert DEFAULT.add_workdays(SPRING_BACK, -1) == SPRING_MAKEUP
    assert DEFAULT.next_workday(SPRING_MAKEUP) == SPRING_BACK
    assert DEFAULT.workdays_between(SPRING_EVE, SPRING_BACK) == 2


def test_it_knows_the_2026_national_day_and_its_makeup_days() -> None:
    assert DEFAULT.is_workday(date(2026, 9, 20))  # Sunday 调休
    assert DEFAULT.is_workday(date(2026, 10, 10))  # Saturday 调休
    assert not DEFAULT.is_workday(date(2026, 10, 5))  # Monday in the holiday
    assert DEFAULT.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    # 10-8 Thu, 10-9 Fri, 10-10 Sat (调休), 10-12 Mon
    assert DEFAULT.add_workdays(date(2026, 9, 30), 4) == date(2026, 10, 12)


def test_it_counts_weekends_only_in_an_uncovered_year() -> None:
    friday = date(2027, 1, 1)  # New Year's Day 2027, unknown to the package
    assert DEFAULT.is_workday(friday)
    assert not DEFAULT.is_workday(date(2027, 1, 2))
    assert DEFAULT.add_workdays(friday, 1) == date(2027, 1, 4)
    assert DEFAULT.workdays_between(date(2027, 1, 1), date(2027, 1, 8)) == 5


def test_it_lets_overrides_win_over_the_package_and_weekends() -> None:
    cal = Calendar({date(2027, 1, 1): False, date(2026, 2, 16): True, date(2026, 2, 14): False})
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2026, 2, 16))
    assert not cal.is_workday(date(2026, 2, 14))
    assert cal.covered(2027)
    assert cal.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)


def test_it_returns_the_day_itself_or_the_next_workday_for_zero() -> None:
    assert DEFAULT.add_workdays(SPRING_EVE, 0) == SPRING_EVE
    assert DEFAULT.add_workdays(date(2026, 2, 15), 0) == SPRING_BACK
    assert DEFAULT.add_workdays(date(2027, 1, 2), 0) == date(2027, 1, 4)


def test_it_counts_backwards_as_negative_steps() -> None:
    assert DEFAULT.workdays_between(SPRING_BACK, SPRING_EVE) == -2
    assert DEFAULT.workdays_between(SPRING_EVE, SPRING_EVE) == 0


def test_it_keeps_overrides_read_only() -> None:
    cal = Calendar({date(2027, 1, 1): False})
    with pytest.raises(TypeError):
        cal.overrides[date(2027, 1, 1)] = True  # type: ignore[index]


# --- properties ----------------------------------------------------------------------------

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
overrides_st = st.dictionaries(days, st.booleans(), max_size=20)
steps = st.integers(min_value=1, max_value=60)


@settings(max_examples=150)
@given(overrides_st, days, st.integers(min_value=-60, max_value=60).filter(bool))
def test_it_always_lands_on_a_workday(overrides: dict[date, bool], d: date, n: int) -> None:
    cal = Calendar(overrides)
    assert cal.is_workday(cal.add_workdays(d, n))
    assert cal.is_workday(cal.add_workdays(d, 0))


@settings(max_examples=150)
@given(overrides_st, days, steps)
def test_it_inverts_add_workdays_with_workdays_between(overrides: dict[date, bool], d: date, n: int) -> None:
    cal = Calendar(overrides)
    assert cal.workdays_between(d, cal.add_workdays(d, n)) == n
    assert cal.workdays_between(d, cal.add_workdays(d, -n)) == -n


@settings(max_examples=150)
@given(overrides_st, days, days, steps)
def test_it_is_monotonic(overrides: dict[date, bool], a: date, b: date, n: int) -> None:
    cal = Calendar(overrides)
    lo, hi = min(a, b), max(a, b)
    assert cal.add_workdays(lo, n) <= cal.add_workdays(hi, n)
    assert cal.add_workdays(lo, n) < cal.add_workdays(lo, n + 1)
    assert cal.add_workdays(lo, n) > lo
    assert cal.workdays_between(lo, hi) >= 0


@settings(max_examples=100)
@given(days, st.integers(min_value=0, max_value=400))
def test_it_counts_a_range_as_the_sum_of_its_days(d: date, length: int) -> None:
    end = d + timedelta(days=length)
    by_hand = sum(DEFAULT.is_workday(d + timedelta(days=i)) for i in range(1, length + 1))
    assert DEFAULT.workdays_between(d, end) == by_hand


@given(st.dates(min_value=date(PACKAGE_YEARS.stop, 1, 1), max_value=date(2099, 12, 31)))
def test_it_treats_uncovered_years_as_weekends_only(d: date) -> None:
    assert DEFAULT.is_workday(d) == (d.weekday() < 5)
