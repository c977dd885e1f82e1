"""The dashboard's cards: a registry of (name, title, scopes, metrics, build, template, link).

A card's ``build(ctx)`` returns a JSON-safe dict (the same dict feeds the template, the chart's
data island and the API), computed from the metrics registry through the value cache
(``dashboard.metrics``). Scopes: ``all`` (the committee: every org), ``org`` (a branch and its
subtree), ``unit`` (a leader's unit: aggregates only, never lists of people) and ``me`` (the
signed-in person's own records). Each card's own queries (the targets, plus at most two reads)
stay within three on a warm cache, whatever the amount of data.

Gaps: a metric value below its requirement (``GAP_RULES``) is a gap; the branch page lists them with
a "派发整改事项" button (``open_gap_duty``), idempotent per (metric, org, period).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from sizheng.core import audit
from sizheng.core import metrics as registry
from sizheng.core.metrics import Consumer, Suppressed
from sizheng.core.models import Role
from sizheng.core.rules import Period, periods_between
from sizheng.dashboard.metrics import assess_rounds, values_many
from sizheng.org.access import scope_of

SCOPES = ("all", "org", "unit", "me")
HEATMAP_ROWS = 15  # rows of the compliance heatmap on the card (all of them with ?full=1)
LIST_ROWS = 10
CORE_GAP_TAG = "驾驶舱整改"


# --- context -------------------------------------------------------------------------------------


@dataclass
class Ctx:
    """What a card is built for: the user, the scope and the year."""

    user: Any
    kind: str
    year: int
    today: date
    org: Any = None  # sizheng.org.models.Org for kind "org"
    unit: Any = None  # sizheng.org.models.Unit for kind "unit"
    person_id: int | None = None
    full: bool = False
    _orgs: list[dict] | None = field(default=None, repr=False)

    @property
    def scope_param(self) -> str:
        if self.kind == "org":
            return f"org:{self.org.pk}"
        if self.kind == "unit":
            return f"unit:{self.unit.pk}"
        return self.kind

    @property
    def consumer(self) -> str:
        return Consumer.LEADER if self.kind == "unit" else Consumer.DASHBOARD

    def periods(self, kind: str) -> list[Period]:
        """The periods of ``kind`` in the year that have started (all of them for a past year)."""
        year = Period.of("year", self.year)
        return [p for p in periods_between(kind, year.start, year.end) if p.start <= self.today]  # type: ignore[arg-type]

    def current(self, kind: str) -> Period:
        """The period of ``kind`` containing today, or the year's last one for a past year."""
        started = self.periods(kind)
        return started[-1] if started else Period.containing(kind, Period.of("year", self.year).start)  # type: ignore[arg-type]

    @property
    def year_period(self) -> Period:
        return Period.of("year", self.year)


def scope_orgs(ctx: Ctx) -> list[dict]:
    """The orgs of the scope in tree order (one query): all orgs, a subtree, or a unit's orgs."""
    if ctx._orgs is not None:
        return ctx._orgs
    from sizheng.org.models import Org

    qs = Org.objects.active_on(ctx.today)
    if ctx.kind == "org":
        qs = qs.filter(path__startswith=ctx.org.path)
    elif ctx.kind == "unit":
        qs = qs.filter(pk__in=Org.objects.filter(units=ctx.unit).values("pk"))
    elif ctx.kind != "all":
        qs = qs.none()
    ctx._orgs = list(qs.order_by("path").values("pk", "name", "path", "depth", "kind"))
    return ctx._orgs


def top_orgs(orgs: list[dict]) -> list[dict]:
    """The depth-1 orgs holding a unit's members (机关党委 / 党总支 / 党支部, not a 党组)."""
    from sizheng.org.models import Org

    return [o for o in orgs if o["depth"] == 1 and o["kind"] != Org.Kind.LEADING_GROUP]


def org_page(pk: int, year: int) -> str:
    """The branch page of an org for the same year (click 1 of "gap → duty")."""
    return f"{reverse('dashboard:org', args=[pk])}?year={year}"


def url_or_blank(name: str, *args, query: str = "") -> str:
    """A URL of another app, or "" when that screen is not installed."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    return f"{url}?{query}" if query else url


# --- values --------------------------------------------------------------------------------------


def number_text(value: float | int, unit: str) -> str:
    """85.0 → "85%", 12.5 → "12.5天" (no trailing ".0")."""
    text = f"{float(value):.1f}".rstrip("0").rstrip(".")
    return f"{text}{unit}"


def show(value: Any, name: str) -> dict:
    """A metric value as JSON: the number (None when suppressed), its text and the reason."""
    m = registry.get(name)
    if isinstance(value, Suppressed) or value is None:
        reason = value.reason if isinstance(value, Suppressed) else "无数据"
        return {"value": None, "text": "—", "reason": reason}
    if not _is_number(value):
        return {"value": None, "text": str(value), "reason": ""}
    return {"value": float(value), "text": number_text(value, m.unit), "reason": ""}


def _is_number(value: Any) -> bool:
    """A value ``show`` gives a number for (not suppressed, missing or a yes/no)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def mean(numbers: list[float]) -> float | None:
    return round(sum(numbers) / len(numbers), 1) if numbers else None


