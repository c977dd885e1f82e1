"""Reads behind the duty screens: board filters and sorts, the aggregates above the board, roll-ups,
"my duties", the timeline in words, and who may assign to whom.

Every function takes plain values (a user, cleaned filters, ``today``) and returns a queryset or
small dicts, so the benchmark times exactly what the pages run. Aggregates are one query each,
whatever the number of duties: counts are conditional ``Count(..., filter=Q(...))``, roll-ups
are one grouped query plus one for the names of the groups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When

from sizheng.core.models import Role
from sizheng.duties import warnings
from sizheng.duties.access import admin_org_ids
from sizheng.duties.models import (
    AWAITING_OWNER,
    OPEN_STATES,
    Campaign,
    Duty,
    DutyEvent,
    DutyList,
    Priority,
    SourceKind,
    State,
)
from sizheng.duties.workflow import TRANSITIONS
from sizheng.org.access import scope_of
from sizheng.org.models import Org, Person

WARNING_LEVELS = (warnings.RED, warnings.YELLOW, warnings.BLUE, warnings.NONE)
WARNING_LABELS = warnings.LABELS
# Tabler badge classes of each level (the CSP forbids inline colours).
WARNING_BADGES = {
    warnings.BLUE: "bg-blue-lt",
    warnings.YELLOW: "bg-yellow-lt",
    warnings.RED: "bg-red-lt",
    warnings.NONE: "bg-secondary-lt",
}
STATE_BADGES = {
    State.ASSIGNED: "bg-azure-lt",
    State.ACCEPTED: "bg-indigo-lt",
    State.IN_PROGRESS: "bg-blue-lt",
    State.REPORTED: "bg-purple-lt",
    State.UNDER_REVIEW: "bg-orange-lt",
    State.RETURNED: "bg-red-lt",
    State.CLOSED: "bg-green-lt",
    State.CANCELLED: "bg-secondary-lt",
}
OPEN = "open"  # the board's pseudo-state: every state not yet closed or cancelled

_STATE_ORDER = Case(
    *[When(state=s, then=Value(i)) for i, s in enumerate(State.values)], output_field=IntegerField()
)
_PRIORITY_ORDER = Case(
    When(priority=Priority.URGENT, then=Value(0)),
    When(priority=Priority.HIGH, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
BOARD_SORTS: dict[str, tuple[Any, ...]] = {
    "due": ("due_on", "pk"),
    "-due": (F("due_on").desc(), "-pk"),
    "state": (_STATE_ORDER, "due_on", "pk"),
    "org": ("assignee_org__path", "due_on", "pk"),
    "priority": (_PRIORITY_ORDER, "due_on", "pk"),
}
SORT_CHOICES = [
    ("due", "按完成时限（近到远）"),
    ("-due", "按完成时限（远到近）"),
    ("state", "按状态"),
    ("org", "按责任单位"),
    ("priority", "按紧急程度"),
]


def cn_date(day: date | None) -> str:
    """2026年3月31日 (no padding, as 公文 write dates)."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


# --- scope -------------------------------------------------------------------------------------


def is_committee(user) -> bool:
    """Whole-tree scope (committee admin or a leader over all): the board adds the per-org roll-up."""
    return scope_of(user).has_everything(Role.COMMITTEE_ADMIN, Role.LEADER)


def may_assign(user) -> bool:
    """Whether :func:`assigning_orgs` is non-empty, without a query (grants are loaded per request)."""
    return bool(admin_org_ids(user)) or user.has_role(Role.COMMITTEE_ADMIN)


def assigning_orgs(user) -> list[Org]:
    """Orgs on whose behalf the user assigns duties: their own admin orgs, and the root for gongwei."""
    q = Q(pk__in=admin_org_ids(user))
    if user.has_role(Role.COMMITTEE_ADMIN):
        q |= Q(parent__isnull=True)
    return list(Org.objects.filter(q).order_by("path"))


def assignable_orgs(assigners: Iterable[Org]) -> QuerySet[Org]:
    """Orgs a duty may be assigned to: the assigning orgs' subtrees, still active."""
    q = Q(pk__in=[])
    for org in assigners:
        q |= Q(path__startswith=org.path)
    return Org.objects.filter(q).active_on().order_by("path")


def assigner_for(assigners: Iterable[Org], org: Org) -> Org | None:
    """The nearest assigning org above (or at) ``org``: the one whose subtree holds it most closely."""
    holding = [a for a in assigners if org.path.startswith(a.path)]
    return max(holding, key=lambda a: a.depth) if holding else None


