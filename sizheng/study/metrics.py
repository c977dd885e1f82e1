"""The study app's numbers (issue 5 §7), per org and year, each in O(1) queries.

- ``study.observer_on_time``: of the observer assignments at an org (the observed side) whose
  summary deadline fell in the period, the share where both sides kept their deadline —
  materials sent by the 5-workday lead and the summary submitted within 10 workdays.
- ``study.hours_coverage``: of an org's current party members (members of that org itself, not of
  its children), the share who reached their yearly 学时 requirement. A coverage share, never a
  ranking of people.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, F, Q

from sizheng.core.metrics import Suppressed, Tier, metric
from sizheng.org.models import Person
from sizheng.study import hours
from sizheng.study.models import Observation

NO_OBSERVATIONS = "本期没有到期的列席旁听安排，无法计算。"
NO_MEMBERS = "该组织没有在册党员，无法计算。"


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1)


@metric(
    "study.observer_on_time",
    label="列席旁听闭环按时率",
    unit="%",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T0,
    level="org",
    description="本期小结到期的列席安排中，材料按时报送且小结按时提交的比例。",
)
def observer_on_time(targets: list[int], period) -> dict[int, object]:
    """Observer assignments due in the period that closed on time on both sides, in %. One query."""
    rows = (
        Observation.objects.filter(
            observed_org_id__in=targets, summary_due_on__gte=period.start, summary_due_on__lte=period.end
        )
        .values("observed_org_id")
        .annotate(
            total=Count("pk"),
            on_time=Count(
                "pk",
                filter=Q(
                    materials_sent_on__lte=F("materials_due_on"),
                    summary_submitted_on__lte=F("summary_due_on"),
                ),
            ),
        )
    )
    out: dict[int, object] = dict.fromkeys(targets, Suppressed(NO_OBSERVATIONS))
    for r in rows:
        out[r["observed_org_id"]] = _percent(r["on_time"], r["total"])
    return out


@metric(
    "study.hours_coverage",
    label="学时达标率",
    unit="%",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T0,
    level="org",
    description="组织在册党员中，年度学时达到要求（一般 32 学时，书记和领导班子成员 56 学时）的比例。",
)
def hours_coverage(targets: list[int], period) -> dict[int, object]:
    """Members who reached their yearly requirement, in %, per org. Three queries for any number of orgs."""
    members = list(
        Person.objects.current().party_members().filter(org_id__in=targets).values_list("pk", "org_id")
    )
    rows = hours.standing([pk for pk, _ in members], period.start.year)
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for pk, org_id in members:
        counts[org_id][0] += 1
        counts[org_id][1] += rows[pk]["reached"]
    out: dict[int, object] = dict.fromkeys(targets, Suppressed(NO_MEMBERS))
    for org_id, (total, reached) in counts.items():
        out[org_id] = _percent(reached, total)
    return out


NO_PLAN = "该组织本年度没有包含专题的学习计划，无法计算。"


@metric(
    "study.central_group_plan_rate",
    label="中心组学习计划完成率",
    unit="%",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T0,
    level="org",
    description="党组本年度已开展（计入）的中心组学习次数占学习计划专题数的比例（可超过 100%）。",
)
def central_group_plan_rate(targets: list[int], period) -> dict[int, object]:
    """Central-group sessions held vs the topics planned for the year, per leading group (two queries)."""
    from sizheng.life.models import Meeting, MeetingKind
    from sizheng.study.models import StudyTopic

    planned = dict(
        StudyTopic.objects.filter(
            plan__org_id__in=targets, plan__year=period.start.year, plan__group__isnull=True
        )
        .values("plan__org_id")
        .annotate(n=Count("pk"))
        .values_list("plan__org_id", "n")
    )
    held = dict(
        Meeting.objects.counted()
        .filter(org_id__in=targets, kind=MeetingKind.CENTRAL_GROUP_STUDY, starts_at__year=period.start.year)
        .values("org_id")
        .annotate(n=Count("pk"))
        .values_list("org_id", "n")
    )
    return {
        t: _percent(held.get(t, 0), planned[t]) if planned.get(t) else Suppressed(NO_PLAN) for t in targets
    }