# --- gaps ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GapRule:
    """A metric whose value below (or above) a threshold is a gap that can be turned into a duty."""

    metric: str
    threshold: float
    source: str  # duties SourceKind value
    period: str  # "quarter_latest" (latest quarter with a value), "quarter" (current) or "year"

    @property
    def m(self):
        return registry.get(self.metric)

    def threshold_value(self) -> float:
        overrides = getattr(settings, "DASHBOARD_GAP_THRESHOLDS", {}) or {}
        return float(overrides.get(self.metric, self.threshold))

    def is_gap(self, value: Any, threshold: float | None = None) -> bool:
        """Whether the value is a gap (``threshold``: the already-read ``threshold_value()``)."""
        if not _is_number(value):
            return False
        t = self.threshold_value() if threshold is None else threshold
        return value < t if self.m.higher_is_better else value > t

    def requirement(self) -> str:
        t = number_text(self.threshold_value(), self.m.unit)
        if self.m.higher_is_better:
            return f"不低于{t}"
        return "应为 0" if self.threshold_value() == 0 else f"不高于{t}"


def _gap_rules() -> dict[str, GapRule]:
    from sizheng.duties.models import SourceKind

    return {
        r.metric: r
        for r in (
            GapRule("life.compliance_rate", 100, SourceKind.COMPLIANCE, "quarter_latest"),
            GapRule("duties.overdue_count", 0, SourceKind.INDICATOR, "quarter"),
            GapRule("study.hours_coverage", 90, SourceKind.INDICATOR, "year"),
            GapRule("talks.coverage_rate", 90, SourceKind.INDICATOR, "year"),
            GapRule("care.resolved_rate", 80, SourceKind.INDICATOR, "year"),
        )
    }


GAP_METRICS = (
    "life.compliance_rate",
    "duties.overdue_count",
    "study.hours_coverage",
    "talks.coverage_rate",
    "care.resolved_rate",
)


def gap_rule(name: str) -> GapRule | None:
    return _gap_rules().get(name)


def gap_tag(metric: str, period_key: str) -> str:
    """The duty tag that makes a gap duty idempotent per (metric, org, period)."""
    return f"{CORE_GAP_TAG}:{metric}:{period_key}"


def may_dispatch(user, org) -> bool:
    """May open a duty for this org's gap: the committee admin, or a secretary / 党务干部 of an org
    strictly above it (a branch does not assign duties to itself). No query (the scope is cached)."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN):
        return True
    return any(org.path.startswith(p) and org.path != p for p in scope.paths(Role.SECRETARY, Role.ORG_ADMIN))


def existing_gap_duties(org_ids: list[int]) -> dict[tuple[int, str], int]:
    """(org id, tag) → the open-or-done (not cancelled) gap duty's id. One query."""
    from sizheng.duties.models import Duty, State

    rows = (
        Duty.objects.filter(assignee_org_id__in=org_ids, tags__startswith=f"{CORE_GAP_TAG}:")
        .exclude(state=State.CANCELLED)
        .order_by("pk")
        .values_list("assignee_org_id", "tags", "pk")
    )
    return {(org_id, tags): pk for org_id, tags, pk in rows}


@dataclass
class GapResult:
    duty: Any
    created: bool


def open_gap_duty(*, actor, org, metric: str, period: Period, value: Any) -> GapResult:
    """Open the rectification duty of a gap (due in 15 workdays), or return the one already open.

    Idempotent per (metric, org, period): the duty carries the tag ``驾驶舱整改:<metric>:<period>``;
    a cancelled one does not count. The org row is locked while checking, so two clicks at once
    open one duty (on PostgreSQL; SQLite serialises writers anyway). Audited.
    """
    from sizheng.core import calendar
    from sizheng.duties.models import Duty, State
    from sizheng.duties.services import duty_open
    from sizheng.org.models import Org

    rule = gap_rule(metric)
    if rule is None:
        raise ValueError(metric)
    m = rule.m
    tag = gap_tag(metric, period.key)
    with transaction.atomic():
        Org.objects.select_for_update().filter(pk=org.pk).first()
        existing = (
            Duty.objects.filter(assignee_org=org, tags=tag)
            .exclude(state=State.CANCELLED)
            .order_by("pk")
            .first()
        )
        if existing is not None:
            return GapResult(existing, False)
        scope = scope_of(actor)
        if scope.has_everything(Role.COMMITTEE_ADMIN):
            assigning = Org.objects.filter(parent__isnull=True).order_by("pk").first() or org
        else:
            assigning = org.parent or org
        shown = show(value, metric)["text"]
        duty = duty_open(
            org=org,
            title=f"{period.label}{m.label}{'低于要求' if m.higher_is_better else '未达到要求'}",
            due_on=calendar.add_workdays(timezone.localdate(), 15),
            source=rule.source,
            actor=actor,
            assigning_org=assigning,
            description=(
                f"驾驶舱显示：{org.name}{period.label}的{m.label}为{shown}，要求{rule.requirement()}。"
                f"{m.description}请查明原因，制定整改措施，并在完成时限前报送落实情况。"
            ),
            tags=tag,
            category="驾驶舱整改",
        )
        audit.record(
            actor,
            "dashboard_gap_duty",
            duty,
            {"metric": metric, "org": org.pk, "period": period.key, "value": shown},
        )
    return GapResult(duty, True)


