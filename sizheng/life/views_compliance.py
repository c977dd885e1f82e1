"""Compliance on screen: the committee heatmap, one org's year, the drill-down to a cell with its
actions (登记豁免, 转为督办事项), and the rules as data.

Every screen computes with ``compliance.evaluate`` (three queries for any number of orgs and
records; two on the heatmap, which passes the rules it read) plus one org query, so the query count
is flat in orgs and meetings. The heatmap keeps each org's column statuses in the cache under the
data version (``compliance.cached``), so an unchanged view skips the evaluation. The heatmap shows up to ``SUMMARY_OVER`` orgs as rows; more, it
summarises them per org below the view's root, with pages and a drill-down (the README says why).

How outcomes fill the columns: an outcome of a rule's period Q falls in column C when Q lies within
C (a month's 支委会 in its quarter) or when Q is a quarter containing C (a quarter's 党员大会 in each
of its months); yearly rules are shown in the "全年" column only, so a running year does not paint
every month "not yet due".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.core import audit
from sizheng.core.models import Role
from sizheng.core.paging import paginate
from sizheng.core.rules import Period, periods_between
from sizheng.core.xlsx import LedgerWorkbook, xlsx_response
from sizheng.life import compliance, services
from sizheng.life.forms_compliance import (
    GRAINS,
    ExemptionForm,
    HeatmapForm,
    RuleForm,
    rule_create,
    rule_update,
)
from sizheng.life.models import ComplianceRule, Meeting
from sizheng.org.access import ancestor_ids, get_org_or_404, manages_org, require
from sizheng.org.models import Org

# Colour classes and the short text that says the same without colour.
STATUS_STYLE = {
    "met": ("bg-green-lt", "✓"),
    "warning": ("bg-yellow-lt", "!"),
    "violation": ("bg-red-lt", "✗"),
    "exempt": ("bg-secondary-lt", "免"),
    "not_yet_due": ("bg-white", "…"),
    "not_applicable": ("", ""),
}
NO_MANAGE = "只有该党组织及上级党组织的书记、党务干部或机关工委可以登记豁免或转为督办事项。"
NO_RULE_ADMIN = "只有机关工委管理员可以新增或修改规则。"
# More orgs in view than this: the heatmap summarises them, one row per org below the view's root.
SUMMARY_OVER = 60
PER_PAGE = 50  # summary rows a page


class _Styled:
    """What a cell shows for its ``status``: a colour and a mark (colour is not the only signal)."""

    status: str

    @property
    def css(self) -> str:
        """The Tabler background class of the status."""
        return STATUS_STYLE[self.status][0]

    @property
    def mark(self) -> str:
        """The short text shown in the cell."""
        return STATUS_STYLE[self.status][1]


@dataclass
class Cell(_Styled):
    """One heatmap cell: its status, colour, text and drill-down link."""

    status: str
    url: str = ""
    period: Period | None = None

    @property
    def label(self) -> str:
        """The status in words, for the title and screen readers."""
        return compliance.STATUS_LABELS[self.status]


@dataclass
class Row:
    """One org's row of cells; ``url``: the org's year."""

    org: Org
    cells: list[Cell]
    url: str = ""


@dataclass
class Group:
    """Rows under one depth-1 org (collapsible)."""

    name: str
    rows: list[Row] = field(default_factory=list)
    failures: int = 0


def _rules_by_kind(rows: list[ComplianceRule], kind: str) -> list[ComplianceRule]:
    """The active rules of the chosen activity ("all": every one)."""
    return [r for r in rows if kind == "all" or r.activity == kind]


def _bound_kinds(rules: list[ComplianceRule]) -> set[str]:
    """The org kinds any of these rules binds."""
    return {k.strip() for r in rules for k in r.org_kinds.split(",") if k.strip()}


def _year_periods(year: int) -> list[Period]:
    """Every month, quarter, half and the year itself: what the rules of a year are evaluated on."""
    start, end = Period.of("year", year).start, Period.of("year", year).end
    out: list[Period] = []
    for kind in ("month", "quarter", "half", "year"):
        out += list(periods_between(kind, start, end))  # type: ignore[arg-type]
    return out


def _falls_in(q: Period, column: Period) -> bool:
    """Whether an outcome of period ``q`` is shown in ``column`` (see the module docstring)."""
    if column.kind == "year":
        return q.start.year == column.start.year
    if q.kind == "year" or q.kind == "half":
        return False
    inside = column.start <= q.start and q.end <= column.end
    around = q.kind == "quarter" and q.start <= column.start and column.end <= q.end
    return inside or around


def _kind_choices(rows: list[ComplianceRule]) -> list[tuple[str, str]]:
    """Activities that have an active rule, from the active rules already read."""
    seen: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: r.activity):
        seen.setdefault(row.activity, row.get_activity_display())
    return list(seen.items())


# A cell's worst status as a rank (0: violation); NONE: no binding outcome, not applicable.
RANK = {status: i for i, status in enumerate(compliance.WORST_FIRST)}
STATUS_OF = [*compliance.WORST_FIRST, "not_applicable"]
NONE = len(RANK)
FAILING = RANK["warning"]  # ranks up to this one are gaps (违规 or 提醒)


def _ranks(matrix: compliance.Matrix, columns: list[Period]) -> dict[int, list[int]]:
    """Each org's worst status per column, as ranks (one pass over the outcomes)."""
    where = {p.key: [i for i, c in enumerate(columns) if _falls_in(p, c)] for p in matrix.periods}
    out: dict[int, list[int]] = {}
    for (org_id, _, key), outcome in matrix.outcomes.items():
        rank = RANK.get(outcome.status)
        if rank is None:
            continue
        row = out.get(org_id)
        if row is None:
            row = out[org_id] = [NONE] * len(columns)
        for i in where[key]:
            if rank < row[i]:
                row[i] = rank
    return out


