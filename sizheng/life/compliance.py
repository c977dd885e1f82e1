"""Compliance of orgs with the organisational-life rules, computed with ``core.rules``.

Reads in three queries whatever the number of orgs and periods: the active rules (none when the
caller passes them), the counted meetings' dates for the orgs, and the exemptions. Everything else
is the pure evaluator, asked once per distinct verdict (see ``_judge_all``).

Results derived from an evaluation may be kept in the default cache with :func:`cached`, keyed with
the **data version** (:func:`data_version`): a token every write of what ``evaluate`` reads replaces
after its commit (:func:`data_changed` — meetings, exemptions, rules, the org tree), so a cached result
is never served once the data it was computed from has changed.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from sizheng.core import rules as core_rules
from sizheng.life.models import ComplianceRule, Exemption, Meeting
from sizheng.org import events
from sizheng.org.models import Org

STATUS_LABELS = {
    "met": "已达标",
    "warning": "未达标（提醒）",
    "violation": "未达标（违规）",
    "exempt": "已豁免",
    "not_yet_due": "尚未到期",
    "not_applicable": "不适用",
}
# Statuses from worst to best: a heatmap cell shows the worst of its outcomes (none: not applicable).
WORST_FIRST = ("violation", "warning", "not_yet_due", "exempt", "met")

VERSION_KEY = "life:compliance:version"
CACHE_TIMEOUT = 6 * 3600  # a cached result's lifetime; freshness comes from the version, not from this
T = TypeVar("T")


def data_version() -> str:
    """The current data version: a random token, replaced by every :func:`data_changed`.

    A token rather than a counter: a file cache's ``incr`` is a read then a write, so two processes
    bumping at once could set the same number, or an older one; a fresh token is never reused. A token
    lost to a cache cull is replaced by a new one (the cached results just miss once).
    """
    version = cache.get(VERSION_KEY)
    if version is None:
        version = secrets.token_hex(8)
        if not cache.add(VERSION_KEY, version, timeout=None):
            version = cache.get(VERSION_KEY) or version
    return version


def _bump() -> None:
    cache.set(VERSION_KEY, secrets.token_hex(8), timeout=None)


def data_changed() -> None:
    """Something ``evaluate`` reads changed: a meeting, an exemption, a rule or an org.

    The version is replaced once the transaction commits (at once outside one): a reader that read the
    old version before the commit stores its result under the old version, never read again; a reader
    that reads the new one also sees the committed data. Every write path calls this (see README).
    """
    transaction.on_commit(_bump)


@events.subscribe("org_changed")
def _org_changed(**_) -> None:
    """An org was created or changed (kind, founding, dissolution, place): ``org.services`` emits it."""
    data_changed()


def cached(parts: tuple, compute: Callable[[], T]) -> T:
    """``compute()``, kept in the default cache under ``parts`` and the data version.

    ``parts`` must name everything the result depends on besides the data (year, columns, rules chosen,
    the orgs in view, ``today``). The version is read *before* computing, so a write committed during
    the computation leaves the result under a version no longer current.
    """
    approval = ",".join(sorted(getattr(settings, "LIFE_APPROVAL_REQUIRED", ())))
    raw = repr((data_version(), approval, *parts)).encode()
    key = "life:compliance:result:" + hashlib.blake2b(raw, digest_size=16).hexdigest()
    hit = cache.get(key)
    if hit is not None:
        return hit
    value = compute()
    cache.set(key, value, CACHE_TIMEOUT)
    return value


def orgs_digest(orgs: Iterable[Org]) -> str:
    """A short digest of a set of orgs (their ids), for a cache key."""
    ids = ",".join(str(pk) for pk in sorted(o.pk for o in orgs))
    return hashlib.blake2b(ids.encode(), digest_size=16).hexdigest()


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
    rules: Iterable[ComplianceRule] | None = None,
) -> Matrix:
    """Evaluate the active rules for these orgs over these periods (three queries; two when the
    caller passes ``rules``, the active rules it already read with their ``scope_org``)."""
    today = today or timezone.localdate()
    orgs = list(orgs)
    periods = list(periods)
    if rules is None:
        rules = ComplianceRule.objects.filter(is_active=True).select_related("scope_org")
    rows = list(rules)
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
    meetings = Meeting.objects.counted().filter(org_id__in=org_ids, starts_at__gte=since, starts_at__lt=until)
    if rule_codes is not None:
        # Only the chosen rules' activities (not always: SQLite then prefers the kind index, slower for few orgs).
        meetings = meetings.filter(kind__in={r.activity for r in rows})
    for org_id, kind, starts_at in meetings.values_list("org_id", "kind", "starts_at").order_by():
        activities[(org_id, kind)].append(starts_at.astimezone(tz).date())
    exemptions = [
        core_rules.Exemption(
            rule_id=e.rule.code, target_id=e.org_id, reason=e.reason, period_key=e.period_key
        )
        for e in Exemption.objects.filter(org_id__in=org_ids, rule__in=rows).select_related("rule")
    ]
    targets = [core_rules.Target(o.pk, o.kind, o.founded_on, o.dissolved_on) for o in orgs]
    outcomes = _judge_all([to_rule(r) for r in rows], targets, periods, activities, today, exemptions)
    # A local rule scoped to an org binds only that org's subtree.
    scoped = {r.code: r.scope_org.path for r in rows if r.scope_org_id}
    if scoped:
        paths = {o.pk: o.path for o in orgs}
        outcomes = {
            k: v for k, v in outcomes.items() if k[1] not in scoped or paths[k[0]].startswith(scoped[k[1]])
        }
    return Matrix(outcomes, rows, periods)


def _judge_all(
    rules: list[core_rules.Rule],
    targets: list[core_rules.Target],
    periods: list[core_rules.Period],
    activities: dict[tuple[int, str], list[date]],
    today: date,
    exemptions: list[core_rules.Exemption],
) -> dict[tuple[int, str, str], core_rules.Outcome]:
    """``core_rules.evaluate_many``, with each distinct verdict judged once.

    A verdict depends on the rule, the period, the part of the counting span the org existed in, the
    number of activities held in the span and the org's exemptions from the rule — not on which org
    it is (nor on its kind, once the rule binds it). Orgs without an exemption from the rule that
    share the rest share one ``core_rules.evaluate`` call, copied with their own id; the others are
    judged one by one. So the rules' meaning stays in ``core.rules`` only (a property test checks
    this against ``evaluate_many``), and at city scale 10 a year's 35,000 outcomes need about 2,800
    calls instead of 35,000.
    """
    by_kind: dict[str, list[core_rules.Period]] = defaultdict(list)
    for p in periods:
        by_kind[p.kind].append(p)
    # Per rule: its periods with their counting spans (the span's key is what the counts are kept by).
    plan = {r.id: [(p, p.key, r.span(p)) for p in by_kind.get(r.period, [])] for r in rules}
    span_kinds: dict[str, set[str]] = defaultdict(set)
    for r in rules:
        span_kinds[r.activity].update(span.kind for _, _, span in plan[r.id])
    keys: dict[tuple[str, int, int], str] = {}  # (span kind, year, month) → the span's key

    def key_of(kind: str, d: date) -> str:
        k = keys.get((kind, d.year, d.month))
        if k is None:
            k = keys[(kind, d.year, d.month)] = core_rules.Period.containing(kind, d).key  # type: ignore[arg-type]
        return k

    counts: dict[tuple[int, str], Counter[str]] = {}
    for (org_id, activity), days in activities.items():
        kinds = span_kinds.get(activity)
        if kinds:
            counts[(org_id, activity)] = Counter(key_of(k, d) for d in days for k in kinds)
    exempted: dict[tuple[str, int], list[core_rules.Exemption]] = defaultdict(list)
    for ex in exemptions:
        exempted[(ex.rule_id, ex.target_id)].append(ex)
    empty: Counter[str] = Counter()
    # Orgs that existed on every day evaluated: their lifetime never changes a verdict.
    first, last = min(p.start for p in periods), max(p.end for p in periods)
    always = {t.id for t in targets if (t.founded_on or first) <= first and (t.dissolved_on or last) >= last}
    result: dict[tuple[int, str, str], core_rules.Outcome] = {}
    for r in rules:
        steps = [(p, key, span, span.key) for p, key, span in plan[r.id]]
        seen: dict[tuple, core_rules.Outcome] = {}  # this rule's verdicts (the org's kind: it binds)
        for t in targets:
            if not r.binds(t.kind):
                continue
            counter = counts.get((t.id, r.activity), empty)
            own = exempted.get((r.id, t.id))
            whole = t.id in always
            for p, key, span, span_key in steps:
                held = counter[span_key]
                if own:
                    result[(t.id, r.id, key)] = core_rules.evaluate(
                        r, t, p, [span.start] * held, today=today, exemptions=own
                    )
                    continue
                if whole:
                    memo: tuple = (key, held)
                else:  # the lifetime matters only as far as it overlaps the counting span
                    lo = span.start if t.founded_on is None or t.founded_on < span.start else t.founded_on
                    hi = span.end if t.dissolved_on is None or t.dissolved_on > span.end else t.dissolved_on
                    memo = (key, held, lo, hi)
                o = seen.get(memo)
                if o is None:
                    o = seen[memo] = core_rules.evaluate(r, t, p, [span.start] * held, today=today)
                elif o.target_id != t.id:
                    o = core_rules.Outcome(o.status, o.held, o.required, o.message, o.rule_id, t.id,
                                           o.period_key, o.deadline, o.reason)  # fmt: skip
                result[(t.id, r.id, key)] = o
    return result