# --- the registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    name: str
    title: str
    scopes: tuple[str, ...]
    metrics: tuple[str, ...]
    build: Callable[[Ctx], dict] = field(compare=False)
    template: str = ""
    link: Callable[[Ctx], str] = field(compare=False, default=lambda ctx: "")
    link_text: str = "查看明细"
    order: int = 100
    description: str = ""
    chart: bool = False


CARDS: dict[str, Card] = {}


def register(card: Card) -> Card:
    CARDS[card.name] = card
    return card


def cards_for(kind: str) -> list[Card]:
    """The cards of one page, in order."""
    return sorted((c for c in CARDS.values() if kind in c.scopes), key=lambda c: (c.order, c.name))


def card(
    name,
    title,
    *,
    scopes,
    metrics=(),
    link=None,
    link_text="查看明细",
    order=100,
    description="",
    chart=False,
):
    """Decorator form of :func:`register` (the template is ``dashboard/cards/<name>.html``)."""

    def wrap(build):
        register(
            Card(
                name,
                title,
                tuple(scopes),
                tuple(metrics),
                build,
                f"dashboard/cards/{name}.html",
                link or (lambda ctx: ""),
                link_text,
                order,
                description,
                chart,
            )
        )
        return build

    return wrap


# --- committee and branch cards -----------------------------------------------------------------


def _status(value: float | None, threshold: float) -> str:
    """A heatmap cell's class: met, near (≥ 80 % of the way), low, or none."""
    if value is None:
        return "none"
    if value >= threshold:
        return "met"
    return "near" if value >= 80 else "low"


def _compliance_link(ctx: Ctx) -> str:
    query = f"year={ctx.year}&grain=quarter"
    if ctx.kind == "org":
        query += f"&under={ctx.org.pk}"
    return url_or_blank("life:compliance", query=query)


@card(
    "compliance",
    "组织生活合规",
    scopes=("all", "org"),
    metrics=("life.compliance_rate",),
    link=_compliance_link,
    link_text="打开合规热力图",
    order=10,
    description="各党组织每季度已到期的组织生活要求中达标或已豁免的比例；低于要求的组织列为短板。",
)
def build_compliance(ctx: Ctx) -> dict:
    """Orgs × quarters of ``life.compliance_rate``; lagging orgs by their latest quarter with a value."""
    name = "life.compliance_rate"
    rule = _gap_rules()[name]
    threshold = rule.threshold_value()
    orgs = scope_orgs(ctx)
    quarters = ctx.periods("quarter")
    vals = values_many([(name, q) for q in quarters], [o["pk"] for o in orgs])
    keys = [q.key for q in quarters]  # Period.key builds its string on each call
    labels = {q.key: q.label for q in quarters}
    columns = [(key, vals[(name, key)]) for key in keys]

    def cells_of(org_id: int) -> list[dict]:
        cells = []
        for key, by_org in columns:
            shown = show(by_org.get(org_id), name)
            cells.append({**shown, "period": key, "status": _status(shown["value"], threshold)})
        return cells

    rows = []
    for o in orgs:
        # The latest quarter with a number decides the order and the gap; the cells themselves are
        # built below for the rows shown only (at city scale most orgs are counted, not listed).
        latest = next(
            ((key, v) for key, by_org in reversed(columns) if _is_number(v := by_org.get(o["pk"]))),
            None,
        )
        if latest is None:
            continue  # no rule binds this org (or nothing was due yet)
        key, value = latest
        rows.append(
            {
                "org_id": o["pk"],
                "name": o["name"],
                "path": o["path"],
                "latest": float(value),
                "latest_text": show(value, name)["text"],
                "latest_period": key,
                "latest_label": labels[key],
                "lagging": rule.is_gap(value, threshold),
            }
        )
    rows.sort(key=lambda r: (r["latest"], r["path"]))
    lagging = [r for r in rows if r["lagging"]]
    shown_rows = rows if ctx.full else rows[:HEATMAP_ROWS]
    shown_lagging = lagging if ctx.full else lagging[:LIST_ROWS]
    # Links only for the rows shown: a reverse() per org was most of the card's time at city scale.
    for r in (*shown_rows, *shown_lagging):
        if "url" not in r:
            r["url"] = org_page(r["org_id"], ctx.year)
            r["cells"] = cells_of(r["org_id"])
    return {
        "columns": [{"key": q.key, "label": f"第{q.index}季度"} for q in quarters],
        "rows": shown_rows,
        "total": len(rows),
        "lagging": shown_lagging,
        "lagging_count": len(lagging),
        "requirement": rule.requirement(),
    }


def _duties_link(ctx: Ctx) -> str:
    query = f"state=open&due_to={ctx.today - timedelta(days=1):%Y-%m-%d}&sort=due"
    if ctx.kind == "org":
        return url_or_blank("duties:org_board", ctx.org.pk, query=query)
    return url_or_blank("duties:board", query=query)