def visible_campaigns(user) -> QuerySet[Campaign]:
    """Campaigns with at least one duty the user sees."""
    if is_committee(user):
        return Campaign.objects.all()
    ids = Duty.objects.visible_to(user).filter(campaign__isnull=False).values("campaign_id")
    return Campaign.objects.filter(pk__in=ids)


def visible_lists(user) -> QuerySet[DutyList]:
    """Responsibility lists of the orgs in the user's scope."""
    if is_committee(user):
        return DutyList.objects.all()
    return DutyList.objects.filter(org_id__in=Org.objects.visible_to(user).values("pk"))


# --- the board ---------------------------------------------------------------------------------


@dataclass
class BoardFilters:
    """The board's filters, already validated (the form builds them; the benchmark may too)."""

    q: str = ""
    state: str = ""
    warning: str = ""
    source: str = ""
    owner: str = ""
    org: Org | None = None
    due_from: date | None = None
    due_to: date | None = None
    campaign_id: int | None = None
    list_id: int | None = None
    sort: str = "due"

    @classmethod
    def from_cleaned(cls, d: Mapping[str, Any], fixed_org: Org | None = None) -> BoardFilters:
        """From a form's cleaned data (invalid fields missing), with an org board's org forced."""
        campaign, duty_list = d.get("campaign"), d.get("duty_list")
        return cls(
            q=(d.get("q") or "").strip(),
            state=d.get("state") or "",
            warning=d.get("warning") or "",
            source=d.get("source") or "",
            owner=(d.get("owner") or "").strip(),
            org=fixed_org or d.get("org"),
            due_from=d.get("due_from"),
            due_to=d.get("due_to"),
            campaign_id=campaign.pk if campaign else None,
            list_id=duty_list.pk if duty_list else None,
            sort=d.get("sort") or "due",
        )


def filter_board(qs: QuerySet[Duty], f: BoardFilters, today: date) -> QuerySet[Duty]:
    """Apply the filters (no sort): what the counts, the table and the ledger all share."""
    if f.q:
        qs = qs.filter(title__icontains=f.q)
    if f.state == OPEN:
        qs = qs.filter(state__in=OPEN_STATES)
    elif f.state:
        qs = qs.filter(state=f.state)
    if f.warning:
        qs = qs.filter(warnings.warning_q(f.warning, today))
    if f.source:
        qs = qs.filter(source_kind=f.source)
    if f.owner:
        qs = qs.filter(owner__name__icontains=f.owner)
    if f.org is not None:
        qs = qs.filter(assignee_org__path__startswith=f.org.path)
    if f.due_from:
        qs = qs.filter(due_on__gte=f.due_from)
    if f.due_to:
        qs = qs.filter(due_on__lte=f.due_to)
    if f.campaign_id:
        qs = qs.filter(campaign_id=f.campaign_id)
    if f.list_id:
        qs = qs.filter(duty_list_id=f.list_id)
    return qs


def sort_board(qs: QuerySet[Duty], sort: str) -> QuerySet[Duty]:
    """Order the board (unknown sorts fall back to the due date)."""
    return qs.order_by(*BOARD_SORTS.get(sort, BOARD_SORTS["due"]))


def board_queryset(user, f: BoardFilters, today: date) -> QuerySet[Duty]:
    """The filtered, sorted duties the board lists for a user (rows: one query per page)."""
    return sort_board(filter_board(Duty.objects.visible_to(user), f, today), f.sort).for_board()


# Where a duty's due date falls on a day: for a duty awaiting its owner each band is one warning
# level, and the first two are overdue. Other duties, and those due later, have no warning.
BAND_RED, BAND_LATE, BAND_TODAY, BAND_BLUE = range(4)
_BAND_KEYS: dict[int | None, tuple[str, ...]] = {
    BAND_RED: (f"warning_{warnings.RED}", "overdue"),
    BAND_LATE: (f"warning_{warnings.YELLOW}", "overdue"),
    BAND_TODAY: (f"warning_{warnings.YELLOW}",),
    BAND_BLUE: (f"warning_{warnings.BLUE}",),
    None: (f"warning_{warnings.NONE}",),
}
COUNT_KEYS = ("total", *(f"state_{s}" for s in State.values),
              *(f"warning_{w}" for w in WARNING_LEVELS), "overdue")  # fmt: skip


