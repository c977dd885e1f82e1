"""Political birthdays (政治生日): anniversaries of ``Person.joined_on``, computed, never stored.

Someone who joined on 29 February celebrates on 28 February in a year without that day (the last
day of the same month, so the celebration stays in the month a branch's list shows).
"""

from __future__ import annotations

import calendar as pycalendar
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from sizheng.core import calendar as workcal
from sizheng.org.models import Org, Person


def celebrates_on(joined_on: date, year: int) -> date:
    """The day of ``year`` on which someone who joined on ``joined_on`` celebrates."""
    last = pycalendar.monthrange(year, joined_on.month)[1]
    return date(year, joined_on.month, min(joined_on.day, last))


def years_of_membership(joined_on: date, year: int) -> int:
    """Whole years of membership reached at this year's political birthday."""
    return year - joined_on.year


@dataclass(frozen=True)
class Birthday:
    """One member's political birthday in a month."""

    person: Person
    on: date
    years: int


def members_of(orgs: QuerySet[Org]) -> QuerySet[Person]:
    """Current party members of these orgs' subtrees that have a joining date."""
    paths = list(orgs.values_list("path", flat=True))
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(org__path__startswith=path)
    return Person.objects.current().party_members().filter(q, joined_on__isnull=False)


def in_month(people: QuerySet[Person], year: int, month: int) -> list[Birthday]:
    """The political birthdays of ``people`` in a month, by day then name (one query)."""
    rows = people.filter(joined_on__month=month, joined_on__year__lt=year).select_related("org")
    out = [
        Birthday(p, celebrates_on(p.joined_on, year), years_of_membership(p.joined_on, year)) for p in rows
    ]
    out.sort(key=lambda b: (b.on, b.person.name))
    return out


def first_workday(year: int, month: int) -> date:
    """The first workday of a month (the reminder goes out then)."""
    day = date(year, month, 1)
    while not workcal.is_workday(day):
        day = date.fromordinal(day.toordinal() + 1)
    return day


def parse_month(value: str | None, today: date) -> tuple[int, int]:
    """``YYYY-MM`` from a query string, else this month."""
    if value:
        try:
            year, month = (int(part) for part in value.split("-", 1))
            if 1900 < year < 2200 and 1 <= month <= 12:
                return year, month
        except ValueError:
            pass
    return today.year, today.month
