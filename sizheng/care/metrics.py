"""Care-case numbers (issue 6 §6): per org subtree and year, from metadata only (T2-meta).

A case counts for its org (the person's org, or their unit's root org) and every org above it;
only states and dates are read, never the category, tier or description. Each metric is two
queries for any number of targets: the targets' paths, then the cases under any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from sizheng.care.models import CareCase, CaseState
from sizheng.core.metrics import Suppressed, Tier, metric
from sizheng.org.models import Org

DONE = (CaseState.RESOLVED, CaseState.FOLLOWED_UP)
NO_CASES = "本期没有受理的困难诉求，无法计算。"
NO_RESOLVED = "本期没有办结的困难诉求，无法计算。"
NO_RATINGS = "本期回访评价不足 {n} 条，为保护当事人不予显示。"
NO_REOPEN_BASE = "本期受理的困难诉求尚无办结的，无法计算重新打开率。"


def _moments(period) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(period.start, time.min, tzinfo=tz),
        datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=tz),
    )


def _by_target(targets: list[int], cases: Q, fields: tuple[str, ...]) -> dict[int, list[dict]]:
    """target org id → the matching cases (as value dicts) in its subtree. Two queries."""
    paths = dict(Org.objects.filter(pk__in=targets).values_list("pk", "path"))
    out: dict[int, list[dict]] = {t: [] for t in targets}
    if not paths:
        return out
    under = Q(pk__in=[])
    for p in set(paths.values()):
        under |= Q(org__path__startswith=p)
    rows = CareCase.objects.filter(cases, under).values("org__path", *fields)
    for row in rows:
        for target, p in paths.items():
            if row["org__path"].startswith(p):
                out[target].append(row)
    return out


def _per_target(
    targets, period, *, field: str, fields: tuple[str, ...], value: Callable[[list[dict]], object]
):
    start, end = _moments(period)
    groups = _by_target(targets, Q(**{f"{field}__gte": start, f"{field}__lt": end}), fields)
    return {t: value(rows) for t, rows in groups.items()}


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1)


@metric(
    "care.resolved_rate",
    label="困难诉求解决率",
    unit="%",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T2_META,
    level="org",
    description="本期受理的困难诉求中，已解决或已回访的比例（含下级党组织）。",
)
def resolved_rate(targets: list[int], period) -> dict[int, object]:
    """Resolved or followed-up cases among those opened in the period, in %."""

    def value(rows):
        if not rows:
            return Suppressed(NO_CASES)
        return _percent(sum(r["state"] in DONE for r in rows), len(rows))

    return _per_target(targets, period, field="opened_at", fields=("state",), value=value)


@metric(
    "care.days_to_resolve",
    label="困难诉求平均办理天数",
    unit="天",
    higher_is_better=False,
    period_kind="year",
    tier=Tier.T2_META,
    level="org",
    description="本期办结的困难诉求从受理到解决的平均天数（含下级党组织；重新打开的按最近一次解决计）。",
)
def days_to_resolve(targets: list[int], period) -> dict[int, object]:
    """Mean days from opening to resolution over cases resolved in the period."""

    def value(rows):
        spans = [(r["resolved_at"] - r["opened_at"]).total_seconds() / 86400 for r in rows]
        return round(sum(spans) / len(spans), 1) if spans else Suppressed(NO_RESOLVED)

    return _per_target(targets, period, field="resolved_at", fields=("opened_at", "resolved_at"), value=value)


@metric(
    "care.satisfaction",
    label="困难诉求回访满意度",
    unit="分",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T2_META,
    level="org",
    description="本期回访的困难诉求中，当事人满意度（1–5 分）的平均值；评价少于匿名阈值时不予显示。",
)
def satisfaction(targets: list[int], period) -> dict[int, object]:
    """Mean 1–5 rating of cases followed up in the period; suppressed below the anonymity threshold,
    since with a handful of ratings each one points at a person."""
    k = settings.ANONYMITY_MIN_GROUP

    def value(rows):
        ratings = [r["satisfaction"] for r in rows if r["satisfaction"] is not None]
        if len(ratings) < k:
            return Suppressed(NO_RATINGS.format(n=k))
        return round(sum(ratings) / len(ratings), 2)

    return _per_target(targets, period, field="followed_up_at", fields=("satisfaction",), value=value)


@metric(
    "care.reopen_rate",
    label="困难诉求重新打开率",
    unit="%",
    higher_is_better=False,
    period_kind="year",
    tier=Tier.T2_META,
    level="org",
    description="本期受理且已办结过的困难诉求中，因困难再次出现而重新打开过的比例（含下级党组织）。",
)
def reopen_rate(targets: list[int], period) -> dict[int, object]:
    """Cases reopened at least once among those opened in the period and resolved at least once, in %."""

    def value(rows):
        base = [r for r in rows if r["reopen_count"] or r["resolved_at"] is not None]
        if not base:
            return Suppressed(NO_REOPEN_BASE)
        return _percent(sum(1 for r in base if r["reopen_count"]), len(base))

    return _per_target(
        targets, period, field="opened_at", fields=("reopen_count", "resolved_at"), value=value
    )
