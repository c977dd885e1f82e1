"""Staffing coverage of orgs (队伍配备), computed with ``core.rules`` over orgs as targets.

A :class:`~sizheng.team.models.CoverageRule` says "each org of these kinds with at least
``min_members`` party members in its subtree has at least ``count`` people of a team role (full-time
only, if so) covering it" — TEAM-1 (rules.md §6: ≥ 50 members and no full-time 党务干部 is a gap)
and TEAM-2 (local: each branch has a 思政骨干). Each rule becomes a ``core.rules.Rule`` whose
activity is "having such a person"; each register entry in force on the *as-of day* that covers the
org is one activity on that day, so ``held`` is the number of people and ``count`` the minimum.

Decisions:

* **A state, not a count over time.** Staffing is checked on one day: today for the running year,
  31 December for a past year. The evaluator is asked as of the day after the year ends, so a gap
  is a gap now (``warning`` / ``violation``), never "not yet due". An org founded during the year
  is ``exempt`` for that year (the evaluator's partial-span rule): it has the year to staff up.
* **Members** are current party members (full and probationary) of the org's subtree on the
  roster; the roster keeps people's current org only, so a past year uses today's org membership
  minus the people who had left by its 31 December. Orgs without members are never bound.
* **Covering**: an entry covers the orgs it names; with the rule's ``inherit`` flag (TEAM-1) also
  every org below them — a 机关党委's full-time 党务干部 serves its branches — but never from the
  机关工委 itself (the root), whose own staff would otherwise cover the whole city.
* Four queries whatever the number of orgs and people: rules, orgs, member counts, covering entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from sizheng.core import rules as core_rules
from sizheng.org.access import ancestor_ids
from sizheng.org.models import PARTY_STATUSES, Org, Person
from sizheng.team.models import CoverageRule, TeamMember

STATUS_LABELS = {
    "met": "已配备",
    "warning": "缺口（预警）",
    "violation": "缺口（违规）",
    "exempt": "本年不作要求",
    "not_yet_due": "尚未到期",
    "not_applicable": "不适用",
}
# Tabler classes and a text mark, so colour is never the only signal.
STATUS_STYLE = {
    "met": ("bg-green-lt", "✓"),
    "warning": ("bg-yellow-lt", "!"),
    "violation": ("bg-red-lt", "✗"),
    "exempt": ("bg-secondary-lt", "免"),
    "not_yet_due": ("bg-azure-lt", "…"),
    "not_applicable": ("", "—"),
}
FAILURES = ("warning", "violation")
TEAM_1 = "TEAM-1"

# The defaults installed as data; the data migration keeps its own copy.
# (code, label, team_role, full_time_only, inherit, org_kinds, min_members, count, severity, source, is_local)
DEFAULTS: list[tuple] = [
    (
        TEAM_1, "党员50名以上的党组织应配备专职党务干部", "party_cadre", True, True,
        "committee,general_branch,branch", 50, 1, "violation",
        "TEAM-1 · 基层党组织分类定级自评表“保障机制”：党员50名以上未配备专职党务干部的扣5分"
        "（中组厅字〔2012〕6号配套做法）。", False,
    ),
    (
        "TEAM-2", "每个党支部至少有1名思政骨干（地方规定）", "backbone", False, False,
        "branch", 0, 1, "warning",
        "本地规定：每个党支部至少培养1名思想政治工作骨干（含青年干部、先进典型），"
        "协助书记开展谈心谈话和思想动态分析。", True,
    ),
]  # fmt: skip


def staff_label(rule: CoverageRule) -> str:
    """Who the rule asks for: "专职党务干部", "思政骨干"."""
    return f"{'专职' if rule.full_time_only else ''}{rule.get_team_role_display()}"


def activity_of(rule: CoverageRule) -> str:
    """The evaluator's activity name for a rule (one per role and full-time switch)."""
    return f"staff:{rule.team_role}{':full_time' if rule.full_time_only else ''}"