@card(
    "duties",
    "责任事项预警",
    scopes=("all",),
    metrics=("duties.overdue_count", "duties.on_time_rate"),
    link=_duties_link,
    link_text="查看逾期事项",
    order=20,
    description="本季度逾期未完成的责任事项（按责任单位）和已销号事项的按时完成率。",
    chart=True,
)
def build_duties(ctx: Ctx) -> dict:
    """Overdue duties per assignee org (current quarter) and the on-time rate of closed ones."""
    orgs = scope_orgs(ctx)
    period = ctx.current("quarter")
    od, ot = "duties.overdue_count", "duties.on_time_rate"
    vals = values_many([(od, period), (ot, period)], [o["pk"] for o in orgs])
    overdue, on_time = vals[(od, period.key)], vals[(ot, period.key)]
    rows = []
    rates = []
    for o in orgs:
        n = overdue.get(o["pk"])
        rate = on_time.get(o["pk"])
        if _is_number(rate):
            rates.append(float(rate))
        if isinstance(n, int) and n > 0:
            rows.append({"org_id": o["pk"], "name": o["name"], "overdue": n, "on_time": show(rate, ot)})
    rows.sort(key=lambda r: (-r["overdue"], r["name"]))
    shown = rows if ctx.full else rows[:LIST_ROWS]
    for r in shown:  # links only for the rows shown (a reverse() per org was most of the card's time)
        r["url"] = org_page(r["org_id"], ctx.year)
        r["board_url"] = url_or_blank("duties:org_board", r["org_id"], query="state=open&sort=due")
    return {
        "period": period.key,
        "period_label": period.label,
        "overdue_total": sum(r["overdue"] for r in rows),
        "lagging_count": len(rows),
        "rows": shown,
        "on_time_mean": mean(rates),
        "on_time_orgs": len(rates),
        "chart": {"names": [r["name"] for r in shown], "values": [r["overdue"] for r in shown]},
    }


def _rate_rows(ctx: Ctx, orgs: list[dict], vals: dict, name: str, rule: GapRule | None) -> list[dict]:
    rows = []
    for o in orgs:
        shown = show(vals.get(o["pk"]), name)
        rows.append(
            {
                "org_id": o["pk"],
                "name": o["name"],
                **shown,
                "lagging": bool(rule and rule.is_gap(shown["value"])),
                "url": org_page(o["pk"], ctx.year),
            }
        )
    rows.sort(key=lambda r: (r["value"] is None, r["value"] if r["value"] is not None else 0, r["name"]))
    return rows


@card(
    "talks",
    "谈心谈话覆盖",
    scopes=("all",),
    metrics=("talks.coverage_rate",),
    link=lambda ctx: url_or_blank("talks:coverage", query=f"year={ctx.year}"),
    link_text="打开谈话覆盖",
    order=30,
    description="本年度受“党员每年与支委谈心谈话”要求约束的党员中已谈到的比例，按各单位党组织统计。",
    chart=True,
)
def build_talks(ctx: Ctx) -> dict:
    """``talks.coverage_rate`` of the whole tree and of each depth-1 org (year)."""
    name = "talks.coverage_rate"
    rule = _gap_rules()[name]
    orgs = scope_orgs(ctx)
    root = [o for o in orgs if o["depth"] == 0]
    tops = top_orgs(orgs)
    vals = values_many([(name, ctx.year_period)], [o["pk"] for o in root + tops])[(name, ctx.year_period.key)]
    rows = [r for r in _rate_rows(ctx, tops, vals, name, rule) if r["value"] is not None]
    shown = rows if ctx.full else rows[:LIST_ROWS]
    return {
        "overall": show(vals.get(root[0]["pk"]) if root else None, name),
        "rows": shown,
        "total": len(rows),
        "lagging_count": sum(r["lagging"] for r in rows),
        "requirement": rule.requirement(),
        "chart": {"names": [r["name"] for r in shown], "values": [r["value"] for r in shown]},
    }


@card(
    "care",
    "关爱帮扶",
    scopes=("all",),
    metrics=("care.resolved_rate", "care.days_to_resolve"),
    link=lambda ctx: url_or_blank("care:cases"),
    link_text="打开困难诉求台账",
    order=40,
    description="本年度受理的困难诉求的解决率和平均办理天数（只统计状态和日期，不涉及诉求内容）。",
)
def build_care(ctx: Ctx) -> dict:
    """``care.resolved_rate`` and ``care.days_to_resolve`` of the tree and each depth-1 org (year)."""
    rr, dd = "care.resolved_rate", "care.days_to_resolve"
    rule = _gap_rules()[rr]
    orgs = scope_orgs(ctx)
    root = [o for o in orgs if o["depth"] == 0]
    tops = top_orgs(orgs)
    p = ctx.year_period
    vals = values_many([(rr, p), (dd, p)], [o["pk"] for o in root + tops])
    rows = []
    for r in _rate_rows(ctx, tops, vals[(rr, p.key)], rr, rule):
        if r["value"] is None:
            continue
        r["days"] = show(vals[(dd, p.key)].get(r["org_id"]), dd)
        rows.append(r)
    return {
        "resolved": show(vals[(rr, p.key)].get(root[0]["pk"]) if root else None, rr),
        "days": show(vals[(dd, p.key)].get(root[0]["pk"]) if root else None, dd),
        "rows": rows if ctx.full else rows[:LIST_ROWS],
        "total": len(rows),
        "lagging_count": sum(r["lagging"] for r in rows),
        "requirement": rule.requirement(),
    }


