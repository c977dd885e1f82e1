"""Talk coverage (BR-TALK-1, rules.md §3 and §5) computed with ``core.rules`` from who and when only.

A coverage rule binds a *person* through a relationship (``CoverageRule.target_kind``) and asks
for at least ``count`` held talks a year with the people on the other side of it:

* ``branch_member`` (BR-TALK-1): each party member of a branch (a member of one of its 党小组
  included) with a 支委 of that branch — a person holding a committee post (书记, 副书记, 组织委员,
  宣传委员, 纪检委员, 委员) of the branch on the day of the talk. A 支委 needs a talk with another
  支委; a branch's only 支委 (no committee, BR-COM-1) needs a talk with any member of the branch.
* ``team_member`` (LEAD-TALK-1, local): each member of a unit's leadership team
  (``Person.is_leader``) with the unit's principal leader. The roster has no "principal" flag, so
  the principal leader is a leader whose position is filled in and does not contain "副"
  (局长, 党组书记 — not 副局长); a leader with no position is treated as a team member.
* ``group_member`` (GROUP-TALK-1, local): each member of a 党小组 with its 党小组长.

A rule binds a person only when the other side exists in the year (a branch with some other 支委
or the person being its only one; a unit with a recorded principal leader; a group with a leader):
a missing roster entry is a roster gap, not every member's failure. Membership is the person's
current org; nobody is pro-rated for arriving mid-year (the transfer trigger covers arrivals).

A talk counts for a pair when both took part in the same talk with ``status == HELD`` (either as
initiator or as counterpart), dated by ``Talk.held_on``. The encrypted kind, tags, summary and
content are never loaded: every read here is a ``values()`` of ids, dates and roster fields.
Each rule is turned into a ``core.rules.Rule`` whose activity and only "org kind" is its target
kind, and evaluated with ``evaluate_many`` over ``Target(id=person_id, kind=target_kind)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from sizheng.core import audit
from sizheng.core import rules as core_rules
from sizheng.core.apitools import Conflict
from sizheng.org.models import Org, OrgRole, Person
from sizheng.talks.models import CoverageRule, Status, Talk, TalkParticipant

BRANCH_MEMBER = "branch_member"
TEAM_MEMBER = "team_member"
GROUP_MEMBER = "group_member"

# target_kind → (label, core.rules activity, activity label used in the evaluator's messages)
TARGET_KINDS: dict[str, tuple[str, str, str]] = {
    BRANCH_MEMBER: ("党支部党员与支委", "talk_with_committee", "与支委谈心谈话"),
    TEAM_MEMBER: ("领导班子成员与主要负责同志", "talk_with_principal", "与主要负责同志谈心谈话"),
    GROUP_MEMBER: ("党小组党员与党小组长", "talk_with_group_leader", "与党小组长谈心谈话"),
}
TARGET_KIND_CHOICES = [(k, v[0]) for k, v in TARGET_KINDS.items()]

COMMITTEE_TITLES = frozenset(
    {
        OrgRole.Title.SECRETARY,
        OrgRole.Title.DEPUTY_SECRETARY,
        OrgRole.Title.ORGANIZATION,
        OrgRole.Title.PUBLICITY,
        OrgRole.Title.DISCIPLINE,
        OrgRole.Title.COMMITTEE_MEMBER,
    }
)

_BRANCH_REG = "《中国共产党支部工作条例（试行）》"
# The defaults installed as data (code, target_kind, label, count, severity, source, is_local).
# The data migration keeps its own copy, so later edits here do not change what it did.
DEFAULTS: list[tuple[str, str, str, int, str, str, bool]] = [
    (
        "BR-TALK-1", BRANCH_MEMBER, "党员每年与支委谈心谈话一般不少于1次", 1, "warning",
        f"BR-TALK-1 · {_BRANCH_REG}：支委之间、支委与党员、党员之间每年一般至少谈心谈话一次。", False,
    ),
    (
        "LEAD-TALK-1", TEAM_MEMBER, "主要负责同志与班子成员每年谈心谈话不少于1次（地方规定）", 1, "warning",
        "LEAD-TALK-1 · 常见地方规定：主要负责同志与班子成员每年至少谈心谈话一次（民主生活会前尤应开展，DLM-6）。",
        True,
    ),
    (
        "GROUP-TALK-1", GROUP_MEMBER, "党小组长与每名组员每年谈心谈话不少于2次（地方规定）", 2, "warning",
        "GROUP-TALK-1 · 常见地方规定：党小组长与本小组每名党员每年至少谈心谈话两次。", True,
    ),
]  # fmt: skip

STATUS_LABELS = {
    "met": "已达标",
    "warning": "未达标（提醒）",
    "violation": "未达标（违规）",
    "exempt": "已豁免",
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


def to_rule(row: CoverageRule) -> core_rules.Rule:
    """A coverage rule row as the pure evaluator's Rule (yearly, binding its target kind only)."""
    kind = TARGET_KINDS.get(row.target_kind)
    if kind is None:
        raise ValueError(f"unknown target kind {row.target_kind!r}")
    return core_rules.Rule(
        id=row.code,
        activity=kind[1],
        activity_label=kind[2],
        org_kinds=frozenset({row.target_kind}),
        count=row.count,
        period="year",
        severity=row.severity,
        label=row.label,
        source=row.source,
        local=row.is_local,
    )


