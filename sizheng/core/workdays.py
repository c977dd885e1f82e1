"""Chinese workdays, pure (no Django): official holidays and 调休 from chinesecalendar, plus overrides.

Which day is a workday, in order of precedence:

1. an override passed in (the administrators' 节假日与调休 table): True = workday, False = holiday;
2. for a year the chinesecalendar package covers: its 调休 workdays and its holidays;
3. otherwise Monday–Friday. A year the package does not cover and no override mentions
   (e.g. 2027 with chinesecalendar 1.11.0) is never an error for users; the Django layer
   (``core.calendar.calendar_warnings``) tells administrators to enter its arrangement.

The covered years are read from the package itself (its ``holidays`` table spans them),
the same test the package applies before raising NotImplementedError.

Conventions: :meth:`Calendar.add_workdays` with ``n > 0`` returns the n-th workday strictly
after ``d`` (``d`` itself need not be a workday), with ``n < 0`` the |n|-th workday strictly
before ``d``, and with ``n == 0`` ``d`` itself if it is a workday, else the next one (a
deadline "on the day" that falls on a holiday moves to the next workday).
:meth:`Calendar.workdays_between` counts the steps of that walk: the workdays in (a, b] when
a <= b, and minus the workdays in [b, a) when b < a, so that
``workdays_between(d, add_workdays(d, n)) == n`` for every n != 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from types import MappingProxyType

import chinese_calendar

_PACKAGE_HOLIDAYS: Mapping[date, object] = chinese_calendar.holidays
_PACKAGE_WORKDAYS: Mapping[date, object] = chinese_calendar.workdays
# The package validates a date against the span of its holiday table; read it the same way.
PACKAGE_YEARS: range = range(min(_PACKAGE_HOLIDAYS).year, max(_PACKAGE_HOLIDAYS).year + 1)

_ONE_DAY = timedelta(days=1)
_EMPTY: Mapping[date, bool] = MappingProxyType({})


class Calendar:
    """Workday arithmetic over the package's arrangement plus administrator overrides."""

    __slots__ = ("_override_years", "_overrides")

    def __init__(self, overrides: Mapping[date, bool] = _EMPTY) -> None:
        """Build a calendar; ``overrides`` map a day to True (workday) or False (holiday)."""
        self._overrides: dict[date, bool] = {d: bool(v) for d, v in overrides.items()}
        self._override_years: frozenset[int] = frozenset(d.year for d in self._overrides)

    @property
    def overrides(self) -> Mapping[date, bool]:
        """The overrides, read-only."""
        return MappingProxyType(self._overrides)

    def covered(self, year: int) -> bool:
        """Whether the year's holiday arrangement is known: from the package or from an override."""
        return year in PACKAGE_YEARS or year in self._override_years

    def uncovered_years(self, years: Iterable[int]) -> list[int]:
        """The given years (sorted, once each) whose arrangement is not known."""
        return sorted({y for y in years if not self.covered(y)})

    def is_workday(self, d: date) -> bool:
        """Whether people work on day ``d``."""
        override = self._overrides.get(d)
        if override is not None:
            return override
        if d.year in PACKAGE_YEARS:
            if d in _PACKAGE_WORKDAYS:
                return True
            if d in _PACKAGE_HOLIDAYS:
                return False
        return d.weekday() < 5

    def next_workday(self, d: date) -> date:
        """The first workday strictly after ``d``."""
        d += _ONE_DAY
        while not self.is_workday(d):
            d += _ONE_DAY
        return d

    def previous_workday(self, d: date) -> date:
        """The last workday strictly before ``d``."""
        d -= _ONE_DAY
        while not self.is_workday(d):
            d -= _ONE_DAY
        return d

    def add_workdays(self, d: date, n: int) -> date:
        """The n-th workday after ``d`` (before it if n < 0); n == 0 gives ``d`` or the next workday."""
        if n == 0:
            return d if self.is_workday(d) else self.next_workday(d)
        step = self.next_workday if n > 0 else self.previous_workday
        for _ in range(abs(n)):
            d = step(d)
        return d

    def workdays_between(self, a: date, b: date) -> int:
        """Workdays in (a, b] if a <= b, else minus the workdays in [b, a)."""
        if a <= b:
            lo, hi, sign = a + _ONE_DAY, b, 1
        else:
            lo, hi, sign = b, a - _ONE_DAY, -1
        count = 0
        d = lo
        while d <= hi:
            count += self.is_workday(d)
            d += _ONE_DAY
        return sign * count

    def __repr__(self) -> str:
        """Show how many overrides the calendar carries."""
        return f"Calendar({len(self._overrides)} overrides)"


DEFAULT = Calendar()
"""A calendar with no overrides: the package's arrangement, then weekends only."""


__all__ = ["DEFAULT", "PACKAGE_YEARS", "Calendar"]


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (clamped to the month's last day)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=d)
        except ValueError:
            continue
    raise ValueError(day)