def _halves(ctx: Ctx) -> list[Period]:
    """The halves of last year and of this year that have started (the trend of a survey year)."""
    last = Period.of("year", ctx.year - 1)
    return list(periods_between("half", last.start, last.end)) + ctx.periods("half")


@card(
    "insight",
    "思想动态",
    scopes=("all",),
    metrics=("insight.satisfaction_index", "insight.negative_share"),
    link=lambda ctx: url_or_blank("insight:surveys"),
    link_text="打开问卷调查",
    order=50,
    description="每半年结束的调查中满意度指数和负面情绪意见占比的变化；参与人数不足匿名阈值的不予显示。",
    chart=True,
)
def build_insight(ctx: Ctx) -> dict:
    """The tree's satisfaction index and negative share over the last halves."""
    si, ns = "insight.satisfaction_index", "insight.negative_share"
    root = [o for o in scope_orgs(ctx) if o["depth"] == 0]
    halves = _halves(ctx)
    vals = values_many([(n, h) for h in halves for n in (si, ns)], [o["pk"] for o in root])
    pk = root[0]["pk"] if root else None
    points = [
        {
            "period": h.key,
            "label": h.label,
            "satisfaction": show(vals[(si, h.key)].get(pk), si),
            "negative": show(vals[(ns, h.key)].get(pk), ns),
        }
        for h in halves
    ]
    with_data = [
        p for p in points if p["satisfaction"]["value"] is not None or p["negative"]["value"] is not None
    ]
    return {
        "points": points,
        "latest": with_data[-1] if with_data else None,
        "chart": {
            "labels": [p["label"] for p in points],
            "satisfaction": [p["satisfaction"]["value"] for p in points],
            "negative": [p["negative"]["value"] for p in points],
        },
    }


def _assess_link(ctx: Ctx) -> str:
    data = assess_rounds()
    if data:
        return url_or_blank("assess:results", data["round"]["id"])
    return url_or_blank("assess:rounds")


@card(
    "assess",
    "测评结果",
    scopes=("all",),
    link=_assess_link,
    link_text="打开测评结果",
    order=60,
    description="最近一次发布的测评轮次的等次分布，以及同一测评体系历次轮次的平均总分。",
    chart=True,
)
def build_assess(ctx: Ctx) -> dict:
    """The latest published round's grades and the mean total of its system's rounds."""
    data = assess_rounds()
    if not data:
        return {"round": None}
    return {
        **data,
        "chart": {
            "grades": [d["grade"] for d in data["distribution"]],
            "counts": [d["count"] for d in data["distribution"]],
            "rounds": [r["title"] for r in data["trend"]],
            "means": [r["mean"] for r in data["trend"]],
        },
    }


# --- the branch page ------------------------------------------------------------------------------


def _gap_period(ctx: Ctx, rule: GapRule) -> list[Period]:
    if rule.period == "quarter_latest":
        return ctx.periods("quarter") or [ctx.current("quarter")]
    if rule.period == "quarter":
        return [ctx.current("quarter")]
    return [ctx.year_period]


@card(
    "gaps",
    "本组织短板",
    scopes=("org",),
    metrics=GAP_METRICS,
    link=lambda ctx: url_or_blank("life:compliance_org", ctx.org.pk, query=f"year={ctx.year}"),
    link_text="查看本组织组织生活",
    order=5,
    description="本组织各项指标与要求的对照；低于要求的可一键派发整改事项。",
)
def build_gaps(ctx: Ctx) -> dict:
    """Each gap metric of the org itself against its requirement, with the duty opened for it."""
    org = ctx.org
    rules = _gap_rules()
    periods = {name: _gap_period(ctx, rules[name]) for name in GAP_METRICS}
    vals = values_many([(n, p) for n, ps in periods.items() for p in ps], [org.pk])
    duties = existing_gap_duties([org.pk])
    can = may_dispatch(ctx.user, org)
    items = []
    for name in GAP_METRICS:
        rule = rules[name]
        chosen = periods[name][-1]
        value = vals[(name, chosen.key)].get(org.pk)
        if rule.period == "quarter_latest":
            for p in reversed(periods[name]):
                v = vals[(name, p.key)].get(org.pk)
                if not isinstance(v, Suppressed) and v is not None:
                    chosen, value = p, v
                    break
        lagging = rule.is_gap(value)
        duty_id = duties.get((org.pk, gap_tag(name, chosen.key)))
        items.append(
            {
                "metric": name,
                "label": rule.m.label,
                "period": chosen.key,
                "period_label": chosen.label,
                **show(value, name),
                "requirement": rule.requirement(),
                "lagging": lagging,
                "duty_url": reverse("duties:detail", args=[duty_id]) if duty_id else "",
                "can_dispatch": bool(lagging and can and not duty_id),
            }
        )
    items.sort(key=lambda i: (not i["lagging"], i["value"] is None))
    return {
        "org_id": org.pk,
        "org_name": org.name,
        "items": items,
        "lagging_count": sum(i["lagging"] for i in items),
        "may_dispatch": can,
        "next": org_page(org.pk, ctx.year),
    }