def _row(org: Org, ranks: list[int], columns: list[Period], cell_url) -> Row:
    """One org's row of cells, each linking to its drill-down, the name to the org's year."""
    cells = []
    for rank, column in zip(ranks, columns, strict=True):
        status = STATUS_OF[rank]
        cells.append(Cell(status, cell_url(org.pk, column.key) if rank != NONE else "", column))
    year = columns[-1].start.year
    return Row(org, cells, reverse("life:compliance_org", args=[org.pk]) + f"?year={year}")


@dataclass
class SumCell(_Styled):
    """A summary cell: the worst status in the group and how many of its orgs have a gap."""

    status: str
    failing: int
    period: Period

    @property
    def text(self) -> str:
        """The cell in words, for screen readers: the worst status and the orgs with a gap."""
        label = compliance.STATUS_LABELS[self.status]
        return f"{label}：{self.failing} 个党组织" if self.failing else label


@dataclass
class SumRow:
    """A summary row: one org below the view's root with the orgs under it (or a lone org's own row)."""

    org: Org
    size: int
    cells: list[SumCell]
    url: str
    ranks: list[int]  # a lone org's own ranks, made into ``row`` for the page shown
    row: Row | None = None

    @property
    def failing(self) -> int:
        """Orgs with a gap somewhere in the year (the 全年 column)."""
        return self.cells[-1].failing

    @property
    def gaps(self) -> int:
        """Cells with a gap, over the orgs and the columns (the year's column left out)."""
        return sum(c.failing for c in self.cells[:-1])


def _group_of(org: Org, known: dict[int, Org], depth: int) -> Org:
    """The first org on the path of ``org`` at ``depth`` or below that the user sees (else itself)."""
    for level, pk in enumerate(ancestor_ids(org.path)):
        if level >= depth and pk in known:
            return known[pk]
    return org


