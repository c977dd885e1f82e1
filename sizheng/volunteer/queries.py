"""Reads behind the metrics and the aggregate screens: figures per org subtree, never per person.

``org_figures(org_ids, start, end)`` answers, for each org's subtree, how many current members it has,
how many of them took part in at least one confirmed activity that started in the span, the confirmed
hours of the subtree's people, and the activities organised there — in four queries for any number of
orgs. Members are people whose party org is in the subtree (staff who are not party members have no
org, so they count in no org figure).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from sizheng.org.models import Org, Person
from sizheng.volunteer.models import Activity, ActivityState, Application, CivilityKind, Signup, SignupStatus


@dataclass
class OrgFigures:
    """One org subtree's volunteering figures over a span."""

    org_id: int
    members: int = 0
    participants: int = 0
    hours: Decimal = Decimal("0")
    activities: int = 0

    @property
    def rate(self) -> float | None:
        """Participation in % (None without members)."""
        return round(100 * self.participants / self.members, 1) if self.members else None


def moments(start: date, end: date) -> tuple[datetime, datetime]:
    """The first moment of ``start`` and the first moment after ``end``, aware in the local zone."""
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def _prefix_q(paths: list[str], field: str) -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{field}__startswith": p})
    return q


def _roll_up(paths: dict[int, str], rows: list[tuple[str, object]]) -> dict[int, list]:
    """Sum per-org rows (org path, value) into each requested org whose path is a prefix."""
    out: dict[int, list] = {pk: [] for pk in paths}
    for path, value in rows:
        for pk, prefix in paths.items():
            if path.startswith(prefix):
                out[pk].append(value)
    return out


def org_figures(org_ids: list[int], start: date, end: date) -> dict[int, OrgFigures]:
    """Figures of each org's subtree for activities starting between ``start`` and ``end`` (four queries)."""
    paths = dict(Org.objects.filter(pk__in=org_ids).values_list("pk", "path"))
    figures = {pk: OrgFigures(pk) for pk in org_ids}
    if not paths:
        return figures
    lo, hi = moments(start, end)
    q_people = _prefix_q(list(paths.values()), "org__path")
    members = list(
        Person.objects.current()
        .filter(q_people)
        .values("org__path")
        .annotate(n=Count("pk"))
        .values_list("org__path", "n")
    )
    confirmed = Signup.objects.filter(
        status=SignupStatus.ATTENDED, activity__starts_at__gte=lo, activity__starts_at__lt=hi
    )
    participants = list(
        confirmed.filter(_prefix_q(list(paths.values()), "person__org__path"), person__left_on__isnull=True)
        .values("person__org__path")
        .annotate(n=Count("person", distinct=True))
        .values_list("person__org__path", "n")
    )
    hours = list(
        confirmed.filter(_prefix_q(list(paths.values()), "person__org__path"))
        .values("person__org__path")
        .annotate(h=Sum("hours"))
        .values_list("person__org__path", "h")
    )
    organised = list(
        Activity.objects.filter(
            _prefix_q(list(paths.values()), "org__path"), starts_at__gte=lo, starts_at__lt=hi
        )
        .exclude(state=ActivityState.CANCELLED)
        .values("org__path")
        .annotate(n=Count("pk"))
        .values_list("org__path", "n")
    )
    for pk, values in _roll_up(paths, members).items():
        figures[pk].members = sum(values)
    for pk, values in _roll_up(paths, participants).items():
        figures[pk].participants = sum(values)
    for pk, values in _roll_up(paths, hours).items():
        figures[pk].hours = sum((v or Decimal("0") for v in values), Decimal("0"))
    for pk, values in _roll_up(paths, organised).items():
        figures[pk].activities = sum(values)
    return figures


def titled_units(unit_ids: list[int], day: date) -> dict[int, Application]:
    """Units holding a valid 文明单位 title on a day, with the title (one query)."""
    rows = (
        Application.objects.valid_on(day)
        .filter(kind=CivilityKind.UNIT, unit_id__in=unit_ids)
        .order_by("unit_id", "-valid_until")
    )
    out: dict[int, Application] = {}
    for a in rows:
        out.setdefault(a.unit_id, a)
    return out


def civility_counts(unit_ids: list[int] | None) -> dict[tuple[int, str, str], int]:
    """(unit, kind, state) → number of applications (one grouped query; None: every unit)."""
    qs = Application.objects.all()
    if unit_ids is not None:
        qs = qs.filter(unit_id__in=unit_ids)
    return {
        (r["unit_id"], r["kind"], r["state"]): r["n"]
        for r in qs.order_by().values("unit_id", "kind", "state").annotate(n=Count("pk"))
    }