@card(
    "todo",
    "待办责任事项",
    scopes=("org",),
    link=lambda ctx: url_or_blank("duties:org_board", ctx.org.pk, query="state=open&sort=due"),
    link_text="打开责任事项",
    order=15,
    description="本组织及下级组织未办结的责任事项，按完成时限排列。",
)
def build_todo(ctx: Ctx) -> dict:
    """Open duties of the subtree: counts by warning (one query) and the nearest due (one query)."""
    from sizheng.duties import warnings
    from sizheng.duties.models import OPEN_STATES, Duty

    qs = Duty.objects.filter(assignee_org__path__startswith=ctx.org.path, state__in=OPEN_STATES)
    spec = {
        w: Count("pk", filter=warnings.warning_q(w, ctx.today))
        for w in (warnings.RED, warnings.YELLOW, warnings.BLUE)
    }
    counts = qs.order_by().aggregate(total=Count("pk"), **spec)
    rows = list(
        qs.select_related("assignee_org")
        .order_by("due_on", "pk")
        .only("pk", "title", "due_on", "state", "assignee_org__name")[: (50 if ctx.full else 8)]
    )
    b = warnings.bounds(ctx.today)
    return {
        "total": counts["total"],
        "warnings": [
            {"level": w, "label": warnings.LABELS[w], "count": counts[w]}
            for w in (warnings.RED, warnings.YELLOW, warnings.BLUE)
        ],
        "rows": [
            {
                "id": d.pk,
                "title": d.title,
                "org": d.assignee_org.name,
                "due_on": d.due_on.isoformat(),
                "state": d.get_state_display(),
                "warning": warnings.warning_of(d.state, d.due_on, ctx.today, b),
                "url": reverse("duties:detail", args=[d.pk]),
            }
            for d in rows
        ],
    }


# --- the person page ------------------------------------------------------------------------------


@card(
    "my_duties",
    "我的责任事项",
    scopes=("me",),
    link=lambda ctx: url_or_blank("duties:mine"),
    link_text="打开我的事项",
    order=10,
    description="由我负责、尚未办结的责任事项。",
)
def build_my_duties(ctx: Ctx) -> dict:
    """My open duties, nearest due first (one query)."""
    from sizheng.duties import warnings
    from sizheng.duties.models import OPEN_STATES, Duty

    rows = list(
        Duty.objects.filter(owner_id=ctx.person_id or 0, state__in=OPEN_STATES)
        .order_by("due_on", "pk")
        .only("pk", "title", "due_on", "state")[:50]
    )
    b = warnings.bounds(ctx.today)
    items = [
        {
            "id": d.pk,
            "title": d.title,
            "due_on": d.due_on.isoformat(),
            "state": d.get_state_display(),
            "warning": warnings.warning_of(d.state, d.due_on, ctx.today, b),
            "url": reverse("duties:detail", args=[d.pk]),
        }
        for d in rows
    ]
    return {"total": len(items), "rows": items if ctx.full else items[:8]}


@card(
    "my_meetings",
    "我的会议",
    scopes=("me",),
    link=lambda ctx: url_or_blank("life:calendar"),
    link_text="打开会议日历",
    order=20,
    description="我将参加的会议和本年度的出席情况。",
)
def build_my_meetings(ctx: Ctx) -> dict:
    """Upcoming meetings I am expected at (one query) and my attendance this year (one query)."""
    from sizheng.life.models import Attendance, Meeting

    pid = ctx.person_id or 0
    upcoming = list(
        Meeting.objects.filter(attendance__person_id=pid, starts_at__gte=timezone.now())
        .select_related("org")
        .order_by("starts_at", "pk")
        .only("pk", "topic", "kind", "starts_at", "place", "org__name")[:5]
    )
    rows = (
        Attendance.objects.filter(
            person_id=pid,
            meeting__in=Meeting.objects.counted().filter(starts_at__year=ctx.year).values("pk"),
        )
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
    )
    from sizheng.life.models import AttendanceStatus

    labels = dict(AttendanceStatus.choices)
    return {
        "upcoming": [
            {
                "id": m.pk,
                "topic": m.topic,
                "kind": m.get_kind_display(),
                "org": m.org.name,
                "starts_at": timezone.localtime(m.starts_at).strftime("%Y-%m-%d %H:%M"),
                "place": m.place,
                "url": url_or_blank("life:meeting_detail", m.pk),
            }
            for m in upcoming
        ],
        "attendance": [
            {"status": r["status"], "label": str(labels.get(r["status"], r["status"])), "count": r["n"]}
            for r in rows
        ],
    }


