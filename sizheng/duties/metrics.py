"""The duties app's numbers (issue 4 §6): per assignee org and period, each in O(1) queries.

Targets are the ids of assignee orgs (a duty counts for the org it is assigned to, not for the
org's ancestors). Periods are ``core.rules.Period`` values; "in the period" means a date within
``period.start``..``period.end`` inclusive, or a moment between the start of the first day and
the end of the last day in the local time zone.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.utils import timezone

from sizheng.core import calendar
from sizheng.core.metrics import Suppressed, Tier, metric
from sizheng.duties.models import AWAITING_OWNER, Duty, DutyEvent, State

NO_CLOSED = "本期没有销号的事项，无法计算。"
NO_REPORTS = "本期没有报送的事项，无法计算退回率。"
NOT_STARTED = "本期尚未开始，暂无数据。"


def _start_of(day: date) -> datetime:
    """The first moment of a local day, aware."""
    return timezone.make_aware(datetime.combine(day, time.min))


def _percent(part: int, whole: int) -> float:
    """A percentage with one decimal."""
    return round(100 * part / whole, 1)


@metric(
    "duties.on_time_rate",
    label="按时完成率",
    unit="%",
    higher_is_better=True,
    period_kind="quarter",
    tier=Tier.T0,
    level="org",
    description="本期销号的事项中，最后一次报送日期不晚于完成时限（含经批准延期后的时限）的比例。",
)
def on_time_rate(targets: list[int], period) -> dict[int, object]:
    """Duties closed in the period whose (last) report came on or before the due date, in % of those closed.

    The due date is the one in force at closing, so an approved extension counts; a duty
    returned and reported again counts by its last report. One query.
    """
    rows = (
        Duty.objects.filter(
            assignee_org_id__in=targets,
            state=State.CLOSED,
            closed_on__gte=period.start,
            closed_on__lte=period.end,
        )
        .values("assignee_org_id")
        .annotate(total=Count("pk"), on_time=Count("pk", filter=Q(reported_on__lte=F("due_on"))))
    )
    values: dict[int, object] = dict.fromkeys(targets, Suppressed(NO_CLOSED))
    for r in rows:
        values[r["assignee_org_id"]] = _percent(r["on_time"], r["total"])
    return values


@metric(
    "duties.overdue_count",
    label="逾期未完成事项数",
    unit="项",
    higher_is_better=False,
    period_kind="quarter",
    tier=Tier.T0,
    level="org",
    description="截至本期最后一天（本期尚未结束时截至今天）日终，仍待责任方办理且已超过完成时限的事项数。",
)
def overdue_count(targets: list[int], period) -> dict[int, object]:
    """Duties overdue at the end of day X, where X is the period's last day, or today while the period runs.

    "Overdue at X" means: the duty existed by then, its state at the end of X awaited the owner
    (assigned, accepted, in progress or returned) and its due date in force on X was before X.
    Both are read back from the timeline, so a closed period's number does not drift when a duty
    is reported, closed or extended later: the state is the ``to_state`` of the last event up
    to X (a duty with no events at all counts in its current state), and the due date is the
    ``old_due_on`` of the first extension approved after X, else the current due date.
    One query; every target gets a number (0 when nothing is overdue).
    """
    today = timezone.localdate()
    if period.start > today:
        return dict.fromkeys(targets, Suppressed(NOT_STARTED))
    day = min(period.end, today)
    cutoff = _start_of(day + timedelta(days=1))
    state_then = Subquery(
        DutyEvent.objects.filter(duty=OuterRef("pk"), at__lt=cutoff)
        .order_by("-at", "-pk")
        .values("to_state")[:1]
    )
    due_then = Subquery(
        DutyEvent.objects.filter(duty=OuterRef("pk"), action="approve_extension", at__gte=cutoff)
        .order_by("at", "pk")
        .values(old=KT("payload__old_due_on"))[:1]
    )
    rows = (
        Duty.objects.filter(assignee_org_id__in=targets, created_at__lt=cutoff)
        .annotate(state_then=Coalesce(state_then, F("state")), due_then=due_then)
        .filter(state_then__in=list(AWAITING_OWNER))
        .filter(Q(due_then__isnull=True, due_on__lt=day) | Q(due_then__isnull=False))
        .values_list("assignee_org_id", "due_then")
    )
    values: dict[int, object] = dict.fromkeys(targets, 0)
    for org_id, old_due in rows:
        if old_due is None or date.fromisoformat(old_due) < day:
            values[org_id] += 1
    return values


@metric(
    "duties.return_rate",
    label="退回率",
    unit="%",
    higher_is_better=False,
    period_kind="quarter",
    tier=Tier.T0,
    level="org",
    description="本期督查退回的次数占本期报送次数的比例。",
)
def return_rate(targets: list[int], period) -> dict[int, object]:
    """Returns in the period, in % of reports in the period (each re-report counts as a report).

    Both are counted from the timeline (``DutyEvent``), by the duty's assignee org. A return of a
    report made in the previous period counts in this one, so the rate can exceed 100 in rare
    cases. One query.
    """
    rows = (
        DutyEvent.objects.filter(
            duty__assignee_org_id__in=targets,
            action__in=["report", "return"],
            at__gte=_start_of(period.start),
            at__lt=_start_of(period.end + timedelta(days=1)),
        )
        .values("duty__assignee_org_id")
        .annotate(
            reports=Count("pk", filter=Q(action="report")), returns=Count("pk", filter=Q(action="return"))
        )
    )
    values: dict[int, object] = dict.fromkeys(targets, Suppressed(NO_REPORTS))
    for r in rows:
        if r["reports"]:
            values[r["duty__assignee_org_id"]] = _percent(r["returns"], r["reports"])
    return values


@metric(
    "duties.mean_days_to_close",
    label="平均办结用时",
    unit="个工作日",
    higher_is_better=False,
    period_kind="quarter",
    tier=Tier.T0,
    level="org",
    description="本期销号的事项从部署到销号平均用了多少个工作日。",
)
def mean_days_to_close(targets: list[int], period) -> dict[int, object]:
    """Mean workdays from the day a duty was opened (exclusive) to the day it was closed (inclusive).

    Over duties closed in the period; one decimal. One query fetches (org, opened, closed) rows;
    the workdays are counted in Python with the cached calendar (holidays and 调休 applied).
    """
    rows = Duty.objects.filter(
        assignee_org_id__in=targets,
        state=State.CLOSED,
        closed_on__gte=period.start,
        closed_on__lte=period.end,
    ).values_list("assignee_org_id", "created_at", "closed_on")
    spans: dict[int, list[int]] = defaultdict(list)
    for org_id, created_at, closed_on in rows:
        spans[org_id].append(max(0, calendar.workdays_between(timezone.localdate(created_at), closed_on)))
    values: dict[int, object] = dict.fromkeys(targets, Suppressed(NO_CLOSED))
    for org_id, days in spans.items():
        values[org_id] = round(sum(days) / len(days), 1)
    return values