def to_rule(row: CoverageRule) -> core_rules.Rule:
    """A rule row as the pure evaluator's yearly Rule."""
    return core_rules.Rule(
        id=row.code,
        activity=activity_of(row),
        activity_label=staff_label(row),
        verb="配备",
        org_kinds=row.kinds or frozenset({"-"}),
        count=row.count,
        period="year",
        severity=row.severity,
        label=row.label,
        source=row.source,
        local=row.is_local,
    )


def active_rules() -> list[CoverageRule]:
    """The rules in force (one query)."""
    return list(CoverageRule.objects.filter(is_active=True).order_by("code"))


def as_of(year: int, today: date) -> date:
    """The day staffing is checked for a year: today for the running year, 31 December for a past one."""
    return min(today, date(year, 12, 31))


@dataclass
class Cell:
    """One rule's verdict for one org: the outcome, how many people cover it, and a sentence."""

    rule: CoverageRule
    outcome: core_rules.Outcome
    members: int

    @property
    def status(self) -> str:
        return self.outcome.status

    @property
    def held(self) -> int:
        return self.outcome.held

    @property
    def is_gap(self) -> bool:
        return self.outcome.status in FAILURES

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def css(self) -> str:
        return STATUS_STYLE[self.status][0]

    @property
    def mark(self) -> str:
        return STATUS_STYLE[self.status][1]

    @property
    def message(self) -> str:
        """The verdict in words (people, not the evaluator's "次")."""
        who = staff_label(self.rule)
        o = self.outcome
        if o.status == "met":
            return f"已配备{who} {o.held} 名，达到要求。"
        if o.status in FAILURES:
            short = f"未配备{who}" if o.held == 0 else f"仅配备{who} {o.held} 名"
            return f"党员 {self.members} 名，{short}，应至少配备 {o.required} 名。"
        return o.message


@dataclass
class OrgRow:
    """One org bound by at least one rule, with its members and a cell per binding rule."""

    org_id: int
    name: str
    kind: str
    path: str
    depth: int
    members: int
    cells: dict[str, Cell] = field(default_factory=dict)

    @property
    def kind_label(self) -> str:
        return Org.Kind(self.kind).label if self.kind in Org.Kind.values else self.kind

    @property
    def worst(self) -> str:
        order = ["violation", "warning", "not_yet_due", "exempt", "met"]
        statuses = {c.status for c in self.cells.values()}
        return next((s for s in order if s in statuses), "not_applicable")


@dataclass
class Coverage:
    """The staffing coverage of every bound org for one year, checked on ``as_of``."""

    year: int
    as_of: date
    rules: list[CoverageRule]
    rows: dict[int, OrgRow]

    def in_subtree(self, path: str | None) -> list[OrgRow]:
        """Rows of the orgs in a subtree (all rows for None), in tree order."""
        rows = (
            self.rows.values() if path is None else (r for r in self.rows.values() if r.path.startswith(path))
        )
        return sorted(rows, key=lambda r: r.path)

    def gaps(self, path: str | None = None) -> list[tuple[OrgRow, Cell]]:
        """The (org, cell) pairs that are gaps, in tree order."""
        return [(row, c) for row in self.in_subtree(path) for c in row.cells.values() if c.is_gap]

    def summary(self, code: str, path: str | None = None) -> tuple[int, int]:
        """(met, judged) for one rule over a subtree: exempt orgs are left out of both."""
        met = judged = 0
        for row in self.in_subtree(path):
            c = row.cells.get(code)
            if c is None or c.status not in ("met", *FAILURES):
                continue
            judged += 1
            met += c.status == "met"
        return met, judged


def member_counts(orgs: list[dict], day: date) -> dict[int, int]:
    """Party members of each org's subtree on the roster on ``day`` (one grouped query)."""
    own = dict(
        Person.objects.filter(org__isnull=False, political_status__in=PARTY_STATUSES)
        .filter(Q(left_on__isnull=True) | Q(left_on__gt=day))
        .values("org_id")
        .annotate(n=Count("pk"))
        .values_list("org_id", "n")
    )
    total: dict[int, int] = defaultdict(int)
    for o in orgs:
        n = own.get(o["pk"], 0)
        if n:
            for anc in ancestor_ids(o["path"]):
                total[anc] += n
    return total


