"""Reminders to branch secretaries before a compliance period closes ("本季度尚未召开党员大会").

Every workday in the last ``LEAD_DAYS`` calendar days of a month, quarter, half-year or year, each
org's secretaries are reminded of the rules still short in the running period. The reminder key
``compliance:<org>:<rule>:<period>`` makes it once per org, rule and period, however many days the
window has: when the tenth day before the end is a rest day, the first workday after it sends.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, time

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from sizheng.core import calendar
from sizheng.core.models import Role, RoleGrant, SentReminder, User
from sizheng.core.rules import PERIOD_KINDS, Period
from sizheng.core.scheduler import periodic, remind
from sizheng.life import compliance
from sizheng.life.models import ComplianceRule
from sizheng.org.models import Org

# Calendar days before the end of a period from which the reminder goes out.
LEAD_DAYS = 10


def closing_periods(today: date) -> list[Period]:
    """The running periods (of every kind) that end within ``LEAD_DAYS`` calendar days."""
    out = []
    for kind in PERIOD_KINDS:
        p = Period.containing(kind, today)
        if (p.end - today).days <= LEAD_DAYS:
            out.append(p)
    return out


def key_for(org_id: int, rule_code: str, period_key: str) -> str:
    """The reminder key: one reminder per org, rule and period."""
    return f"compliance:{org_id}:{rule_code}:{period_key}"


def _title(org: Org, row: ComplianceRule, period: Period, held: int) -> str:
    """ "本季度尚未召开党员大会", or how many are still missing."""
    span = compliance.to_rule(row).span(period)
    verb = "召开" if "meeting" in row.activity else "开展"
    what = f"{span.this_label}尚未{verb}{row.get_activity_display()}"
    if held:
        what = f"{span.this_label}{row.get_activity_display()}还差 {row.count - held} 次"
    return f"{org.name}：{what}"


def _cell_url(org_id: int, period_key: str) -> str:
    """The drill-down page of the gap (empty while the life URLs are not installed)."""
    try:
        return reverse("life:compliance_cell", args=[org_id, period_key])
    except NoReverseMatch:
        return ""


@periodic("life.compliance_reminders", at=time(8, 15), label="组织生活到期前提醒")
def compliance_reminders(today: date | None = None) -> int:
    """Remind secretaries of rules still short in periods closing soon; returns the number sent.

    One org query, one ``compliance.evaluate`` (three queries), one query for the keys already
    sent and one for the secretaries' grants; only the reminders still to send cost more.
    """
    today = today or timezone.localdate()
    if not calendar.is_workday(today):
        return 0
    periods = closing_periods(today)
    if not periods:
        return 0
    kinds = {
        k.strip()
        for kinds in ComplianceRule.objects.filter(is_active=True).values_list("org_kinds", flat=True)
        for k in kinds.split(",")
        if k.strip()
    }
    orgs = {o.pk: o for o in Org.objects.filter(kind__in=kinds).exclude(dissolved_on__lt=today)}
    matrix = compliance.evaluate(list(orgs.values()), periods, today=today)
    rules = {r.code: r for r in matrix.rules}
    by_key = {p.key: p for p in periods}
    gaps = [
        (org_id, code, key, o.held)
        for (org_id, code, key), o in matrix.outcomes.items()
        # Within its running counting span only: a Q4 timing rule says nothing before Q4.
        if o.status == "not_yet_due"
        and o.held < o.required
        and today in compliance.to_rule(rules[code]).span(by_key[key])
    ]
    if not gaps:
        return 0
    keys = [key_for(org_id, code, key) for org_id, code, key, _ in gaps]
    sent_before = set(SentReminder.objects.filter(key__in=keys).values_list("key", flat=True))
    gaps = [g for g, k in zip(gaps, keys, strict=True) if k not in sent_before]
    secretaries: dict[int, list[User]] = defaultdict(list)
    grants = (
        RoleGrant.objects.in_force(today)
        .filter(role=Role.SECRETARY, scope_kind=RoleGrant.ScopeKind.ORG, scope_id__in={g[0] for g in gaps})
        .filter(user__is_active=True)
        .select_related("user")
    )
    for grant in grants:
        secretaries[grant.scope_id].append(grant.user)
    sent = 0
    for org_id, code, key, held in gaps:
        users = secretaries.get(org_id)
        if not users:
            continue
        org, row, period = orgs[org_id], rules[code], by_key[key]
        outcome = matrix.outcomes[(org_id, code, key)]
        url = _cell_url(org_id, key)
        body = f"{outcome.message}依据：{row.source}"
        if remind(
            key_for(org_id, code, key), users, title=_title(org, row, period, held), body=body, url=url
        ):
            sent += 1
    return sent
