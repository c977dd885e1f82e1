"""The workday calendar with the administrators' 节假日与调休 table applied (Django layer over core.workdays).

``get_calendar()`` loads every :class:`~sizheng.core.models.Holiday` row in one query and
keeps the resulting :class:`~sizheng.core.workdays.Calendar` per process. The copy is
dropped when a Holiday row is saved or deleted in this process (signals, used here for
cache invalidation only), when another process bumps the shared version in Django's cache
(effective when the cache backend is shared), and in any case after
``_MAX_AGE_SECONDS`` — so a change made through ``QuerySet.update()`` or in another
process with a per-process cache is picked up within minutes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import date, datetime

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from sizheng.core.models import Holiday
from sizheng.core.workdays import Calendar

_VERSION_KEY = "sizheng:core:holiday-calendar-version"
_MAX_AGE_SECONDS = 300.0
# Indirection so tests can move the clock without sleeping.
_clock = time.monotonic
_lock = threading.Lock()
_cached: tuple[Calendar, object, float] | None = None


def _shared_version() -> object:
    """The invalidation counter other processes see (when the cache backend is shared)."""
    return cache.get(_VERSION_KEY, 0)


def clear_calendar_cache() -> None:
    """Drop this process's calendar and tell other processes to drop theirs."""
    global _cached
    with _lock:
        _cached = None
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:
        cache.set(_VERSION_KEY, 1, timeout=None)


def get_calendar() -> Calendar:
    """The workday calendar with every entered holiday and 调休 workday applied (cached)."""
    global _cached
    version = _shared_version()
    entry = _cached
    if entry is not None and entry[1] == version and _clock() - entry[2] < _MAX_AGE_SECONDS:
        return entry[0]
    rows = Holiday.objects.values_list("day", "kind")
    calendar = Calendar({day: kind == Holiday.Kind.WORKDAY for day, kind in rows})
    with _lock:
        _cached = (calendar, version, _clock())
    return calendar


def _on_holiday_change(**kwargs: object) -> None:
    """Signal receiver: a Holiday row changed, so the cached calendar is stale."""
    clear_calendar_cache()
    # A reader may reload the old rows before the change commits; drop that copy too.
    transaction.on_commit(clear_calendar_cache)


post_save.connect(_on_holiday_change, sender=Holiday, dispatch_uid="sizheng.core.calendar.saved")
post_delete.connect(_on_holiday_change, sender=Holiday, dispatch_uid="sizheng.core.calendar.deleted")


def _as_date(d: date | datetime) -> date:
    """A local calendar day for a date or an aware datetime."""
    if isinstance(d, datetime):
        return timezone.localdate(d)
    return d


def is_workday(d: date | datetime) -> bool:
    """Whether people work on that day (holidays and 调休 applied)."""
    return get_calendar().is_workday(_as_date(d))


def add_workdays(d: date | datetime, n: int) -> date:
    """The n-th workday after (n < 0: before) the day; n == 0 gives the day or the next workday."""
    return get_calendar().add_workdays(_as_date(d), n)


def workdays_between(a: date | datetime, b: date | datetime) -> int:
    """Workdays in (a, b] (negative when b is before a; see core.workdays)."""
    return get_calendar().workdays_between(_as_date(a), _as_date(b))


def due_after(start: date | datetime, workdays: int) -> date:
    """The deadline ``workdays`` working days after ``start`` (a date or an aware datetime)."""
    return add_workdays(start, workdays)


def _default_years(today: date) -> list[int]:
    """This year, and next year from December on (when deadlines start to reach into it)."""
    return [today.year, today.year + 1] if today.month == 12 else [today.year]


def calendar_warnings(years: Iterable[int] | None = None) -> list[str]:
    """Chinese warnings for administrators about years whose holiday arrangement is not entered."""
    wanted = list(years) if years is not None else _default_years(timezone.localdate())
    return [
        f"{year} 年的法定节假日安排尚未录入，当前按周末计算工作日；请系统管理员在“节假日与调休”中录入。"
        for year in get_calendar().uncovered_years(wanted)
    ]


__all__ = [
    "add_workdays",
    "calendar_warnings",
    "clear_calendar_cache",
    "due_after",
    "get_calendar",
    "is_workday",
    "workdays_between",
]
