"""Compliance of orgs with the organisational-life rules, computed with ``core.rules``.

Reads in three queries whatever the number of orgs and periods: the active rules, the counted
meetings' dates for the orgs, and the exemptions. Everything else is the pure evaluator.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from sizheng.core import rules as core_rules
from sizheng.life.models import ComplianceRule, Exemption, Meeting
from sizheng.org.models import Org

STATUS_LABELS = {
    "met": "已达标",
    "warning": "未达标（提醒）",
    "violation": "未达标（违规）",
    "exempt": "已豁免",
    "not_yet_due": "尚未到期",
    "not_applicable": "不适用",
}


def to_rule(row: ComplianceRule) -> core_rules.Rule:
    """A database rule as the pure evaluator's Rule."""
    return core_rules.Rule(
        id=row.code,
        activity=row.activity,
        activity_label=row.get_activity_display(),
        verb="召开" if "meeting" in row.activity else "开展",
        org_kinds=frozenset(k.strip() for k in row.org_kinds.split(",") if k.strip()),
        count=row.count,
        period=row.period,
        severity=row.severity,
        label=row.label,
        source=row.source,
        within=row.within or None,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        local=row.is_local,
    )


@dataclass
class Matrix:
    """Outcomes keyed by (org id, rule code, period key), plus what produced them."""

    outcomes: dict[tuple[int, str, str], core_rules.Outcome]
    rules: list[ComplianceRule]
    periods: list[core_rules.Period]


def evaluate(
    orgs: Iterable[Org],
    periods: Iterable[core_rules.Period],
    *,
    today: date | None = None,
    rule_codes: Iterable[str] | None = None,
) -> Matrix:
    """Evaluate the active rules for these orgs over these periods (three queries)."""
    today = today or timezone.localdate()
    orgs = list(orgs)
    periods = list(periods)
    rows = list(ComplianceRule.objects.filter(is_active=True).select_related("scope_org"))
    if rule_codes is not None:
        wanted = set(rule_codes)
        rows = [r for r in rows if r.code in wanted]
    if not orgs or not periods or not rows:
        return Matrix({}, rows, periods)
    start = min(p.start for p in periods)
    end = max(p.end for p in periods)
    org_ids = [o.pk for o in orgs]
    activities: dict[tuple[int, str], list[date]] = defaultdict(list)
    # Aware local midnights, not __date lookups: SQLite would convert every row's timezone in Python.
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    meetings = (
        Meeting.objects.counted()
        .filter(org_id__in=org_ids, starts_at__gte=since, starts_at__lt=until)
        .values_list("org_id", "kind", "starts_at")
    )
    for org_id, kind, starts_at in meetings:
        activities[(org_id, kind)].append(timezone.localtime(starts_at).date())
    exemptions = [
        core_rules.Exemption(
            rule_id=e.rule.code, target_id=e.org_id, reason=e.reason, period_key=e.period_key
        )
        for e in Exemption.objects.filter(org_id__in=org_ids, rule__in=rows).select_related("rule")
    ]
    targets = [core_rules.Target(o.pk, o.kind, o.founded_on, o.dissolved_on) for o in orgs]
    outcomes = core_rules.evaluate_many(
        [to_rule(r) for r in rows], targets, periods, activities, today, exemptions
    )
    # A local rule scoped to an org binds only that org's subtree.
    scoped = {r.code: r.scope_org.path for r in rows if r.scope_org_id}
    if scoped:
        paths = {o.pk: o.path for o in orgs}
        outcomes = {
            k: v for k, v in outcomes.items() if k[1] not in scoped or paths[k[0]].startswith(scoped[k[1]])
        }
    return Matrix(outcomes, rows, periods)


def summarise(outcomes: Iterable[core_rules.Outcome]) -> str:
    """The worst status of a cell's outcomes (violation > warning > not_yet_due > exempt > met)."""
    order = ["violation", "warning", "not_yet_due", "exempt", "met"]
    statuses = {o.status for o in outcomes}
    for status in order:
        if status in statuses:
            return status
    return "not_applicable"
