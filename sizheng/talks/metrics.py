"""Talks' numbers (issue 6 §6), from who and when only (tier T2-meta): per org subtree and year.

Targets are org ids and a value covers the org's subtree; every function runs a fixed number of
queries whatever the number of targets (the target orgs, then one or a few reads over all of them).
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone

from sizheng.core.metrics import Suppressed, Tier, metric
from sizheng.core.rules import Period
from sizheng.org.models import Org
from sizheng.talks import coverage
from sizheng.talks.models import Status, Talk, TalkTrigger

NOBODY = "无数据"
NO_TRIGGERS = "本期没有到期的必谈提醒，无法计算。"
STEP = 7  # a materialised path segment: six digits and a dot


def _targets(targets: list[int]) -> dict[str, int]:
    """path → target id (one query)."""
    return dict(Org.objects.filter(pk__in=targets).values_list("path", "pk"))


def _owners(path: str, by_path: dict[str, int]) -> list[int]:
    """The targets whose subtree holds an org with this path (its ancestors among the targets)."""
    return [by_path[path[:n]] for n in range(STEP, len(path) + 1, STEP) if path[:n] in by_path]


def _paths_q(paths, field: str) -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{field}__startswith": p})
    return q


@metric(
    "talks.coverage_rate",
    label="谈心谈话覆盖率",
    unit="%",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T2_META,
    level="org",
    description="受“党员每年与支委谈心谈话”（BR-TALK-1）约束的党员中，本年度已达到要求的比例；只看谁和谁、何时谈过。",
)
def coverage_rate(targets: list[int], period: Period) -> dict[int, object]:
    """Met / bound under BR-TALK-1's target kind in each subtree (five queries, ``coverage.compute``)."""
    by_path = _targets(targets)
    result = coverage.compute(
        _paths_q(by_path, "org__path"),
        period.start.year,
        today=timezone.localdate(),
        kinds=[coverage.BRANCH_MEMBER],
    )
    codes = [r.code for r in result.rules]
    bound = dict.fromkeys(targets, 0)
    met = dict.fromkeys(targets, 0)
    for row in result.rows:
        outcomes = [row.outcomes[c] for c in codes if c in row.outcomes]
        if not outcomes:
            continue
        for t in _owners(row.org_path, by_path):
            bound[t] += 1
            met[t] += all(o.status == "met" for o in outcomes)
    return {t: round(100 * met[t] / bound[t], 1) if bound[t] else Suppressed(NOBODY) for t in targets}


@metric(
    "talks.triggered_on_time",
    label="必谈及时率",
    unit="%",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T2_META,
    level="org",
    description="本期应谈日期已到（或已谈完）的必谈提醒中，在应谈日期当天或之前谈话并登记的比例。",
)
def triggered_on_time(targets: list[int], period: Period) -> dict[int, object]:
    """Triggers due in the period (open ones only once past due), done with a talk held by ``due_on``. Two queries."""
    by_path = _targets(targets)
    today = timezone.localdate()
    rows = (
        TalkTrigger.objects.filter(
            _paths_q(by_path, "org__path"), due_on__gte=period.start, due_on__lte=period.end
        )
        .exclude(state=TalkTrigger.State.CANCELLED)
        .filter(Q(state=TalkTrigger.State.DONE) | Q(due_on__lt=today))
        .values_list("org__path", "due_on", "state", "talk__held_on")
    )
    due = dict.fromkeys(targets, 0)
    on_time = dict.fromkeys(targets, 0)
    for path, due_on, state, held_on in rows:
        good = state == TalkTrigger.State.DONE and held_on is not None and held_on <= due_on
        for t in _owners(path, by_path):
            due[t] += 1
            on_time[t] += good
    return {t: round(100 * on_time[t] / due[t], 1) if due[t] else Suppressed(NO_TRIGGERS) for t in targets}


@metric(
    "talks.held_count",
    label="谈心谈话次数",
    unit="次",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T2_META,
    level="org",
    description="本期在该党组织及下级组织登记的已谈话次数（只计谈话日期和状态）。",
)
def held_count(targets: list[int], period: Period) -> dict[int, object]:
    """Held talks recorded in each subtree with ``held_on`` in the period. Two queries."""
    by_path = _targets(targets)
    rows = (
        Talk.objects.filter(
            _paths_q(by_path, "org__path"),
            status=Status.HELD,
            held_on__gte=period.start,
            held_on__lte=period.end,
        )
        .order_by()
        .values("org__path")
        .annotate(n=Count("pk"))
        .values_list("org__path", "n")
    )
    counts = dict.fromkeys(targets, 0)
    for path, n in rows:
        for t in _owners(path, by_path):
            counts[t] += n
    return counts