def _summary(orgs, ranks, known, depth: int, columns, drill_url) -> list[SumRow]:
    """One row per org at ``depth`` on the orgs' paths, each cell aggregating its orgs."""
    members: dict[int, list[Org]] = defaultdict(list)
    heads: dict[int, Org] = {}
    for org in orgs:
        head = _group_of(org, known, depth)
        heads[head.pk] = head
        members[head.pk].append(org)
    blank = [NONE] * len(columns)
    out = []
    for pk, group in members.items():
        rows = [ranks.get(o.pk, blank) for o in group]
        cells = []
        for i, column in enumerate(columns):
            worst = min(r[i] for r in rows)
            cells.append(SumCell(STATUS_OF[worst], sum(1 for r in rows if r[i] <= FAILING), column))
        lone = len(group) == 1  # a lone org shows its own row, linking to its cells and year
        out.append(
            SumRow(group[0] if lone else heads[pk], len(group), cells, "" if lone else drill_url(pk), rows[0])
        )
    return out


def _columns(year: int, grain: str) -> list[Period]:
    """The heatmap's columns: the year's months or quarters, then the year."""
    year_period = Period.of("year", year)
    return [*periods_between(grain, year_period.start, year_period.end), year_period]  # type: ignore[arg-type]


def _heatmap_ranks(orgs, year, grain, kind, active, columns, today) -> dict[int, list[int]]:
    """Each org's worst status per column (``_ranks``), kept in the cache under the data version.

    The key names all the result depends on besides the data: the year, grain, activity, ``today`` and
    the orgs evaluated (their ids — the user's scope and ``under`` narrowed to the kinds the rules
    bind); the data version (``compliance.cached``) covers meetings, exemptions, rules and orgs.
    """
    codes = None if kind == "all" else [r.code for r in _rules_by_kind(active, kind)]

    def evaluate() -> dict[int, list[int]]:
        matrix = compliance.evaluate(orgs, _year_periods(year), today=today, rules=active, rule_codes=codes)
        return _ranks(matrix, columns)

    key = ("heatmap", year, grain, kind, today.isoformat(), compliance.orgs_digest(orgs))
    return compliance.cached(key, evaluate)


def warm_committee_heatmap(today=None) -> list[str]:
    """Fill the cache with the committee's default views: this year by month and by quarter, every
    activity, whole tree (the 工委 sees every org). Cheap when nothing changed (two cache reads).

    Returns the views warmed (``"month"``, ``"quarter"``) for the caller's log.
    """
    today = today or timezone.localdate()
    active = list(ComplianceRule.objects.filter(is_active=True).select_related("scope_org"))
    kinds = _bound_kinds(active)
    # The same orgs, fields and order as the committee's request (``visible_to``: every org).
    orgs = _bound_orgs(Org.objects.only(*HEAT_FIELDS), kinds)
    done = []
    for grain in ("month", "quarter"):
        _heatmap_ranks(orgs, today.year, grain, "all", active, _columns(today.year, grain), today)
        done.append(grain)
    return done


#: The org fields a heatmap reads (evaluation and rows); the warm job and requests load the same.
HEAT_FIELDS = ("pk", "name", "kind", "path", "depth", "founded_on", "dissolved_on")


def _bound_orgs(orgs, kinds: set[str], inside: str = "") -> list[Org]:
    """The orgs of a view, in tree order: of a kind the rules bind, within ``inside`` (a path). The
    request and the warm job both use it, so the cache key (``orgs_digest``) is the same for both."""
    return sorted((o for o in orgs if o.kind in kinds and o.path.startswith(inside)), key=lambda o: o.path)


class _DrillUrl:
    """``?year=&grain=&kind=&sort=&under=<pk>``: the heatmap of one org's subtree, same filters."""

    def __init__(self, f: dict) -> None:
        keep = {"year": f["year"], "grain": f["grain"], "kind": f["kind"], "sort": f["sort"]}
        self.base = urlencode(
            {k: v for k, v in keep.items() if (k, v) not in (("kind", "all"), ("sort", "problems"))}
        )

    def __call__(self, pk: int | None) -> str:
        url = reverse("life:compliance") + "?" + self.base
        return url + f"&under={pk}" if pk is not None else url


