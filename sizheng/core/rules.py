"""Rules as data, evaluated: periods, rules, exemptions and a pure evaluator (no Django).

A :class:`Rule` says "an org of these kinds holds at least ``count`` activities of this kind
per ``period``" with a severity and a source (rules.md: 一般 → warning, 至少/应当 → violation).
:func:`evaluate` turns one rule, one target org, one period and the dates of the target's
activities into an :class:`Outcome`.

Decisions (the rules below are the whole contract; tests pin each of them):

* **Counting span.** Activities are counted in the period, or, when the rule has a
  ``within`` window (only for yearly rules, e.g. ``within="Q4"`` for BR-OLM-1 / DLM-2
  "一般在第四季度"), only in that quarter/half/month of the year. The span is also the
  deadline: a timing rule is due once its window has ended. A timing rule is a rule of its
  own (its own id), so "held in the year but not in Q4" is a warning on the timing rule
  while the yearly rule is met. Duplicates count: two meetings on one day are two.
* **Binding span.** The rule binds the target on the days of the counting span on which
  the target existed (``founded_on`` and ``dissolved_on`` both inclusive: an org is still
  responsible on the day it is dissolved) and the rule was in effect (``effective_from``
  and ``effective_to`` both inclusive). If that is empty → ``not_applicable``. If it is
  only part of the span (an org founded or dissolved mid-period, a rule starting or
  ending mid-period) → ``exempt`` with the reason in the message — rules.md names "an org
  created mid-quarter" as the classic exemption, and pro-rating a count of 1 has no
  sensible answer. Met is always met: enough activities make any binding outcome ``met``.
* **Order of decisions.** not bound by kind / empty binding span → ``not_applicable``;
  held ≥ required → ``met``; a matching :class:`Exemption` → ``exempt`` (its reason is
  carried); partial binding span → ``exempt``; span not yet ended (``today <= end``) →
  ``not_yet_due``; otherwise the rule's severity (``warning`` or ``violation``).
* **Exemptions** name a rule, a target and either a period key (any kind: "2026" exempts
  every month of 2026) or a date range (open at either end). An exemption applies when its
  days overlap the counting span, mirroring the partial-span rule above.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, get_args

PeriodKind = Literal["month", "quarter", "half", "year"]
Severity = Literal["warning", "violation"]
Status = Literal["met", "warning", "violation", "exempt", "not_yet_due", "not_applicable"]
TargetId = Hashable

PERIOD_KINDS: tuple[PeriodKind, ...] = get_args(PeriodKind)
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
STATUSES: tuple[Status, ...] = get_args(Status)

_MONTHS: dict[PeriodKind, int] = {"month": 1, "quarter": 3, "half": 6, "year": 12}
_CN_DIGITS = "一二三四"
_KEY_RE = re.compile(r"^(\d{4})(?:-(?:(\d{2})|Q(\d)|H(\d)))?$")
_WITHIN_RE = re.compile(r"^(?:Q[1-4]|H[12]|M(?:0[1-9]|1[0-2]))$")


def _month_end(year: int, month: int) -> date:
    """The last day of a month."""
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """A calendar month, quarter, half-year or year: ``start`` and ``end`` both inclusive."""

    kind: PeriodKind
    start: date
    end: date

    def __post_init__(self) -> None:
        """Refuse spans that are not a whole calendar period of their kind."""
        months = _MONTHS.get(self.kind)
        if months is None:
            raise ValueError(f"unknown period kind {self.kind!r}")
        s = self.start
        if s.day != 1 or (s.month - 1) % months or self.end != _month_end(s.year, s.month + months - 1):
            raise ValueError(f"{s}..{self.end} is not a {self.kind}")

    @classmethod
    def of(cls, kind: PeriodKind, year: int, index: int = 1) -> Period:
        """The ``index``-th (1-based) period of ``kind`` in ``year``: ``of("quarter", 2026, 3)``."""
        months = _MONTHS.get(kind)
        if months is None:
            raise ValueError(f"unknown period kind {kind!r}")
        if not 1 <= index <= 12 // months:
            raise ValueError(f"{kind} index {index} out of range")
        first = (index - 1) * months + 1
        return cls(kind, date(year, first, 1), _month_end(year, first + months - 1))

    @classmethod
    def containing(cls, kind: PeriodKind, d: date) -> Period:
        """The period of ``kind`` that contains day ``d``."""
        months = _MONTHS.get(kind)
        if months is None:
            raise ValueError(f"unknown period kind {kind!r}")
        return cls.of(kind, d.year, (d.month - 1) // months + 1)

    @classmethod
    def parse(cls, key: str) -> Period:
        """The period named by a key: "2026-07", "2026-Q3", "2026-H2" or "2026"."""
        m = _KEY_RE.match(key)
        if m is None:
            raise ValueError(f"invalid period key {key!r}")
        year = int(m.group(1))
        if m.group(2) is not None:
            return cls.of("month", year, int(m.group(2)))
        if m.group(3) is not None:
            return cls.of("quarter", year, int(m.group(3)))
        if m.group(4) is not None:
            return cls.of("half", year, int(m.group(4)))
        return cls.of("year", year)

    @property
    def index(self) -> int:
        """1-based position of the period in its year (month number, quarter number, …)."""
        return (self.start.month - 1) // _MONTHS[self.kind] + 1

    @property
    def key(self) -> str:
        """The stable key: "2026-07", "2026-Q3", "2026-H2" or "2026"."""
        y = f"{self.start.year:04d}"
        if self.kind == "month":
            return f"{y}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{y}-Q{self.index}"
        if self.kind == "half":
            return f"{y}-H{self.index}"
        return y

    @property
    def label(self) -> str:
        """The Chinese name: "2026年7月", "2026年第三季度", "2026年下半年", "2026年度"."""
        y = self.start.year
        if self.kind == "month":
            return f"{y}年{self.start.month}月"
        if self.kind == "quarter":
            return f"{y}年第{_CN_DIGITS[self.index - 1]}季度"
        if self.kind == "half":
            return f"{y}年{'上' if self.index == 1 else '下'}半年"
        return f"{y}年度"

    @property
    def this_label(self) -> str:
        """How the period is named while it is running: "本月", "本季度", "本半年", "本年度"."""
        return {"month": "本月", "quarter": "本季度", "half": "本半年", "year": "本年度"}[self.kind]

    @property
    def days(self) -> int:
        """Number of days in the period."""
        return (self.end - self.start).days + 1

    def __contains__(self, d: object) -> bool:
        """Whether a day falls in the period."""
        return isinstance(d, date) and self.start <= d <= self.end

    def next(self) -> Period:
        """The following period of the same kind (Q4 → next year's Q1)."""
        return Period.containing(self.kind, self.end + timedelta(days=1))

    def previous(self) -> Period:
        """The preceding period of the same kind (Q1 → last year's Q4)."""
        return Period.containing(self.kind, self.start - timedelta(days=1))

    def __str__(self) -> str:
        """The key, so periods print the way they are stored."""
        return self.key


def periods_between(kind: PeriodKind, start: date, end: date) -> Iterator[Period]:
    """The periods of ``kind`` covering ``start``..``end`` in order, without gaps or overlaps."""
    if start > end:
        return
    p = Period.containing(kind, start)
    while True:
        yield p
        if p.end >= end:
            return
        p = p.next()


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One checkable requirement, as data: an activity, the org kinds it binds, a count per period."""

    id: str
    activity: str
    org_kinds: frozenset[str]
    count: int
    period: PeriodKind
    severity: Severity
    label: str
    activity_label: str
    source: str
    verb: str = "开展"
    within: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    local: bool = False

    def __post_init__(self) -> None:
        """Refuse rules the evaluator could not read unambiguously."""
        if not self.id or not self.activity or not self.label or not self.activity_label:
            raise ValueError("a rule needs an id, an activity, a label and an activity label")
        if not isinstance(self.org_kinds, frozenset):
            object.__setattr__(self, "org_kinds", frozenset(self.org_kinds))
        if not self.org_kinds:
            raise ValueError(f"rule {self.id} binds no org kind")
        if self.count < 1:
            raise ValueError(f"rule {self.id}: count must be at least 1")
        if self.period not in _MONTHS:
            raise ValueError(f"rule {self.id}: unknown period {self.period!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.id}: unknown severity {self.severity!r}")
        # A window is a part of the year, so only a yearly rule can have one.
        if self.within is not None and (self.period != "year" or not _WITHIN_RE.match(self.within)):
            raise ValueError(f"rule {self.id}: within must be Q1-Q4, H1-H2 or M01-M12 on a yearly rule")
        if self.effective_from and self.effective_to and self.effective_from > self.effective_to:
            raise ValueError(f"rule {self.id}: effective_from is after effective_to")

    def binds(self, kind: str) -> bool:
        """Whether the rule applies to orgs of this kind."""
        return kind in self.org_kinds

    def span(self, period: Period) -> Period:
        """The period whose activities count (and whose end is the deadline) for ``period``."""
        if period.kind != self.period:
            raise ValueError(f"rule {self.id} is per {self.period}, not per {period.kind}")
        if self.within is None:
            return period
        w = self.within
        year = period.start.year
        if w[0] == "Q":
            return Period.of("quarter", year, int(w[1]))
        if w[0] == "H":
            return Period.of("half", year, int(w[1]))
        return Period.of("month", year, int(w[1:]))


@dataclass(frozen=True)
class Target:
    """An org the rules are checked against: its id, kind and lifetime (both ends inclusive)."""

    id: TargetId
    kind: str
    founded_on: date | None = None
    dissolved_on: date | None = None

    def __post_init__(self) -> None:
        """Refuse a lifetime that ends before it starts."""
        if self.founded_on and self.dissolved_on and self.founded_on > self.dissolved_on:
            raise ValueError(f"target {self.id}: founded after it was dissolved")


@dataclass(frozen=True, kw_only=True)
class Exemption:
    """An administrator's decision that a rule does not bind a target for a period, with a reason."""

    rule_id: str
    target_id: TargetId
    reason: str
    period_key: str | None = None
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        """Require a reason and exactly one way of naming the days exempted."""
        if not self.reason or not self.reason.strip():
            raise ValueError("an exemption needs a reason")
        has_range = self.start is not None or self.end is not None
        if (self.period_key is not None) == has_range:
            raise ValueError("an exemption names either a period key or a date range")
        if self.period_key is not None:
            Period.parse(self.period_key)
        if self.start and self.end and self.start > self.end:
            raise ValueError("an exemption's start is after its end")

    def bounds(self) -> tuple[date, date]:
        """The exempted days as an inclusive range (open ends become date.min / date.max)."""
        if self.period_key is not None:
            p = Period.parse(self.period_key)
            return p.start, p.end
        return self.start or date.min, self.end or date.max

    def covers(self, rule_id: str, target_id: TargetId, span: Period) -> bool:
        """Whether this exemption applies to the rule, the target and (overlapping) the span."""
        if rule_id != self.rule_id or target_id != self.target_id:
            return False
        lo, hi = self.bounds()
        return lo <= span.end and span.start <= hi


@dataclass(frozen=True)
class Outcome:
    """The verdict of one rule for one target and period, with the counts and a Chinese message."""

    status: Status
    held: int
    required: int
    message: str
    rule_id: str
    target_id: TargetId
    period_key: str
    deadline: date
    reason: str = ""

    @property
    def is_failure(self) -> bool:
        """Whether the outcome is a warning or a violation."""
        return self.status in ("warning", "violation")


def _overlap(a: tuple[date, date], b: tuple[date, date]) -> tuple[date, date] | None:
    """The intersection of two inclusive date ranges, or None."""
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else None


def _judge(
    rule: Rule,
    target: Target,
    period: Period,
    held: int,
    *,
    today: date,
    exemptions: Iterable[Exemption],
) -> Outcome:
    """Decide the outcome once the activities in the counting span are counted."""
    span = rule.span(period)
    now = span.this_label if today in span else span.label
    noun = f"{rule.verb}{rule.activity_label}"

    def out(status: Status, message: str, *, required: int = rule.count, reason: str = "") -> Outcome:
        """Build the outcome for this rule, target and period."""
        return Outcome(status, held, required, message, rule.id, target.id, period.key, span.end, reason)

    if not rule.binds(target.kind):
        return out("not_applicable", "该规则不适用于此类党组织。", required=0)
    whole = (span.start, span.end)
    in_force = _overlap(whole, (rule.effective_from or date.min, rule.effective_to or date.max))
    if in_force is None:
        return out("not_applicable", f"该规则在{span.label}不执行。", required=0)
    existing = _overlap(whole, (target.founded_on or date.min, target.dissolved_on or date.max))
    if existing is None:
        return out("not_applicable", f"该党组织在{span.label}尚未成立或已撤销。", required=0)
    if held >= rule.count:
        return out("met", f"{now}已{noun} {held} 次，达到要求。")
    for ex in exemptions:
        if ex.covers(rule.id, target.id, span):
            return out("exempt", f"已登记免于检查：{ex.reason.strip()}。", reason=ex.reason.strip())
    if existing != whole:
        # rules.md: an org created mid-period is the classic exemption; no pro-rating.
        what = "成立" if existing[0] > span.start else "撤销"
        reason = f"该党组织于{span.label}内{what}，本期不作要求"
        return out("exempt", f"{reason}。", reason=reason)
    if in_force != whole:
        reason = f"该规则于{span.label}内开始或停止执行，本期不作要求"
        return out("exempt", f"{reason}。", reason=reason)
    if today <= span.end:
        return out(
            "not_yet_due",
            f"{now}应{noun} {rule.count} 次，目前 {held} 次，"
            f"期限为 {span.end.year}年{span.end.month}月{span.end.day}日。",
        )
    return out(rule.severity, f"{now}应{noun} {rule.count} 次，实际 {held} 次，未达到要求。")


def evaluate(
    rule: Rule,
    target: Target,
    period: Period,
    activity_dates: Iterable[date],
    *,
    today: date,
    exemptions: Iterable[Exemption] = (),
) -> Outcome:
    """Evaluate one rule for one target and period, given the dates of the target's activities."""
    span = rule.span(period)
    held = sum(1 for d in activity_dates if span.start <= d <= span.end)
    return _judge(rule, target, period, held, today=today, exemptions=exemptions)


def evaluate_many(
    rules: Iterable[Rule],
    targets: Iterable[Target],
    periods: Iterable[Period],
    activities_by_target_and_activity: Mapping[tuple[TargetId, str], Iterable[date]],
    today: date,
    exemptions: Iterable[Exemption] = (),
    *,
    include_not_applicable: bool = False,
) -> dict[tuple[TargetId, str, str], Outcome]:
    """Evaluate every rule for every target and period of the rule's kind, keyed by
    ``(target_id, rule_id, period_key)``.

    Activities are bucketed once per (target, activity) by period key, and exemptions by
    (rule, target), so the cost is linear in activities + exemptions + outcomes. Pairs whose
    rule does not bind the target's kind are left out unless ``include_not_applicable``.
    """
    rule_list = list(rules)
    target_list = list(targets)
    by_kind: dict[str, list[Period]] = defaultdict(list)
    for p in periods:
        by_kind[p.kind].append(p)
    # Which span kinds each activity needs counted (a Q4 window counts by quarter).
    span_kinds: dict[str, set[PeriodKind]] = defaultdict(set)
    for r in rule_list:
        if by_kind.get(r.period):
            span_kinds[r.activity].add(r.span(by_kind[r.period][0]).kind)
    buckets: dict[tuple[TargetId, str], Counter[str]] = {}
    for (target_id, activity), dates in activities_by_target_and_activity.items():
        kinds = span_kinds.get(activity)
        if not kinds:
            continue
        counter: Counter[str] = Counter()
        for d in dates:
            for k in kinds:
                counter[Period.containing(k, d).key] += 1
        buckets[(target_id, activity)] = counter
    ex_by_pair: dict[tuple[str, TargetId], list[Exemption]] = defaultdict(list)
    for ex in exemptions:
        ex_by_pair[(ex.rule_id, ex.target_id)].append(ex)
    empty: Counter[str] = Counter()
    result: dict[tuple[TargetId, str, str], Outcome] = {}
    for r in rule_list:
        for t in target_list:
            if not include_not_applicable and not r.binds(t.kind):
                continue
            counter = buckets.get((t.id, r.activity), empty)
            exs = ex_by_pair.get((r.id, t.id), [])
            for p in by_kind.get(r.period, []):
                held = counter[r.span(p).key]
                result[(t.id, r.id, p.key)] = _judge(r, t, p, held, today=today, exemptions=exs)
    return result


__all__ = [
    "PERIOD_KINDS",
    "SEVERITIES",
    "STATUSES",
    "Exemption",
    "Outcome",
    "Period",
    "PeriodKind",
    "Rule",
    "Severity",
    "Status",
    "Target",
    "evaluate",
    "evaluate_many",
    "periods_between",
]