def active_rules() -> list[CoverageRule]:
    """The rules in force whose target kind the platform knows (one query)."""
    return [
        r
        for r in CoverageRule.objects.filter(is_active=True).order_by("code")
        if r.target_kind in TARGET_KINDS
    ]


def is_principal(position: str) -> bool:
    """The unit's principal leader: a leader whose position is filled in and has no "副" (see above).

    The 派驻纪检监察组组长 sits on the leadership team but is not its principal: the 纪检 head is
    a team member the principal talks with, so positions naming 纪检 / 监察 / 派驻 are excluded."""
    position = (position or "").strip()
    return bool(position) and not any(word in position for word in ("副", "纪检", "监察", "派驻"))


@dataclass
class PersonCoverage:
    """One person's row: talk counts in the year and an outcome per rule binding them."""

    person_id: int
    name: str
    org_id: int | None
    org_name: str
    org_path: str
    branch_id: int | None
    with_committee: int = 0
    with_secretary: int = 0
    talks: int = 0
    last_talk_on: date | None = None
    outcomes: dict[str, core_rules.Outcome] = field(default_factory=dict)

    def outcome(self, code: str) -> core_rules.Outcome | None:
        """The outcome of one rule, or None when the rule does not bind the person."""
        return self.outcomes.get(code)

    @property
    def worst(self) -> str:
        """The worst status over the rules binding the person (``not_applicable`` when none)."""
        order = ["violation", "warning", "not_yet_due", "exempt", "met"]
        statuses = {o.status for o in self.outcomes.values()}
        return next((s for s in order if s in statuses), "not_applicable")


@dataclass
class Coverage:
    """The coverage of a set of people for one year."""

    year: int
    rules: list[CoverageRule]
    rows: list[PersonCoverage]

    def summary(self, code: str, rows: Iterable[PersonCoverage] | None = None) -> tuple[int, int]:
        """(met, bound) for one rule over ``rows`` (all rows by default)."""
        bound = met = 0
        for row in self.rows if rows is None else rows:
            o = row.outcomes.get(code)
            if o is not None:
                bound += 1
                met += o.status == "met"
        return met, bound


def _in_force(start: date, end: date | None, day: date) -> bool:
    return start <= day and (end is None or end >= day)