@dataclass
class _View:
    """What the heatmap and its export share: the filters, the orgs in view and their statuses."""

    form: HeatmapForm
    f: dict
    active: list[ComplianceRule]
    under: Org | None
    known: dict[int, Org]  # the orgs the user sees in the view's subtree and those above ``under``
    orgs: list[Org]  # the orgs the rules bind, in tree order
    columns: list[Period]
    ranks: dict[int, list[int]]
    today: Any

    @property
    def failing(self) -> int:
        """Orgs in view with a gap somewhere in the year (their 全年 column)."""
        return sum(1 for o in self.orgs if self.ranks.get(o.pk, [NONE])[-1] <= FAILING)


def _view(request: HttpRequest) -> _View:
    """The view's filters, orgs and per-org ranks (``under`` outside the scope: 404).

    Five queries of its own for any number of orgs (rules, ``under``, the orgs, and
    ``compliance.evaluate``'s meetings and exemptions); three when the ranks come from the cache.
    """
    user, today = request.user, timezone.localdate()
    active = list(ComplianceRule.objects.filter(is_active=True).select_related("scope_org"))
    form = HeatmapForm(
        request.GET or None, kinds=_kind_choices(active), initial={"year": today.year, "grain": "month"}
    )
    f = form.values(today)
    rules = _rules_by_kind(active, f["kind"])
    kinds = _bound_kinds(rules)
    under = get_org_or_404(user, f["under"]) if f["under"] else None
    # The orgs the user sees in the view's subtree, and (for the breadcrumb) those above ``under``.
    known_qs = Org.objects.filter(pk__in=Org.objects.visible_to(user).values("pk"))
    if under is not None:
        known_qs = known_qs.filter(Q(path__startswith=under.path) | Q(pk__in=ancestor_ids(under.path)))
    known_list = list(known_qs.only(*HEAT_FIELDS))
    known = {o.pk: o for o in known_list}
    orgs = _bound_orgs(known_list, kinds, inside=under.path if under is not None else "")
    year = f["year"]
    columns = _columns(year, f["grain"])
    ranks = _heatmap_ranks(orgs, year, f["grain"], f["kind"], active, columns, today)
    return _View(form, f, active, under, known, orgs, columns, ranks, today)


@login_required
@require_GET
def heatmap(request: HttpRequest) -> HttpResponse:
    """The committee heatmap: orgs in scope the rules bind × months or quarters of a year.

    Up to ``SUMMARY_OVER`` orgs: one row each, grouped under their top org. More: one row per org
    below the view's root (``under``, else the top), aggregating its orgs, 50 a page; each drills
    down to ``?under=``. Five queries of its own for any number of orgs (rules, ``under``, the orgs,
    and ``compliance.evaluate``'s meetings and exemptions); three when the statuses come from the
    cache (same view, same day, no write since).
    """
    v = _view(request)
    form, f, under, known, orgs, columns, ranks = v.form, v.f, v.under, v.known, v.orgs, v.columns, v.ranks
    kind_q = "" if f["kind"] == "all" else f"?kind={f['kind']}"

    def cell_url(org_id: int, key: str) -> str:
        return reverse("life:compliance_cell", args=[org_id, key]) + kind_q

    drill = _DrillUrl(f)
    blank = [NONE] * len(columns)
    context: dict[str, Any] = {
        "form": form,
        "f": f,
        "under": under,
        "columns": columns,
        "n_orgs": len(orgs),
        "summary": len(orgs) > SUMMARY_OVER,
        "crumbs": _crumbs(under, known, drill),
        "export_url": _export_url(f),
        "legend": [
            (s, *STATUS_STYLE[s], compliance.STATUS_LABELS[s]) for s in STATUS_STYLE if s != "not_applicable"
        ],
    }
    if context["summary"]:
        depth = under.depth + 1 if under is not None else 1
        rows = _summary(orgs, ranks, known, depth, columns, drill)
        if f["sort"] == "problems":
            rows.sort(key=lambda r: (-r.failing, -r.gaps, r.org.path))
        else:
            rows.sort(key=lambda r: r.org.path)
        page = paginate(request, rows, PER_PAGE, count=len(rows))
        for r in page.object_list:
            if r.size == 1:
                r.row = _row(r.org, r.ranks, columns, cell_url)
        context.update(page=page, failing=v.failing)
    else:
        # Grouped by the top org the user sees on each path (the depth-1 org for the committee).
        groups: dict[int, Group] = {}
        for org in orgs:
            row = _row(org, ranks.get(org.pk, blank), columns, cell_url)
            top = _group_of(org, known, 1)
            g = groups.setdefault(top.pk, Group(top.name))
            g.rows.append(row)
            g.failures += sum(1 for c in row.cells[:-1] if c.status in ("warning", "violation"))
        context.update(groups=list(groups.values()), open_all=len(groups) <= 5)
    return render(request, "life/compliance.html", context)