def _holders(roles: Iterable[str], day: date) -> dict[tuple[int, str], list[tuple[int, bool]]]:
    """(covered org, role) → [(person, full-time)] of the entries in force on ``day`` (one query)."""
    through = TeamMember.covers.through
    rows = (
        through.objects.filter(teammember__role__in=list(roles), teammember__since__lte=day)
        .filter(Q(teammember__until__isnull=True) | Q(teammember__until__gte=day))
        .filter(Q(teammember__person__left_on__isnull=True) | Q(teammember__person__left_on__gt=day))
        .values_list("org_id", "teammember__role", "teammember__person_id", "teammember__is_full_time")
    )
    out: dict[tuple[int, str], list[tuple[int, bool]]] = defaultdict(list)
    for org_id, role, person_id, full_time in rows:
        out[(org_id, role)].append((person_id, full_time))
    return out


def compute(
    year: int,
    *,
    today: date | None = None,
    rules: list[CoverageRule] | None = None,
    orgs: list[dict] | None = None,
) -> Coverage:
    """Coverage of every org bound by the active rules in ``year`` (four queries; ``rules`` and
    ``orgs`` — rows of ``pk, name, kind, path, depth, founded_on, dissolved_on`` — save theirs)."""
    today = today or timezone.localdate()
    rules = active_rules() if rules is None else rules
    day = as_of(year, today)
    if year > today.year or not rules:
        return Coverage(year, day, rules, {})
    if orgs is None:
        orgs = list(Org.objects.values("pk", "name", "kind", "path", "depth", "founded_on", "dissolved_on"))
    members = member_counts(orgs, day)
    holders = _holders({r.team_role for r in rules}, day)
    period = core_rules.Period.of("year", year)
    # Asked as of the day after the year: a state is judged now, never "not yet due" (see above).
    judge_on = period.end + timedelta(days=1)
    by_pk = {o["pk"]: o for o in orgs}
    rows: dict[int, OrgRow] = {}
    for rule in rules:
        kinds = rule.kinds
        floor = max(rule.min_members, 1)
        targets, activities = [], {}
        activity = activity_of(rule)
        for o in orgs:
            if o["kind"] not in kinds or members.get(o["pk"], 0) < floor:
                continue
            if o["founded_on"] and o["founded_on"] > day:
                continue
            if o["dissolved_on"] and o["dissolved_on"] <= day:
                continue
            covering = [o["pk"]]
            if rule.inherit:
                covering = ancestor_ids(o["path"])[1:] or covering  # never from the root 机关工委
            people = {
                pid
                for org_id in covering
                for pid, full_time in holders.get((org_id, rule.team_role), ())
                if full_time or not rule.full_time_only
            }
            targets.append(core_rules.Target(o["pk"], o["kind"], o["founded_on"], o["dissolved_on"]))
            activities[(o["pk"], activity)] = [day] * len(people)
        if not targets:
            continue
        outcomes = core_rules.evaluate_many([to_rule(rule)], targets, [period], activities, judge_on)
        for (org_id, _code, _key), outcome in outcomes.items():
            o = by_pk[org_id]
            row = rows.get(org_id)
            if row is None:
                row = rows[org_id] = OrgRow(
                    org_id, o["name"], o["kind"], o["path"], o["depth"], members.get(org_id, 0)
                )
            row.cells[rule.code] = Cell(rule, outcome, row.members)
    return Coverage(year, day, rules, rows)


__all__ = [
    "DEFAULTS",
    "STATUS_LABELS",
    "TEAM_1",
    "Cell",
    "Coverage",
    "OrgRow",
    "active_rules",
    "compute",
    "staff_label",
    "to_rule",
]
