"""Reads of the meetings screens: the scoped, filtered list, attendance counts, the calendar month."""

from __future__ import annotations

import calendar as pycalendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from sizheng.core.models import Role
from sizheng.life.models import AttendanceStatus, Meeting, MeetingState
from sizheng.org import access
from sizheng.org.models import Org


def with_counts(qs: QuerySet[Meeting]) -> QuerySet[Meeting]:
    """Meetings with expected / present / absent / on-leave counts (one query for the page)."""
    att = "attendance__status"
    return qs.annotate(
        n_expected=Count("attendance", filter=~Q(**{att: AttendanceStatus.NON_VOTING})),
        n_present=Count("attendance", filter=Q(**{att: AttendanceStatus.PRESENT})),
        n_absent=Count("attendance", filter=Q(**{att: AttendanceStatus.ABSENT})),
        n_leave=Count("attendance", filter=Q(**{att: AttendanceStatus.ON_LEAVE})),
    )


def filter_meetings(user, data: dict) -> QuerySet[Meeting]:
    """The meetings the user sees, filtered by the list form's cleaned data."""
    qs = Meeting.objects.visible_to(user).for_list()
    org = data.get("org")
    if org is not None:
        qs = qs.filter(org__path__startswith=org.path)
    if data.get("kind"):
        qs = qs.filter(kind=data["kind"])
    if data.get("state"):
        qs = qs.filter(state=data["state"])
    if data.get("date_from"):
        qs = qs.filter(starts_at__gte=_day_start(data["date_from"]))
    if data.get("date_to"):
        qs = qs.filter(starts_at__lt=_day_start(data["date_to"] + timedelta(days=1)))
    if data.get("q"):
        qs = qs.filter(topic__icontains=data["q"])
    return qs.order_by("-starts_at", "-id")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def home_org(user) -> Org | None:
    """The org a user's calendar opens on: the first org they manage, else their own branch."""
    scope = access.scope_of(user)
    paths = scope.paths(Role.SECRETARY, Role.ORG_ADMIN)
    if paths:
        return Org.objects.filter(path__in=paths).order_by("depth", "path").first()
    if scope.own_org_id:
        return Org.objects.filter(pk=scope.own_org_id).first()
    return None


@dataclass
class Day:
    """One cell of the month grid."""

    day: date
    in_month: bool
    meetings: list[Meeting] = field(default_factory=list)


def month_grid(meetings: list[Meeting], year: int, month: int) -> list[list[Day]]:
    """Weeks (Monday first) covering the month, each day with its meetings."""
    weeks = pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    cells = {d: Day(d, d.month == month) for week in weeks for d in week}
    for m in meetings:
        day = timezone.localtime(m.starts_at).date()
        if day in cells:
            cells[day].meetings.append(m)
    return [[cells[d] for d in week] for week in weeks]


def month_meetings(user, org: Org, year: int, month: int) -> list[Meeting]:
    """The meetings of an org's subtree shown on a month's grid (one query)."""
    first = date(year, month, 1)
    start = first - timedelta(days=first.weekday())
    end = date(year, month, pycalendar.monthrange(year, month)[1]) + timedelta(days=7)
    return list(
        Meeting.objects.visible_to(user)
        .filter(
            org__path__startswith=org.path, starts_at__gte=_day_start(start), starts_at__lt=_day_start(end)
        )
        .select_related("org")
        .order_by("starts_at")
    )


def is_planned(meeting: Meeting, now: datetime | None = None) -> bool:
    """A planned meeting: a draft whose start is still ahead."""
    return meeting.state == MeetingState.DRAFT and meeting.starts_at > (now or timezone.now())