def _crumbs(under: Org | None, known: dict[int, Org], drill) -> list[tuple[str, str]]:
    """全部 › the orgs above ``under`` the user sees › ``under`` (the last one without a link)."""
    if under is None:
        return []
    crumbs = [("全部", drill(None))]
    for pk in ancestor_ids(under.path)[:-1]:
        org = known.get(pk)
        if org is not None and org.depth > 0:
            crumbs.append((org.name, drill(pk)))
    return [*crumbs, (under.name, "")]


# --- the Excel ledger of a view -------------------------------------------------------------------

GRAIN_LABELS = dict(GRAINS)


def _export_url(f: dict) -> str:
    """The export of the view shown: same year, grain, activity and ``under`` (order and page not)."""
    keep = {"year": f["year"], "grain": f["grain"], "kind": f["kind"], "under": f["under"]}
    query = urlencode({k: v for k, v in keep.items() if v is not None and (k, v) != ("kind", "all")})
    return reverse("life:compliance_export") + "?" + query


def _column_title(column: Period) -> str:
    """A column's header, as on the page: 3月, Q2, 全年."""
    if column.kind == "year":
        return "全年"
    return f"Q{column.index}" if column.kind == "quarter" else f"{column.index}月"


def _scope_text(v: _View) -> str:
    """The view's scope in words: ``under`` with its sub-orgs, else the top orgs the user sees."""
    if v.under is not None:
        return f"{v.under.name}（含下级）"
    tops = [o for o in v.known.values() if not any(pk in v.known for pk in ancestor_ids(o.path)[:-1])]
    names = "、".join(o.name for o in sorted(tops, key=lambda o: o.path))
    return f"{names}（含下级）" if names else "无"