def due_band(today: date) -> Case:
    """The band of each duty's due date as one CASE on ``warnings.warning_q``'s bounds (NULL: later).

    Counting is then a plain GROUP BY (org, state, band), the state deciding in Python whether the
    band warns: at 40,000 duties PostgreSQL took ~45 ms for the fifteen ``COUNT(...) FILTER (WHERE
    state IN …)``, ~9 ms for the grouping (a ``state IN`` inside the CASE cost another ~15 ms).
    """
    b = warnings.bounds(today)
    return Case(
        When(due_on__lt=b.yellow_from, then=Value(BAND_RED)),
        When(due_on__lt=today, then=Value(BAND_LATE)),
        When(due_on=today, then=Value(BAND_TODAY)),
        When(due_on__lte=b.blue_until, then=Value(BAND_BLUE)),
        output_field=IntegerField(),
    )


def tally(qs: QuerySet[Duty], today: date, *by: str) -> QuerySet:
    """ONE grouped query: tuples ``(*by, state, band, n)`` of the filtered set (few rows per group).

    Unfiltered it reads only the (assignee org, state, due date) index: the duty rows are wide, and
    reading the state and due date out of 40,000 of them cost PostgreSQL more than the grouping.
    """
    return (
        qs.order_by()
        .annotate(due_band=due_band(today))
        .values_list(*by, "state", "due_band")
        .annotate(n=Count("*"))  # not COUNT(id): the (assignee org, state, due date) index covers it
    )


_KEYS: dict[tuple[str, int | None], tuple[str, ...]] = {}


def _keys(state: str, band: int | None) -> tuple[str, ...]:
    """The counts a (state, band) adds to: total, its state's, its warning's, maybe overdue."""
    keys = _KEYS.get((state, band))
    if keys is None:
        own = (f"state_{state}",) if state in State.values else ()
        warns = _BAND_KEYS[band if state in AWAITING_OWNER else None]
        keys = _KEYS[(state, band)] = ("total", *own, *warns)
    return keys


def _counts(row: Mapping[str, int]) -> dict[str, Any]:
    return {
        "total": row["total"],
        "overdue": row["overdue"],
        "open": sum(row[f"state_{s}"] for s in OPEN_STATES),
        "states": [
            {"value": s, "label": label, "count": row[f"state_{s}"], "badge": STATE_BADGES[s]}
            for s, label in State.choices
        ],
        "warnings": [
            {"value": w, "label": WARNING_LABELS[w], "count": row[f"warning_{w}"], "badge": WARNING_BADGES[w]}
            for w in WARNING_LEVELS
        ],
    }


def board_counts(qs: QuerySet[Duty], today: date) -> dict[str, Any]:
    """Counts by state and by warning of a filtered set, in ONE grouped query."""
    totals = dict.fromkeys(COUNT_KEYS, 0)
    for state, band, n in tally(qs, today):
        for k in _keys(state, band):
            totals[k] += n
    return _counts(totals)


def _ancestor_path(path: str, depth: int) -> str:
    """The path of the ancestor at ``depth`` (the org's own path when it is not deeper)."""
    parts = [p for p in path.split(".") if p]
    return ".".join(parts[: depth + 1]) + "."


ROLLUP_PREVIEW = 10  # rows of the roll-up on a board; every row on the roll-up page
ROLLUP_KEYS = ("total", "open", "red", "overdue", "closed")
ROLLUP_ORDERS = {"attention": "需关注的在前", "tree": "按组织顺序"}


def attention_key(row: Mapping[str, Any]) -> tuple:
    """Orgs needing attention first: most red warnings, then overdue, then open; then tree order."""
    return (-row["red"], -row["overdue"], -row["open"], row["path"])