@card(
    "my_study",
    "我的学时",
    scopes=("me",),
    link=lambda ctx: url_or_blank("study:mine"),
    link_text="打开我的学习",
    order=30,
    description="本年度参加理论学习的学时与要求（只给本人看）。",
)
def build_my_study(ctx: Ctx) -> dict:
    """My hours against my yearly requirement (``study.hours.standing``: two queries)."""
    from sizheng.study import hours

    if not ctx.person_id:
        return {"hours": None}
    row = hours.standing([ctx.person_id], ctx.year)[ctx.person_id]
    return {
        "hours": row["hours"],
        "required": row["required"],
        "reached": row["reached"],
        "missing": round(max(0.0, row["required"] - row["hours"]), 1),
        "percent": min(100, round(100 * row["hours"] / row["required"])) if row["required"] else 100,
    }


@card(
    "my_requests",
    "我的困难诉求",
    scopes=("me",),
    link=lambda ctx: url_or_blank("care:mine"),
    link_text="打开我的诉求",
    order=40,
    description="我反映的困难诉求的办理状态（只显示状态和日期）。",
)
def build_my_requests(ctx: Ctx) -> dict:
    """My care cases, newest first: state and dates only (one query)."""
    from sizheng.care.models import CareCase

    rows = list(
        CareCase.objects.filter(person_id=ctx.person_id or 0)
        .order_by("-opened_at", "-pk")
        .values("pk", "state", "opened_at")[:20]
    )
    from sizheng.care.models import CaseState

    labels = dict(CaseState.choices)
    items = [
        {
            "id": r["pk"],
            "state": str(labels.get(r["state"], r["state"])),
            "done": r["state"] in (CaseState.RESOLVED, CaseState.FOLLOWED_UP),
            "opened_on": timezone.localtime(r["opened_at"]).date().isoformat(),
            "url": url_or_blank("care:case_detail", r["pk"]),
        }
        for r in rows
    ]
    return {
        "open": sum(not i["done"] for i in items),
        "total": len(items),
        "rows": items if ctx.full else items[:5],
    }


# --- the leader page (aggregates only) -----------------------------------------------------------


def _unit_top(orgs: list[dict]) -> list[dict]:
    tops = top_orgs(orgs)
    if tops:
        return tops[:1]
    return sorted(orgs, key=lambda o: o["depth"])[:1]


def _unit_compliance_link(ctx: Ctx) -> str:
    top = _unit_top(scope_orgs(ctx))
    under = f"&under={top[0]['pk']}" if top else ""
    return url_or_blank("life:compliance", query=f"year={ctx.year}&grain=quarter{under}")


@card(
    "unit_life",
    "组织生活与学习",
    scopes=("unit",),
    metrics=("life.compliance_rate", "study.hours_coverage", "talks.coverage_rate"),
    link=lambda ctx: _unit_compliance_link(ctx),
    link_text="打开合规热力图",
    order=10,
    description="本单位党组织的组织生活达标、党员学时达标和谈心谈话覆盖情况（只有汇总数字）。",
    chart=True,
)
def build_unit_life(ctx: Ctx) -> dict:
    """Per quarter: how many of the unit's orgs met every requirement due; the mean hours coverage
    over the orgs; the talk coverage of the unit's org subtree."""
    cr, hc, tc = "life.compliance_rate", "study.hours_coverage", "talks.coverage_rate"
    orgs = scope_orgs(ctx)
    ids = [o["pk"] for o in orgs]
    top = _unit_top(orgs)
    quarters = ctx.periods("quarter")
    p = ctx.year_period
    vals = values_many([(cr, q) for q in quarters] + [(hc, p)], ids, consumer=ctx.consumer)
    talks = values_many([(tc, p)], [o["pk"] for o in top], consumer=ctx.consumer)[(tc, p.key)]
    rule = _gap_rules()[cr]
    per_quarter = []
    for q in quarters:
        numeric = [v for v in vals[(cr, q.key)].values() if isinstance(v, int | float)]
        per_quarter.append(
            {
                "period": q.key,
                "label": f"第{q.index}季度",
                "orgs": len(numeric),
                "met": sum(not rule.is_gap(v) for v in numeric),
            }
        )
    coverage = [float(v) for v in vals[(hc, p.key)].values() if isinstance(v, int | float)]
    return {
        "orgs": len(orgs),
        "quarters": per_quarter,
        "hours_mean": show(mean(coverage), hc)
        if coverage
        else show(Suppressed("本单位党组织暂无学时数据。"), hc),
        "talks": show(talks.get(top[0]["pk"]) if top else None, tc),
        "chart": {
            "labels": [q["label"] for q in per_quarter],
            "met": [q["met"] for q in per_quarter],
            "other": [q["orgs"] - q["met"] for q in per_quarter],
        },
    }