@login_required
@require_GET
def heatmap_export(request: HttpRequest) -> HttpResponse:
    """导出 Excel: every org of the view (never the summary) × the view's columns, the status in words.

    Same filters, scope and 404 as the page, and the same statuses: both read ``_view`` (the cached
    ``_ranks``). The 上级党组织 is the org the page groups it under (``_group_of``): the top org the
    user sees on its path, or the child of ``under``. Audited (``compliance_heatmap_export``).
    """
    v = _view(request)
    f, columns = v.f, v.columns
    depth = v.under.depth + 1 if v.under is not None else 1
    blank = [NONE] * len(columns)
    labels = [compliance.STATUS_LABELS[s] for s in STATUS_OF]
    rows = [
        [org.name, _group_of(org, v.known, depth).name, *(labels[r] for r in v.ranks.get(org.pk, blank))]
        for org in v.orgs
    ]
    activity = dict(_kind_choices(v.active)).get(f["kind"], "全部活动")
    grain = GRAIN_LABELS[f["grain"]]
    scope = _scope_text(v)
    now = timezone.localtime()
    failing = v.failing
    about = [
        ("年度", f"{f['year']}年"),
        ("粒度", grain),
        ("活动", activity),
        ("范围", scope),
        ("党组织数", len(rows)),
        ("本年度有未达标的党组织数", failing),
        ("生成时间", f"{now:%Y-%m-%d %H:%M}"),
        ("导出人", request.user.get_username()),
        ("状态计算日", f"{v.today:%Y-%m-%d}（尚未到期的期间按此日判断）"),
        ("状态说明", "每格是该党组织在该期间所有规则结果中最差的一项；“不适用”表示没有规则约束该期间。"),
    ]
    book = LedgerWorkbook()
    book.add_sheet(title="组织生活合规情况导出说明", headers=["项目", "内容"], rows=about, sheet_name="说明",
                   col_widths=[26, 80])  # fmt: skip
    book.add_sheet(
        title=f"{f['year']}年组织生活合规情况（{grain}，{activity}）",
        headers=["党组织", "上级党组织", *(_column_title(c) for c in columns)],
        rows=rows,
        sheet_name="合规情况",
        col_widths=[36, 30, *([14] * len(columns))],
        note=f"范围：{scope}　生成时间：{now:%Y-%m-%d %H:%M}　共 {len(rows)} 个党组织",
    )
    data = book.to_bytes()
    detail = {
        "year": f["year"],
        "grain": f["grain"],
        "kind": f["kind"],
        "under": f["under"],
        "rows": len(rows),
    }
    audit.record(request.user, "compliance_heatmap_export", v.under, detail, request=request)
    name = f"组织生活合规_{f['year']}_{grain}" + (f"_{v.under.name}" if v.under is not None else "")
    return xlsx_response(data, f"{name}.xlsx")


@login_required
@require_GET
def org_year(request: HttpRequest, org_pk: int) -> HttpResponse:
    """One org's own rows for a year: each rule binding it × its periods."""
    user, today = request.user, timezone.localdate()
    org = get_org_or_404(user, org_pk)
    try:
        year = int(request.GET.get("year") or today.year)
    except ValueError:
        year = today.year
    if not 2000 <= year <= 2100:
        year = today.year
    matrix = compliance.evaluate([org], _year_periods(year), today=today)
    per_rule: dict[str, list] = defaultdict(list)
    for (_, code, key), outcome in sorted(
        matrix.outcomes.items(), key=lambda kv: Period.parse(kv[0][2]).start
    ):
        st = outcome.status
        per_rule[code].append(
            {"key": key, "label": Period.parse(key).label, "status": st, "css": STATUS_STYLE[st][0],
             "mark": STATUS_STYLE[st][1], "text": compliance.STATUS_LABELS[st], "held": outcome.held,
             "required": outcome.required, "url": reverse("life:compliance_cell", args=[org.pk, key])}
        )  # fmt: skip
    rules = [{"rule": r, "cells": per_rule[r.code]} for r in matrix.rules if per_rule.get(r.code)]
    return render(
        request,
        "life/compliance_org.html",
        {
            "org": org,
            "year": year,
            "rules": rules,
            "prev": year - 1,
            "next": year + 1 if year < today.year else None,
        },
    )


def _meeting_url(pk: int) -> str:
    """The meeting's page when the meetings screens are installed, else nothing."""
    try:
        return reverse("life:meeting_detail", args=[pk])
    except NoReverseMatch:
        return ""


