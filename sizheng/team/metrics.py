"""Metrics of the 思政 team (队伍建设), level "org", period "year": each value covers the org's subtree.

* ``team.coverage_ratio`` — of the orgs in the subtree bound by TEAM-1 (≥ 50 members: a full-time
  党务干部, rules.md §6), the share that meet it (exempt orgs left out). Four queries.
* ``team.training_hours_per_member`` — the mean 学时 (``study.hours``, the one definition) of the
  people on the subtree's register at some point of the year. Three queries.
* ``team.fulltime_ratio`` — of the 党务干部 on the subtree's register on the as-of day (today, or
  31 December of a past year), the share who are full-time. Two queries.

No value is made up: no bound org / nobody on the register → ``Suppressed`` with the reason.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q
from django.utils import timezone

from sizheng.core.metrics import Suppressed, Tier, metric
from sizheng.org.models import Org
from sizheng.study import hours
from sizheng.team import coverage
from sizheng.team.models import TeamMember, TeamRole

ORG_FIELDS = ("pk", "name", "kind", "path", "depth", "founded_on", "dissolved_on")


def _paths(targets: list[int]) -> dict[int, str]:
    return dict(Org.objects.filter(pk__in=targets).values_list("pk", "path"))


def _future(period) -> bool:
    return period.start > timezone.localdate()


@metric(
    "team.coverage_ratio",
    label="专职党务干部配备率",
    unit="%",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T0,
    level="org",
    description="党员50名以上的党组织中，已配备专职党务干部（TEAM-1）的比例。",
)
def coverage_ratio(targets: list[int], period) -> dict[int, object]:
    """Share of the subtree's orgs bound by TEAM-1 that meet it (rules, orgs, members, covering entries)."""
    if _future(period):
        return {t: Suppressed("年度尚未开始") for t in targets}
    rules = [r for r in coverage.active_rules() if r.code == coverage.TEAM_1]
    if not rules:
        return {t: Suppressed("TEAM-1 规则未启用") for t in targets}
    orgs = list(Org.objects.values(*ORG_FIELDS))
    result = coverage.compute(period.start.year, rules=rules, orgs=orgs)
    paths = {o["pk"]: o["path"] for o in orgs}
    judged = [
        (row.path, row.cells[coverage.TEAM_1].status)
        for row in result.rows.values()
        if coverage.TEAM_1 in row.cells and row.cells[coverage.TEAM_1].status in ("met", *coverage.FAILURES)
    ]
    out: dict[int, object] = {}
    for t in targets:
        path = paths.get(t)
        if path is None:
            continue
        mine = [status for p, status in judged if p.startswith(path)]
        if not mine:
            out[t] = Suppressed("没有党员50名以上的党组织")
            continue
        out[t] = round(100 * sum(s == "met" for s in mine) / len(mine), 1)
    return out


@metric(
    "team.training_hours_per_member",
    label="队伍成员人均培训学时",
    unit="学时",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T0,
    level="org",
    description="本年度在册的思政工作队伍成员参加理论学习的平均学时（按参加的学习会议自动计算）。",
)
def training_hours_per_member(targets: list[int], period) -> dict[int, object]:
    """Mean 学时 of the people on the subtree's register during the year (paths, entries, hours)."""
    year = period.start.year
    paths = _paths(targets)
    if not paths:
        return {}
    q = Q(pk__in=[])
    for p in _prefixes(paths.values()):
        q |= Q(org__path__startswith=p)
    entries = list(TeamMember.objects.in_year(year).filter(q).values_list("person_id", "org__path"))
    by_person = hours.hours_by_person({pid for pid, _ in entries}, year)
    out: dict[int, object] = {}
    for t, path in paths.items():
        people = {pid for pid, org_path in entries if org_path.startswith(path)}
        if not people:
            out[t] = Suppressed("名册中没有队伍成员")
            continue
        out[t] = round(sum(by_person[pid] for pid in people) / len(people), 1)
    return out


@metric(
    "team.fulltime_ratio",
    label="党务干部专职比例",
    unit="%",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T0,
    level="org",
    description="名册中的党务干部里专职人员所占的比例。",
)
def fulltime_ratio(targets: list[int], period) -> dict[int, object]:
    """Share of full-time among the subtree's 党务干部 in force on the as-of day (paths, entries)."""
    if _future(period):
        return {t: Suppressed("年度尚未开始") for t in targets}
    day = coverage.as_of(period.start.year, timezone.localdate())
    paths = _paths(targets)
    if not paths:
        return {}
    q = Q(pk__in=[])
    for p in _prefixes(paths.values()):
        q |= Q(org__path__startswith=p)
    rows = list(
        TeamMember.objects.current(day)
        .filter(q, role=TeamRole.PARTY_CADRE)
        .values_list("person_id", "org__path", "is_full_time")
    )
    out: dict[int, object] = {}
    for t, path in paths.items():
        people: dict[int, bool] = defaultdict(bool)
        for pid, org_path, full_time in rows:
            if org_path.startswith(path):
                people[pid] |= full_time
        if not people:
            out[t] = Suppressed("名册中没有党务干部")
            continue
        out[t] = round(100 * sum(people.values()) / len(people), 1)
    return out


# Beyond this many subtrees, one unfiltered read beats a long OR of prefixes (and SQLite's expression depth).
MAX_PREFIXES = 30


def _prefixes(paths) -> list[str]:
    """The outermost of the paths (a subtree inside another adds nothing); [""] (everything) when many."""
    out: list[str] = []
    for p in sorted(set(paths)):
        if not out or not p.startswith(out[-1]):
            out.append(p)
    return out if len(out) <= MAX_PREFIXES else [""]