@dataclass
class Rollup:
    """A filtered set's counts by state and warning, and its duties grouped per org one level below
    the parent (the root's children when None); duties of the parent itself form a “本级” group."""

    counts: dict[str, Any]
    groups: list[dict[str, Any]]  # each: path, total, open, red, overdue, closed (no org yet)
    depth: int  # the depth of the grouping orgs
    parent_path: str  # "" for the root's children

    @property
    def total_groups(self) -> int:
        return len(self.groups)

    @property
    def has_children(self) -> bool:
        """Whether any group is a child org (not only the parent's own “本级” group)."""
        return any(g["path"].count(".") > self.depth for g in self.groups)

    def rows(
        self, *, limit: int | None = None, name: str = "", order: str = "attention"
    ) -> list[dict[str, Any]]:
        """Groups with their org (``org``, ``own``): one query. ``limit``: the first rows needing
        attention, looked up by path; otherwise every group, searched by org name, in ``order``."""
        if not self.groups:
            return []
        if limit is not None:
            groups = sorted(self.groups, key=attention_key)[:limit]
            orgs = Org.objects.filter(path__in=[g["path"] for g in groups])
        else:
            # By depth under the parent, not a ``path IN (…)`` as long as the number of groups.
            groups = self.groups
            shallow = [g["path"] for g in groups if g["path"].count(".") <= self.depth]
            orgs = Org.objects.filter(
                Q(depth=self.depth, path__startswith=self.parent_path) | Q(path__in=shallow)
            )
        if name:
            orgs = orgs.filter(name__icontains=name)
        found = {o.path: o for o in orgs}
        out = [{**g, "org": found[g["path"]], "own": found[g["path"]].depth < self.depth} for g in groups
               if g["path"] in found]  # fmt: skip
        if order == "tree":
            out.sort(key=lambda row: (not row["own"], row["org"].order, row["path"]))
        else:
            out.sort(key=attention_key)
        return out


def rollup(qs: QuerySet[Duty], today: date, parent: Org | None = None) -> Rollup:
    """ONE grouped query (per assignee org) giving both the board's counts and the roll-up groups."""
    depth = parent.depth + 1 if parent is not None else 1
    totals = dict.fromkeys(COUNT_KEYS, 0)
    groups: dict[str, dict[str, Any]] = {}
    keys: dict[str, str] = {}  # assignee org path → its group's path
    for path, state, band, n in tally(qs, today, "assignee_org__path"):
        for k in _keys(state, band):
            totals[k] += n
        key = keys.get(path)
        if key is None:
            key = keys[path] = _ancestor_path(path, depth) if path.count(".") > depth else path
        g = groups.get(key)
        if g is None:
            g = groups[key] = {"path": key, **dict.fromkeys(ROLLUP_KEYS, 0)}
        g["total"] += n
        if state in OPEN_STATES:
            g["open"] += n
        elif state == State.CLOSED:
            g["closed"] += n
        if state in AWAITING_OWNER and band is not None and band <= BAND_LATE:
            g["overdue"] += n
            if band == BAND_RED:
                g["red"] += n
    return Rollup(_counts(totals), list(groups.values()), depth, parent.path if parent is not None else "")


def org_rollup(qs: QuerySet[Duty], today: date, parent: Org | None = None) -> list[dict[str, Any]]:
    """Open / red / overdue / closed counts per org one level below ``parent`` (the root when None),
    every group in tree order: one grouped query plus one for the orgs."""
    return rollup(qs, today, parent).rows(order="tree")


@dataclass(frozen=True)
class Row:
    """A duty as a table row: its warning level and the badges the templates show."""

    duty: Duty
    warning: str

    @property
    def warning_label(self) -> str:
        return WARNING_LABELS[self.warning]

    @property
    def warning_badge(self) -> str:
        return WARNING_BADGES[self.warning]

    @property
    def state_badge(self) -> str:
        return STATE_BADGES.get(self.duty.state, "bg-secondary-lt")


def with_warnings(duties: Iterable[Duty], today: date) -> list[Row]:
    """Each duty with its warning level, from one ``bounds(today)``."""
    b = warnings.bounds(today)
    return [Row(d, warnings.warning_of(d.state, d.due_on, today, b)) for d in duties]


# --- my duties ---------------------------------------------------------------------------------

MINE_GROUPS = (
    (warnings.RED, "红色预警：已逾期较久，请尽快办理"),
    (warnings.YELLOW, "黄色预警：今天到期或刚逾期"),
    (warnings.BLUE, "蓝色预警：即将到期"),
    (warnings.NONE, "其他待办"),
    ("waiting", "已报送，等待督查销号"),
)
REVIEW_LIMIT = 100


def owner_side_q(user) -> Q:
    """Duties the user answers for: owned by them, or assigned to an org they run."""
    scope = scope_of(user)
    admin = admin_org_ids(user)
    q = Q(pk__in=[])
    if scope.person_id:
        q |= Q(owner_id=scope.person_id)
    if admin:
        q |= Q(assignee_org_id__in=admin)
    return q