def _cell_context(user, org: Org, period: Period, kind: str, today) -> dict:
    """The outcomes behind a cell with the meetings counted (four queries)."""
    periods = [p for p in _year_periods(period.start.year) if _falls_in(p, period) or p == period]
    matrix = compliance.evaluate([org], periods, today=today)
    rules = {r.code: r for r in _rules_by_kind(matrix.rules, kind)}
    items: list[dict[str, Any]] = []
    for (_, code, key), outcome in matrix.outcomes.items():
        if code not in rules or outcome.status == "not_applicable":
            continue
        rule, p = rules[code], Period.parse(key)
        items.append({"rule": rule, "period": p, "outcome": outcome, "css": STATUS_STYLE[outcome.status][0],
                      "mark": STATUS_STYLE[outcome.status][1], "text": compliance.STATUS_LABELS[outcome.status],
                      "span": compliance.to_rule(rule).span(p), "meetings": []})  # fmt: skip
    items.sort(key=lambda i: (i["period"].start, i["period"].end, i["rule"].code))
    if items:
        lo = min(i["span"].start for i in items)
        hi = max(i["span"].end for i in items)
        tz = timezone.get_current_timezone()
        meetings = list(
            Meeting.objects.counted()
            .filter(
                org=org,
                kind__in={i["rule"].activity for i in items},
                starts_at__gte=datetime.combine(lo, time.min, tzinfo=tz),
                starts_at__lt=datetime.combine(hi + timedelta(days=1), time.min, tzinfo=tz),
            )
            .only("pk", "kind", "topic", "starts_at")
            .order_by("starts_at")
        )
        for i in items:
            span = i["span"]
            i["meetings"] = [
                {"m": m, "url": _meeting_url(m.pk)}
                for m in meetings
                if m.kind == i["rule"].activity and timezone.localtime(m.starts_at).date() in span
            ]
    can_act = manages_org(user, org) or user.has_role(Role.COMMITTEE_ADMIN)
    return {"org": org, "period": period, "items": items, "can_act": can_act, "kind": kind}


def _parse_period(key: str) -> Period:
    """The period of a URL key, else 404."""
    try:
        return Period.parse(key)
    except ValueError:
        raise Http404("期间格式不正确。") from None


@login_required
@require_GET
def cell(request: HttpRequest, org_pk: int, period_key: str) -> HttpResponse:
    """Drill-down: each rule's outcome for this org and period, the meetings counted, and the actions."""
    org = get_org_or_404(request.user, org_pk)
    period = _parse_period(period_key)
    kind = request.GET.get("kind") or "all"
    ctx = _cell_context(request.user, org, period, kind, timezone.localdate())
    return render(request, "life/compliance_cell.html", ctx)


def _require_manager(user, org: Org) -> None:
    """403 for a visible org the user may not act for."""
    require(manages_org(user, org) or user.has_role(Role.COMMITTEE_ADMIN), NO_MANAGE)


