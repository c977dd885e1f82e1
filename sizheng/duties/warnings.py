"""Blue / yellow / red warnings, derived from the due date and never stored (glossary: 蓝黄红预警).

For duties awaiting the owner (assigned, accepted, in progress, returned):
blue — due within the next N workdays; yellow — due today or overdue by at most N workdays;
red — overdue by more than that. N comes from settings (default 5 and 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Q

from sizheng.core import calendar
from sizheng.duties.models import AWAITING_OWNER

BLUE, YELLOW, RED, NONE = "blue", "yellow", "red", "none"
LABELS = {BLUE: "蓝色预警", YELLOW: "黄色预警", RED: "红色预警", NONE: "无预警"}


@dataclass(frozen=True)
class Bounds:
    """The due dates that separate the warning levels on a given day."""

    blue_until: date  # due_on in (today, blue_until] → blue
    today: date
    yellow_from: date  # due_on in [yellow_from, today] → yellow; before → red


_ONE_DAY = timedelta(days=1)


def bounds(today: date) -> Bounds:
    """The cut-off dates for ``today`` (two workday computations, no queries but the cached calendar).

    "Within N workdays" counts the workdays in (today, due_on], "overdue by N" those in (due_on, today],
    so the bounds hold on rest days too (today or the due date falling on one): blue ends the day
    before the (N+1)-th workday after today; yellow starts at the (N+1)-th workday on or before today.
    """
    return Bounds(
        blue_until=calendar.add_workdays(today, settings.DUTY_WARNING_BLUE_DAYS + 1) - _ONE_DAY,
        today=today,
        yellow_from=calendar.add_workdays(today + _ONE_DAY, -(settings.DUTY_WARNING_YELLOW_DAYS + 1)),
    )


def warning_of(state: str, due_on: date, today: date, b: Bounds | None = None) -> str:
    """The warning level of one duty."""
    if state not in AWAITING_OWNER:
        return NONE
    b = b or bounds(today)
    if due_on > b.blue_until:
        return NONE
    if due_on > today:
        return BLUE
    if due_on >= b.yellow_from:
        return YELLOW
    return RED


def warning_q(level: str, today: date, prefix: str = "") -> Q:
    """The Q selecting duties at a warning level (for board filters and counts in SQL)."""
    b = bounds(today)
    awaiting = Q(**{f"{prefix}state__in": list(AWAITING_OWNER)})
    due = f"{prefix}due_on"
    if level == BLUE:
        return awaiting & Q(**{f"{due}__gt": today, f"{due}__lte": b.blue_until})
    if level == YELLOW:
        return awaiting & Q(**{f"{due}__gte": b.yellow_from, f"{due}__lte": today})
    if level == RED:
        return awaiting & Q(**{f"{due}__lt": b.yellow_from})
    if level == NONE:
        return ~(awaiting & Q(**{f"{due}__lte": b.blue_until}))
    raise ValueError(level)