@card(
    "unit_work",
    "事项、关爱与保障",
    scopes=("unit",),
    metrics=(
        "duties.overdue_count",
        "duties.on_time_rate",
        "care.resolved_rate",
        "care.days_to_resolve",
        "funds.execution_rate",
        "civility.status",
        "insight.satisfaction_index",
    ),
    link=lambda ctx: url_or_blank("funds:overview"),
    link_text="打开经费执行",
    order=20,
    description="本单位逾期事项、困难诉求办理、经费执行、文明单位和满意度（只有汇总数字）。",
)
def build_unit_work(ctx: Ctx) -> dict:
    """Sums and means over the unit's orgs, its org subtree's care and survey figures, its funds."""
    od, ot = "duties.overdue_count", "duties.on_time_rate"
    rr, dd, si = "care.resolved_rate", "care.days_to_resolve", "insight.satisfaction_index"
    fe, cs = "funds.execution_rate", "civility.status"
    orgs = scope_orgs(ctx)
    ids = [o["pk"] for o in orgs]
    top = _unit_top(orgs)
    q, y, h = ctx.current("quarter"), ctx.year_period, ctx.current("half")
    c = ctx.consumer
    by_org = values_many([(od, q), (ot, q)], ids, consumer=c)
    by_top = values_many([(rr, y), (dd, y), (si, h)], [o["pk"] for o in top], consumer=c)
    by_unit = values_many([(fe, y), (cs, y)], [ctx.unit.pk], consumer=c)
    tk = top[0]["pk"] if top else None
    overdue = sum(v for v in by_org[(od, q.key)].values() if isinstance(v, int) and not isinstance(v, bool))
    rates = [float(v) for v in by_org[(ot, q.key)].values() if _is_number(v)]
    civility = by_unit[(cs, y.key)].get(ctx.unit.pk)
    return {
        "period_label": q.label,
        "overdue": overdue,
        "on_time_mean": show(mean(rates), ot) if rates else show(Suppressed("本季度没有销号的事项。"), ot),
        "resolved": show(by_top[(rr, y.key)].get(tk), rr),
        "days": show(by_top[(dd, y.key)].get(tk), dd),
        "satisfaction": show(by_top[(si, h.key)].get(tk), si),
        "satisfaction_period": h.label,
        "funds": show(by_unit[(fe, y.key)].get(ctx.unit.pk), fe),
        "civility": None if isinstance(civility, Suppressed) or civility is None else bool(civility),
    }


# --- scope and access ------------------------------------------------------------------------------

YEARS_BACK = 5


def pick_year(raw: Any, today: date) -> int:
    """The year asked for, within the last few years; this year otherwise."""
    try:
        year = int(raw)
    except (TypeError, ValueError):
        return today.year
    return year if today.year - YEARS_BACK <= year <= today.year else today.year


def default_scope(user) -> str:
    """The page a user lands on: the committee's for the committee admin; a unit leader's unit (the
    first of their units in the units' order, as in the switcher; a leader is often also 党组书记,
    and the unit summary is their page); a secretary's or 党务干部's branch; otherwise their own."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN):
        return "all"
    units = sorted(set(scope.unit_ids.get(Role.LEADER, [])))
    if len(units) > 1:
        from sizheng.org.models import Unit

        units = list(Unit.objects.filter(pk__in=units).values_list("pk", flat=True))  # Meta ordering
    if units:
        return f"unit:{units[0]}"
    for role in (Role.SECRETARY, Role.ORG_ADMIN):
        ids = scope.org_ids.get(role, [])
        if ids:
            return f"org:{sorted(ids)[0]}"
    return "me"


def may_see_unit(user, unit_id: int) -> bool:
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN, Role.LEADER):
        return True
    return unit_id in scope.unit_ids.get(Role.LEADER, [])


def context_for(user, scope: str, *, year: Any = None, full: bool = False) -> Ctx:
    """The card context of a scope parameter, or 404 when the user may not see that page.

    ``all``: the committee admin. ``org:<id>``: who manages the org (its secretaries and 党务干部,
    those of an org above it, the committee admin). ``unit:<id>``: the unit's leaders and the
    committee admin. ``me``: everyone (their own records). Anything else: 404, never 403.
    """
    from django.http import Http404

    from sizheng.org.access import get_org_or_404, manages_org
    from sizheng.org.models import Unit

    today = timezone.localdate()
    ctx_year = pick_year(year, today)
    s = scope_of(user)
    kind, _, raw = (scope or "").partition(":")
    if kind == "all" and not raw:
        if not s.has_everything(Role.COMMITTEE_ADMIN):
            raise Http404("未找到该页面，或您无权查看。")
        return Ctx(user, "all", ctx_year, today, full=full)
    if kind == "me" and not raw:
        return Ctx(user, "me", ctx_year, today, person_id=s.person_id, full=full)
    if not raw.isdigit():
        raise Http404("未找到该页面，或您无权查看。")
    pk = int(raw)
    if kind == "org":
        org = get_org_or_404(user, pk)
        if not manages_org(user, org):
            raise Http404("未找到该党组织，或您无权查看。")
        return Ctx(user, "org", ctx_year, today, org=org, full=full)
    if kind == "unit":
        unit = Unit.objects.filter(pk=pk).first() if may_see_unit(user, pk) else None
        if unit is None:
            raise Http404("未找到该单位，或您无权查看。")
        return Ctx(user, "unit", ctx_year, today, unit=unit, full=full)
    raise Http404("未找到该页面，或您无权查看。")