@login_required
@require_http_methods(["GET", "POST"])
def exemption_create(request: HttpRequest, org_pk: int) -> HttpResponse:
    """登记豁免: an exemption of this org from a rule for a period, with the reason."""
    org = get_org_or_404(request.user, org_pk)
    _require_manager(request.user, org)
    status = 200
    if request.method == "POST":
        form = ExemptionForm(request.POST)
        if form.is_valid():
            try:
                services.exemption_add(
                    actor=request.user,
                    rule=form.cleaned_data["rule"],
                    org=org,
                    period_key=form.cleaned_data["period_key"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"已为{org.name}登记豁免。")
                return redirect("life:compliance_cell", org.pk, form.cleaned_data["period_key"])
        status = 422
    else:
        form = ExemptionForm(
            initial={"rule": request.GET.get("rule"), "period_key": request.GET.get("period")}
        )
    return render(request, "life/compliance_exemption.html", {"org": org, "form": form}, status=status)


def _add_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError on the form (dict → fields, else the form)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            for e in errors:
                form.add_error(name if name in form.fields else None, e)
    else:
        for e in exc.messages:
            form.add_error(None, e)


@login_required
@require_POST
def gap_to_duty(request: HttpRequest, org_pk: int, period_key: str) -> HttpResponse:
    """转为督办事项: open a duty for a gap, then go to it."""
    org = get_org_or_404(request.user, org_pk)
    _require_manager(request.user, org)
    period = _parse_period(period_key)
    rule = ComplianceRule.objects.filter(is_active=True, code=request.POST.get("rule", "")).first()
    if rule is None:
        ctx = _cell_context(request.user, org, period, "all", timezone.localdate())
        ctx["error"] = "请选择要转为督办事项的规则。"
        return render(request, "life/compliance_cell.html", ctx, status=422)
    duty = services.gap_duty_open(actor=request.user, org=org, rule=rule, period_key=period.key)
    messages.success(request, f"已将“{rule.label}”的缺项转为督办事项。")
    return redirect("duties:detail", duty.pk)


# --- rules as data ------------------------------------------------------------------------------


@login_required
@require_GET
def rules(request: HttpRequest) -> HttpResponse:
    """The rules: national defaults and local rules, with their sources."""
    rows = list(ComplianceRule.objects.select_related("scope_org").order_by("is_local", "code"))
    return render(
        request,
        "life/rules.html",
        {
            "national": [r for r in rows if not r.is_local],
            "local": [r for r in rows if r.is_local],
            "can_edit": request.user.has_role(Role.COMMITTEE_ADMIN),
        },
    )


def _rule_orgs(user):
    """Orgs a local rule may be scoped to."""
    return Org.objects.visible_to(user).order_by("path")


@login_required
@require_http_methods(["GET", "POST"])
def rule_new(request: HttpRequest) -> HttpResponse:
    """Add a stricter local rule (committee admin)."""
    require(request.user.has_role(Role.COMMITTEE_ADMIN), NO_RULE_ADMIN)
    if request.method == "POST":
        form = RuleForm(request.POST, orgs=_rule_orgs(request.user))
        if form.is_valid():
            row = rule_create(actor=request.user, form=form)
            messages.success(request, f"已新增本地规则 {row.code}。")
            return redirect("life:rules")
        return render(request, "life/rules_form.html", {"form": form, "rule": None}, status=422)
    form = RuleForm(
        orgs=_rule_orgs(request.user), initial={"severity": "warning", "count": 1, "is_active": True}
    )
    return render(request, "life/rules_form.html", {"form": form, "rule": None})


@login_required
@require_http_methods(["GET", "POST"])
def rule_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit or deactivate a local rule; deactivate or reactivate a national default (never delete)."""
    require(request.user.has_role(Role.COMMITTEE_ADMIN), NO_RULE_ADMIN)
    row = ComplianceRule.objects.filter(pk=pk).first()
    if row is None:
        raise Http404("未找到该规则。")
    if request.method == "POST":
        form = RuleForm(request.POST, instance=row, orgs=_rule_orgs(request.user))
        if form.is_valid():
            rule_update(actor=request.user, form=form)
            messages.success(request, f"已保存规则 {row.code}。")
            return redirect("life:rules")
        return render(request, "life/rules_form.html", {"form": form, "rule": row}, status=422)
    form = RuleForm(instance=row, orgs=_rule_orgs(request.user))
    return render(request, "life/rules_form.html", {"form": form, "rule": row})


compliance_urlpatterns = [
    path("compliance/", heatmap, name="compliance"),
    path("compliance/export.xlsx", heatmap_export, name="compliance_export"),
    path("compliance/org/<int:org_pk>/", org_year, name="compliance_org"),
    path("compliance/<int:org_pk>/<str:period_key>/", cell, name="compliance_cell"),
    path("compliance/<int:org_pk>/exemptions/new/", exemption_create, name="exemption_create"),
    path("compliance/<int:org_pk>/<str:period_key>/duty/", gap_to_duty, name="gap_to_duty"),
    path("rules/", rules, name="rules"),
    path("rules/new/", rule_new, name="rule_create"),
    path("rules/<int:pk>/", rule_change, name="rule_edit"),
]