def compute(
    people: Q, year: int, *, today: date | None = None, kinds: Iterable[str] | None = None
) -> Coverage:
    """Coverage of the current party members selected by ``people`` (a Q on Person) for ``year``.

    Five queries whatever the number of people and talks (six when LEAD-TALK-1 is in force):
    rules, people, org posts, leaders, talk participations.
    """
    today = today or timezone.localdate()
    period = core_rules.Period.of("year", year)
    rules = active_rules()
    if kinds is not None:
        wanted = set(kinds)
        rules = [r for r in rules if r.target_kind in wanted]
    members = list(
        Person.objects.filter(left_on__isnull=True)
        .party_members()
        .filter(people)
        .order_by("org__path", "name", "pk")
        .values(
            "pk", "name", "org_id", "org__name", "org__path", "org__kind", "org__parent_id", "org__parent__kind",
            "unit_id", "is_leader", "position",
        )
    )  # fmt: skip
    branch_of: dict[int, int | None] = {}
    group_of: dict[int, int | None] = {}
    for m in members:
        kind = m["org__kind"]
        if kind == Org.Kind.BRANCH:
            branch_of[m["pk"]] = m["org_id"]
        elif kind == Org.Kind.GROUP and m["org__parent__kind"] == Org.Kind.BRANCH:
            branch_of[m["pk"]] = m["org__parent_id"]
        else:
            branch_of[m["pk"]] = None
        group_of[m["pk"]] = m["org_id"] if kind == Org.Kind.GROUP else None

    # Org posts of the branches and groups involved, in force at some point of the year.
    post_orgs = {b for b in branch_of.values() if b} | {g for g in group_of.values() if g}
    posts: dict[int, list[tuple[int, str, date, date | None]]] = defaultdict(list)
    if post_orgs:
        for r in (
            OrgRole.objects.filter(
                org_id__in=post_orgs,
                title__in=[*COMMITTEE_TITLES, OrgRole.Title.GROUP_LEADER],
                starts_on__lte=period.end,
            )
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=period.start))
            .values("org_id", "person_id", "title", "starts_on", "ends_on")
        ):
            posts[r["org_id"]].append((r["person_id"], r["title"], r["starts_on"], r["ends_on"]))

    # Principal leaders of the units involved (only when a team rule is in force).
    principals: dict[int, set[int]] = defaultdict(set)
    if any(r.target_kind == TEAM_MEMBER for r in rules):
        units = {m["unit_id"] for m in members if m["is_leader"]}
        if units:
            for pk, unit_id, position in Person.objects.filter(
                left_on__isnull=True, is_leader=True, unit_id__in=units
            ).values_list("pk", "unit_id", "position"):
                if is_principal(position):
                    principals[unit_id].add(pk)

    # Who took part in which held talk of the year: ids and dates only, never a T2 column.
    held = Talk.objects.filter(
        status=Status.HELD,
        held_on__gte=period.start,
        held_on__lte=period.end,
        participants__person_id__in=[m["pk"] for m in members],
    ).values("pk")
    talk_people: dict[int, set[int]] = defaultdict(set)
    talk_day: dict[int, date] = {}
    if members:
        for talk_id, person_id, held_on in TalkParticipant.objects.filter(talk_id__in=held).values_list(
            "talk_id", "person_id", "talk__held_on"
        ):
            talk_people[talk_id].add(person_id)
            talk_day[talk_id] = held_on
    talks_of: dict[int, list[int]] = defaultdict(list)
    for talk_id, ids in talk_people.items():
        for pid in ids:
            talks_of[pid].append(talk_id)

    branch_members: dict[int, set[int]] = defaultdict(set)
    for pid, b in branch_of.items():
        if b:
            branch_members[b].add(pid)

    def holders(org_id: int | None, titles, day: date | None = None) -> set[int]:
        """People holding one of ``titles`` in the org on ``day`` (any day of the year if None)."""
        if not org_id:
            return set()
        return {
            pid
            for pid, title, s, e in posts.get(org_id, [])
            if title in titles and (_in_force(s, e, day) if day else True)
        }

    rows: list[PersonCoverage] = []
    targets: list[core_rules.Target] = []
    activities: dict[tuple[int, str], list[date]] = defaultdict(list)
    kinds_in_force = {r.target_kind for r in rules}
    for m in members:
        pid, branch, group = m["pk"], branch_of[m["pk"]], group_of[m["pk"]]
        row = PersonCoverage(pid, m["name"], m["org_id"], m["org__name"] or "", m["org__path"] or "", branch)
        my_talks = sorted(talks_of.get(pid, []), key=lambda t: talk_day[t])
        row.talks = len(my_talks)
        row.last_talk_on = talk_day[my_talks[-1]] if my_talks else None
        committee_year = holders(branch, COMMITTEE_TITLES)
        sole = committee_year == {pid}
        for t in my_talks:
            day, others = talk_day[t], talk_people[t] - {pid}
            committee = holders(branch, COMMITTEE_TITLES, day)
            if others & committee:
                row.with_committee += 1
            if others & holders(branch, {OrgRole.Title.SECRETARY}, day):
                row.with_secretary += 1
            if (
                BRANCH_MEMBER in kinds_in_force
                and branch
                and (others & committee or (sole and others & branch_members[branch]))
            ):
                activities[(pid, TARGET_KINDS[BRANCH_MEMBER][1])].append(day)
            if TEAM_MEMBER in kinds_in_force and others & principals.get(m["unit_id"], set()):
                activities[(pid, TARGET_KINDS[TEAM_MEMBER][1])].append(day)
            if GROUP_MEMBER in kinds_in_force and others & holders(group, {OrgRole.Title.GROUP_LEADER}, day):
                activities[(pid, TARGET_KINDS[GROUP_MEMBER][1])].append(day)
        # Which relationships bind the person this year (the other side must exist).
        if branch and (committee_year - {pid} or sole):
            targets.append(core_rules.Target(pid, BRANCH_MEMBER))
        unit_principals = principals.get(m["unit_id"], set())
        if m["is_leader"] and not is_principal(m["position"]) and unit_principals - {pid}:
            targets.append(core_rules.Target(pid, TEAM_MEMBER))
        leaders = holders(group, {OrgRole.Title.GROUP_LEADER})
        if group and leaders and pid not in leaders:
            targets.append(core_rules.Target(pid, GROUP_MEMBER))
        rows.append(row)

    outcomes = core_rules.evaluate_many([to_rule(r) for r in rules], targets, [period], activities, today)
    by_id = {row.person_id: row for row in rows}
    for (pid, code, _), outcome in outcomes.items():
        by_id[pid].outcomes[code] = outcome
    return Coverage(year, rules, rows)