def awaiting_review_q(user) -> Q | None:
    """Open duties waiting for the user as assigner (review, close, or an extension decision)."""
    admin = admin_org_ids(user)
    is_committee = user.has_role(Role.COMMITTEE_ADMIN)
    if not admin and not is_committee:
        return None
    q = Q(assigning_org_id__in=admin)
    if is_committee:
        q |= Q(assigning_org__parent__isnull=True)
    return (
        q
        & Q(state__in=OPEN_STATES)
        & (Q(state__in=[State.REPORTED, State.UNDER_REVIEW]) | Q(requested_due_on__isnull=False))
    )


def mine(user, today: date) -> dict[str, Any]:
    """Open duties the user owns or whose assignee org they run (by warning), and those awaiting
    their review or extension decision as assigner — two queries whatever the numbers."""
    owned = (
        Duty.objects.filter(owner_side_q(user), state__in=OPEN_STATES).for_board().order_by("due_on", "pk")
    )
    groups: dict[str, list] = {key: [] for key, _ in MINE_GROUPS}
    count = 0
    for row in with_warnings(owned, today):
        key = row.warning if row.duty.state in AWAITING_OWNER else "waiting"
        groups[key].append(row)
        count += 1
    review: list[Row] = []
    review_q = awaiting_review_q(user)
    if review_q is not None:
        review = with_warnings(
            Duty.objects.filter(review_q)
            .for_board()
            .order_by("reported_on", "due_on", "pk")[: REVIEW_LIMIT + 1],
            today,
        )
    return {
        "groups": [{"key": k, "label": label, "rows": groups[k]} for k, label in MINE_GROUPS if groups[k]],
        "count": count,
        "review": review[:REVIEW_LIMIT],
        "review_more": len(review) > REVIEW_LIMIT,
    }


# --- campaigns and lists -----------------------------------------------------------------------


def campaign_rollup(user, campaign: Campaign, today: date) -> dict[str, Any]:
    """Per-org state and warning of a campaign's visible duties, counts and % closed — one query."""
    rows = with_warnings(
        Duty.objects.visible_to(user)
        .filter(campaign=campaign)
        .for_board()
        .order_by("assignee_org__path", "pk"),
        today,
    )
    states = dict.fromkeys(State.values, 0)
    levels = dict.fromkeys(WARNING_LEVELS, 0)
    for row in rows:
        states[row.duty.state] += 1
        levels[row.warning] += 1
    live = len(rows) - states[State.CANCELLED]
    return {
        "rows": rows,
        "total": len(rows),
        "states": [
            {"value": s, "label": lab, "count": states[s], "badge": STATE_BADGES[s]}
            for s, lab in State.choices
        ],
        "warnings": [
            {"value": w, "label": WARNING_LABELS[w], "count": levels[w], "badge": WARNING_BADGES[w]}
            for w in WARNING_LEVELS
        ],
        "closed": states[State.CLOSED],
        "percent_closed": round(100 * states[State.CLOSED] / live) if live else 0,
    }


def campaign_counts(user, campaign_ids: list[int], today: date) -> dict[int, dict[str, int]]:
    """Total / open / closed / red of the visible duties per campaign, for a page — one grouped query."""
    rows = (
        Duty.objects.visible_to(user)
        .filter(campaign_id__in=campaign_ids)
        .order_by()
        .values("campaign_id")
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=Q(state__in=OPEN_STATES)),
            closed=Count("pk", filter=Q(state=State.CLOSED)),
            cancelled=Count("pk", filter=Q(state=State.CANCELLED)),
            red=Count("pk", filter=warnings.warning_q(warnings.RED, today)),
        )
    )
    out = {}
    for r in rows:
        live = r["total"] - r["cancelled"]
        out[r["campaign_id"]] = {**r, "percent_closed": round(100 * r["closed"] / live) if live else 0}
    return out


def list_counts(list_ids: list[int], today: date) -> dict[int, dict[str, int]]:
    """Total / open / closed / overdue per list, for a page of lists — one grouped query."""
    rows = (
        Duty.objects.filter(duty_list_id__in=list_ids)
        .order_by()
        .values("duty_list_id")
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=Q(state__in=OPEN_STATES)),
            closed=Count("pk", filter=Q(state=State.CLOSED)),
            overdue=Count("pk", filter=Q(state__in=AWAITING_OWNER, due_on__lt=today)),
        )
    )
    return {r["duty_list_id"]: r for r in rows}


# --- the duty page -----------------------------------------------------------------------------

SOURCE_LABELS = dict(SourceKind.choices)
STATE_LABELS = dict(State.choices)
EVENT_LABELS = {"open": "部署", "attach": "上传佐证材料", **{a: t.label for a, t in TRANSITIONS.items()}}


