"""Organisational life's numbers (issue 5 §7): per org and period, each in O(1) queries.

Targets are org ids; periods are ``core.rules.Period`` values. Only counted meeting records
(submitted, or approved where approval is required) count, as for compliance.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from sizheng.core.metrics import Suppressed, Tier, metric
from sizheng.core.rules import PERIOD_KINDS, Period, periods_between
from sizheng.life import compliance
from sizheng.life.models import Attendance, AttendanceStatus, Meeting, MeetingKind
from sizheng.org.models import Org

NOTHING_DUE = "本期没有已到期的组织生活要求，无法计算。"
NO_MEETINGS = "本期没有计入的会议，无法计算出席率。"
NOT_LEADING_GROUP = "中心组学习只由党组开展，该组织不适用。"
NOT_STARTED = "本期尚未开始，暂无数据。"
YEARLY_KINDS = {
    MeetingKind.LIFE_MEETING,
    MeetingKind.MEMBER_APPRAISAL,
    MeetingKind.DEMOCRATIC_LIFE_MEETING,
    MeetingKind.CENTRAL_GROUP_STUDY,
}


def _moments(period: Period) -> tuple[datetime, datetime]:
    """The first moment of the period and the first moment after it, aware in the local zone."""
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(period.start, time.min, tzinfo=tz),
        datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=tz),
    )


def _ending_in(period: Period) -> list[Period]:
    """Every month, quarter, half and year that lies within ``period`` (so ends in it)."""
    out: list[Period] = []
    for kind in PERIOD_KINDS:
        out += [p for p in periods_between(kind, period.start, period.end) if p.start >= period.start]
    return [p for p in out if p.end <= period.end]


@metric(
    "life.compliance_rate",
    label="组织生活达标率",
    unit="%",
    higher_is_better=True,
    period_kind="quarter",
    tier=Tier.T0,
    level="org",
    description="本期内到期的各项组织生活要求（规则 × 期间）中，已达标或已登记豁免的比例；尚未到期的不计。",
)
def compliance_rate(targets: list[int], period) -> dict[int, object]:
    """(rule, period) outcomes met or exempt, in % of those due, for periods ending in ``period``.

    One org query and ``compliance.evaluate`` (three queries).
    """
    orgs = list(Org.objects.filter(pk__in=targets).only("pk", "kind", "path", "founded_on", "dissolved_on"))
    matrix = compliance.evaluate(orgs, _ending_in(period))
    due: dict[int, int] = dict.fromkeys(targets, 0)
    good: dict[int, int] = dict.fromkeys(targets, 0)
    for (org_id, _, _), outcome in matrix.outcomes.items():
        if outcome.status in ("met", "exempt", "warning", "violation"):
            due[org_id] += 1
            good[org_id] += outcome.status in ("met", "exempt")
    return {t: round(100 * good[t] / due[t], 1) if due[t] else Suppressed(NOTHING_DUE) for t in targets}


@metric(
    "life.attendance_rate",
    label="组织生活出席率",
    unit="%",
    higher_is_better=True,
    period_kind="quarter",
    tier=Tier.T0,
    level="org",
    description="本期计入的会议中，应到人员（不含列席）实到的比例。",
)
def attendance_rate(targets: list[int], period) -> dict[int, object]:
    """Present / expected (non-voting attendees excluded) over counted meetings in the period. One query."""
    start, end = _moments(period)
    counted = Meeting.objects.counted().filter(org_id__in=targets, starts_at__gte=start, starts_at__lt=end)
    rows = (
        Attendance.objects.filter(meeting__in=counted)
        .exclude(status=AttendanceStatus.NON_VOTING)
        .values("meeting__org_id")
        .annotate(expected=Count("pk"), present=Count("pk", filter=Q(status=AttendanceStatus.PRESENT)))
    )
    values: dict[int, object] = dict.fromkeys(targets, Suppressed(NO_MEETINGS))
    for r in rows:
        if r["expected"]:
            values[r["meeting__org_id"]] = round(100 * r["present"] / r["expected"], 1)
    return values


@metric(
    "life.central_group_sessions",
    label="中心组学习次数",
    unit="次",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T0,
    level="org",
    description="党组本年度计入的中心组学习次数（规则 CGS-1：每年不少于 6 次）。",
)
def central_group_sessions(targets: list[int], period) -> dict[int, object]:
    """Counted central_group_study sessions held in the period by each leading group. One query."""
    if period.start > timezone.localdate():
        return dict.fromkeys(targets, Suppressed(NOT_STARTED))
    start, end = _moments(period)
    sessions = Meeting.objects.counted().filter(
        kind=MeetingKind.CENTRAL_GROUP_STUDY, starts_at__gte=start, starts_at__lt=end
    )
    rows = (
        Org.objects.filter(pk__in=targets)
        .order_by()
        .values_list("pk", "kind")
        .annotate(n=Count("meetings", filter=Q(meetings__in=sessions.values("pk"))))
    )
    values: dict[int, object] = dict.fromkeys(targets, Suppressed(NOT_LEADING_GROUP))
    values.update({pk: n for pk, kind, n in rows if kind == Org.Kind.LEADING_GROUP})
    return values


def _rate_for_kind(kind: str):
    """The compliance rate restricted to the rules about one kind of activity."""

    def compute(targets: list[int], period) -> dict[int, object]:
        from sizheng.life.models import ComplianceRule

        codes = list(
            ComplianceRule.objects.filter(activity=kind, is_active=True).values_list("code", flat=True)
        )
        orgs = list(
            Org.objects.filter(pk__in=targets).only("pk", "kind", "path", "founded_on", "dissolved_on")
        )
        matrix = compliance.evaluate(orgs, _ending_in(period), rule_codes=codes)
        due: dict[int, int] = dict.fromkeys(targets, 0)
        good: dict[int, int] = dict.fromkeys(targets, 0)
        for (org_id, _, _), outcome in matrix.outcomes.items():
            if outcome.status in ("met", "exempt", "warning", "violation"):
                due[org_id] += 1
                good[org_id] += outcome.status in ("met", "exempt")
        return {t: round(100 * good[t] / due[t], 1) if due[t] else Suppressed(NOTHING_DUE) for t in targets}

    compute.__doc__ = (
        f"Compliance rate of the rules about {kind} (one rule query, one org query, the matrix)."
    )
    return compute


# "Compliance rate by kind" (issue 5 §7): one metric per kind of activity the default rules cover.
for _kind in (
    MeetingKind.MEMBERS_MEETING,
    MeetingKind.COMMITTEE_MEETING,
    MeetingKind.GROUP_MEETING,
    MeetingKind.PARTY_LECTURE,
    MeetingKind.THEME_DAY,
    MeetingKind.LIFE_MEETING,
    MeetingKind.MEMBER_APPRAISAL,
    MeetingKind.DEMOCRATIC_LIFE_MEETING,
    MeetingKind.CENTRAL_GROUP_STUDY,
):
    metric(
        f"life.compliance_rate.{_kind.value}",
        label=f"{_kind.label}达标率",
        unit="%",
        higher_is_better=True,
        period_kind="quarter" if _kind not in YEARLY_KINDS else "year",
        tier=Tier.T0,
        level="org",
        description=f"本期内到期的{_kind.label}要求中，已达标或已登记豁免的比例。",
    )(_rate_for_kind(_kind.value))
