"""Training hours (学时): per person per year, the summed ``Meeting.hours`` of counted study meetings
they attended present — in one aggregate query for any number of people.

Which meetings count (STUDY_KINDS): every counted 中心组学习, 党课 and 主题党日; and any other
counted meeting linked as a study session (e.g. a 党员大会 with a study topic). Leave and absence
do not count, a make-up (补学) does not add hours. No app time, no points, no rankings: each person
sees their own hours against the requirement, a secretary sees only how many reached it.

The requirement is ``settings.STUDY_HOURS_REQUIRED`` (default 32) and, for leadership members
(``Person.is_leader``) and 书记 (a current secretary OrgRole), ``settings.STUDY_HOURS_REQUIRED_LEADERS``
(default 56) — rules.md §4.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models import DurationField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Least
from django.utils import timezone

from sizheng.life.models import Attendance, AttendanceStatus, Meeting, MeetingKind
from sizheng.org.models import OrgRole

# The one definition of which meeting kinds always count as study (others count when linked).
STUDY_KINDS = frozenset({MeetingKind.CENTRAL_GROUP_STUDY, MeetingKind.PARTY_LECTURE, MeetingKind.THEME_DAY})
# Kinds a secretary may link as a study session (the study kinds, plus meetings with a study topic).
LINKABLE_KINDS = STUDY_KINDS | {MeetingKind.MEMBERS_MEETING, MeetingKind.GROUP_MEETING}
# Meeting.hours caps one meeting at a full day.
MAX_HOURS_PER_MEETING = 8


def required_hours(is_leading: bool) -> int:
    """The yearly requirement: members 32, secretaries and leadership members 56 (configurable)."""
    if is_leading:
        return int(getattr(settings, "STUDY_HOURS_REQUIRED_LEADERS", 56))
    return int(getattr(settings, "STUDY_HOURS_REQUIRED", 32))


def study_meetings(year: int | None = None):
    """Counted meetings that count as study (optionally in one calendar year)."""
    qs = Meeting.objects.counted().filter(Q(kind__in=STUDY_KINDS) | Q(study_session__isnull=False))
    if year is not None:
        qs = qs.filter(starts_at__year=year)
    return qs


def hours_by_person(person_ids: Iterable[int], year: int) -> dict[int, float]:
    """{person_id: 学时 in the year} for the given people (one query; people without any: 0)."""
    ids = list(person_ids)
    if not ids:
        return {}
    duration = ExpressionWrapper(
        F("meeting__ends_at") - F("meeting__starts_at"), output_field=DurationField()
    )
    capped = Least(duration, Value(timedelta(hours=MAX_HOURS_PER_MEETING), output_field=DurationField()))
    rows = (
        Attendance.objects.filter(
            person_id__in=ids,
            status=AttendanceStatus.PRESENT,
            meeting__in=study_meetings(year).values("pk"),
        )
        .values("person_id")
        .annotate(total=Sum(capped, output_field=DurationField()))
        .values_list("person_id", "total")
    )
    out = dict.fromkeys(ids, 0.0)
    for pid, total in rows:
        out[pid] = round(max(0.0, total.total_seconds()) / 3600, 1) if total else 0.0
    return out


def leading_ids(person_ids: Iterable[int], on=None) -> set[int]:
    """Those of the people who are leadership members or hold a current 书记 post (one query)."""
    ids = list(person_ids)
    if not ids:
        return set()
    day = on or timezone.localdate()
    from sizheng.org.models import Person

    current_secretary = Q(org_roles__title=OrgRole.Title.SECRETARY, org_roles__starts_on__lte=day) & (
        Q(org_roles__ends_on__isnull=True) | Q(org_roles__ends_on__gte=day)
    )
    return set(
        Person.objects.filter(pk__in=ids)
        .filter(Q(is_leader=True) | current_secretary)
        .values_list("pk", flat=True)
    )


def standing(person_ids: Iterable[int], year: int) -> dict[int, dict]:
    """{person_id: {"hours", "required", "reached"}} in two queries for any number of people."""
    ids = list(person_ids)
    hours = hours_by_person(ids, year)
    leading = leading_ids(ids)
    out = {}
    for pid in ids:
        required = required_hours(pid in leading)
        out[pid] = {"hours": hours[pid], "required": required, "reached": hours[pid] >= required}
    return out


def coverage(person_ids: Iterable[int], year: int) -> dict:
    """How many of the people reached their requirement — a count, never a ranked list."""
    rows = standing(person_ids, year)
    reached = sum(1 for r in rows.values() if r["reached"])
    return {"total": len(rows), "reached": reached, "not_reached": len(rows) - reached}