def members_q(org: Org) -> Q:
    """The people of an org's coverage page: its own members and those of its 党小组 children."""
    return Q(org_id=org.pk) | Q(org__parent_id=org.pk, org__kind=Org.Kind.GROUP)


def subtree_q(orgs: Iterable[Org]) -> Q:
    """The people of the orgs' subtrees."""
    q = Q(pk__in=[])
    for org in orgs:
        q |= Q(org__path__startswith=org.path)
    return q


# --- rule writes (here rather than in services.py, which another helper owns; audited the same) ----


@transaction.atomic
def coverage_rule_update(
    *, actor, rule: CoverageRule, version: int, count: int, severity: str, is_active: bool
) -> CoverageRule:
    """Change a rule's count, severity or whether it is in force; compare-and-swap on ``version``."""
    if version != rule.version:
        raise Conflict("该规则已被他人修改，请刷新页面后重新填写。")
    errors = {}
    if not 1 <= int(count) <= 24:
        errors["count"] = "每年次数应在 1 到 24 之间。"
    if severity not in CoverageRule.Severity.values:
        errors["severity"] = "请选择有效的严重程度。"
    if errors:
        raise ValidationError(errors)
    changes = {
        k: v
        for k, v in {"count": int(count), "severity": severity, "is_active": bool(is_active)}.items()
        if getattr(rule, k) != v
    }
    if not changes:
        return rule
    updated = CoverageRule.objects.filter(pk=rule.pk, version=version).update(
        version=F("version") + 1, **changes
    )
    if not updated:
        raise Conflict("该规则已被他人修改，请刷新页面后重新填写。")
    for k, v in changes.items():
        setattr(rule, k, v)
    rule.version = version + 1
    audit.record(actor, "coverage_rule_update", rule, {"code": rule.code, "fields": sorted(changes)})
    return rule


@transaction.atomic
def coverage_rules_install_defaults(*, actor=None) -> int:
    """(Re)install the default coverage rules as data; returns how many were created.

    Existing rows get their target kind, label and source back; an administrator's count, severity
    and deactivation are kept (only a missing rule is created with the defaults).
    """
    created = 0
    for code, target_kind, label, count, severity, source, is_local in DEFAULTS:
        row, made = CoverageRule.objects.get_or_create(
            code=code,
            defaults={"target_kind": target_kind, "label": label, "count": count, "severity": severity,
                      "source": source, "is_local": is_local},
        )  # fmt: skip
        if not made:
            CoverageRule.objects.filter(pk=row.pk).update(
                target_kind=target_kind, label=label, source=source, is_local=is_local
            )
        created += made
    audit.record(actor, "coverage_rules_install_defaults", None, {"created": created})
    return created


# --- the 会前谈心 step of a 组织生活会 / 民主生活会 (BR-OLM-1, DLM-6), for the meeting page ------------


@dataclass
class PreMeetingTalk:
    """Who talked with whom and when (nothing else) before a meeting."""

    held_on: date
    initiator: str
    counterparts: list[str]


def pre_meeting_talks(user, meeting) -> dict:
    """Held talks attached to a meeting: the count of all of them, who/when of those the user may see.

    Two queries; never a T2 column.
    """
    from sizheng.talks.access import visible_talk_q

    rows = list(
        TalkParticipant.objects.filter(talk__meeting_id=meeting.pk, talk__status=Status.HELD)
        .order_by("talk__held_on", "talk_id", "-is_initiator", "person__name")
        .values_list("talk_id", "talk__held_on", "person__name", "is_initiator")
    )
    visible = set(
        Talk.objects.filter(visible_talk_q(user)).filter(meeting_id=meeting.pk).values_list("pk", flat=True)
    )
    talks: dict[int, PreMeetingTalk] = {}
    for talk_id, held_on, name, is_initiator in rows:
        t = talks.setdefault(talk_id, PreMeetingTalk(held_on, "", []))
        if is_initiator:
            t.initiator = name
        else:
            t.counterparts.append(name)
    return {"count": len(talks), "items": [t for pk, t in talks.items() if pk in visible]}


__all__ = [
    "BRANCH_MEMBER",
    "GROUP_MEMBER",
    "STATUS_LABELS",
    "TEAM_MEMBER",
    "Coverage",
    "PersonCoverage",
    "active_rules",
    "compute",
    "coverage_rule_update",
    "coverage_rules_install_defaults",
    "members_q",
    "pre_meeting_talks",
    "subtree_q",
    "to_rule",
]