@dataclass
class TimelineEntry:
    """One event of a duty's timeline, in words."""

    event: DutyEvent
    label: str
    actor: str
    change: str
    words: list[str] = field(default_factory=list)
    comment: str = ""


def _event_words(ev: DutyEvent, people: Mapping[int, str], hide: bool) -> list[str]:
    p = ev.payload or {}
    reason = p.get("reason", "")
    out: list[str] = []
    if ev.action == "open" and p.get("source"):
        out.append(f"来源：{SOURCE_LABELS.get(p['source'], p['source'])}。")
    elif ev.action in ("return", "cancel") and reason:
        out.append(f"理由：{reason}" if not hide else "理由：（涉及敏感信息，不予显示）")
    elif ev.action == "request_extension":
        out.append(
            f"申请将完成时限延至{cn_date(date.fromisoformat(p['new_due_on']))}。"
            if p.get("new_due_on")
            else ""
        )
        if reason:
            out.append(f"理由：{reason}" if not hide else "理由：（涉及敏感信息，不予显示）")
    elif ev.action == "approve_extension" and p.get("new_due_on"):
        old, new = date.fromisoformat(p["old_due_on"]), date.fromisoformat(p["new_due_on"])
        out.append(f"完成时限由{cn_date(old)}调整为{cn_date(new)}。")
    elif ev.action == "reject_extension" and p.get("new_due_on"):
        out.append(f"延期至{cn_date(date.fromisoformat(p['new_due_on']))}的申请未获同意，完成时限不变。")
    elif ev.action == "reassign":
        old = people.get(p.get("old_owner"), "（未指定）") if p.get("old_owner") else "（未指定）"
        out.append(f"责任人由{old}调整为{people.get(p.get('new_owner'), '（已不在册）')}。")
    elif ev.action == "attach" and p.get("file"):
        out.append(f"上传了佐证材料《{p['file']}》。")
    return [w for w in out if w]


def timeline(duty: Duty, *, hide_content: bool) -> list[TimelineEntry]:
    """The duty's events in words: who, when, from → to, comment and payload (two queries at most).

    ``hide_content``: a sensitive duty seen by someone on neither workflow side shows no comments
    or reasons, only who did what when.
    """
    events = list(duty.events.select_related("actor").order_by("at", "pk"))
    ids = {
        v
        for ev in events
        if ev.action == "reassign"
        for v in (ev.payload or {}).values()
        if isinstance(v, int)
    }
    people = dict(Person.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    out = []
    for ev in events:
        change = ""
        if ev.from_state and ev.to_state and ev.from_state != ev.to_state:
            change = f"{STATE_LABELS.get(ev.from_state, ev.from_state)} → {STATE_LABELS.get(ev.to_state, ev.to_state)}"
        elif not ev.from_state and ev.to_state:
            change = STATE_LABELS.get(ev.to_state, ev.to_state)
        out.append(
            TimelineEntry(
                event=ev,
                label=EVENT_LABELS.get(ev.action, ev.action),
                actor=str(ev.actor) if ev.actor else "系统",
                change=change,
                words=_event_words(ev, people, hide_content),
                comment="" if hide_content else ev.comment,
            )
        )
    return out


def owner_choices(duty: Duty) -> list[tuple[int, str]]:
    """People a duty may be reassigned to: current staff of the assignee org's units (the service's rule)."""
    people = (
        Person.objects.current()
        .filter(unit_id__in=duty.assignee_org.units.values("pk"))
        .select_related("office")
        .order_by("office__order", "office_id", "name", "pk")
    )
    return [(p.pk, f"{p.name}（{p.office.name}）" if p.office_id else p.name) for p in people]


def home_summary(user, today: date) -> dict[str, Any] | None:
    """The home card: my open duties by warning, and what waits for my review (two queries)."""
    counts = Duty.objects.filter(owner_side_q(user), state__in=OPEN_STATES).aggregate(
        open=Count("pk"),
        red=Count("pk", filter=warnings.warning_q(warnings.RED, today)),
        yellow=Count("pk", filter=warnings.warning_q(warnings.YELLOW, today)),
        blue=Count("pk", filter=warnings.warning_q(warnings.BLUE, today)),
    )
    review_q = awaiting_review_q(user)
    review = Duty.objects.filter(review_q).count() if review_q is not None else 0
    if not counts["open"] and not review:
        return None
    return {**counts, "review": review}
