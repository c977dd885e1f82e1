"""Compliance on screen: the committee heatmap, one org's year, the drill-down to a cell with its
actions (登记豁免, 转为督办事项), and the rules as data.

Every screen computes with ``compliance.evaluate`` (three queries for any number of orgs and
records) plus one org query, so the query count is flat in orgs and meetings.

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
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizheng.core.models import Role
from sizheng.core.rules import Outcome, Period, periods_between
from sizheng.life import compliance, services
from sizheng.life.forms_compliance import ExemptionForm, HeatmapForm, RuleForm, rule_create, rule_update
from sizheng.life.models import ComplianceRule, Meeting
from sizheng.org.access import get_org_or_404, manages_org, require
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


@dataclass
class Cell:
    """One heatmap cell: its status, colour, text and drill-down link."""

    status: str
    url: str = ""
    period: Period | None = None

    @property
    def css(self) -> str:
        """The Tabler background class of the status."""
        return STATUS_STYLE[self.status][0]

    @property
    def mark(self) -> str:
        """The short text shown in the cell (colour is not the only signal)."""
        return STATUS_STYLE[self.status][1]

    @property
    def label(self) -> str:
        """The status in words, for the title and screen readers."""
        return compliance.STATUS_LABELS[self.status]


@dataclass
class Row:
    """One org's row of cells."""

    org: Org
    cells: list[Cell]


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


def _kind_choices() -> list[tuple[str, str]]:
    """Activities that have an active rule (one query)."""
    seen: dict[str, str] = {}
    for row in ComplianceRule.objects.filter(is_active=True).order_by("activity"):
        seen.setdefault(row.activity, row.get_activity_display())
    return list(seen.items())


def _heat(orgs: list[Org], columns: list[Period], year: int, kind: str, today, cell_url) -> list[Row]:
    """Rows of cells for these orgs (``compliance.evaluate``: three queries)."""
    matrix = compliance.evaluate(orgs, _year_periods(year), today=today)
    wanted = {r.code for r in _rules_by_kind(matrix.rules, kind)}
    by_org: dict[int, list[tuple[Period, Outcome]]] = defaultdict(list)
    parsed: dict[str, Period] = {}
    for (org_id, code, key), outcome in matrix.outcomes.items():
        if code not in wanted:
            continue
        p = parsed.get(key) or parsed.setdefault(key, Period.parse(key))
        by_org[org_id].append((p, outcome))
    rows = []
    for org in orgs:
        outcomes = by_org.get(org.pk, [])
        cells = []
        for column in columns:
            status = compliance.summarise(o for p, o in outcomes if _falls_in(p, column))
            url = cell_url(org.pk, column.key) if status != "not_applicable" else ""
            cells.append(Cell(status, url, column))
        rows.append(Row(org, cells))
    return rows


@login_required
@require_GET
def heatmap(request: HttpRequest) -> HttpResponse:
    """The committee heatmap: orgs in scope the rules bind × months or quarters of a year."""
    user, today = request.user, timezone.localdate()
    form = HeatmapForm(
        request.GET or None, kinds=_kind_choices(), initial={"year": today.year, "grain": "month"}
    )
    f = form.values(today)
    active = list(ComplianceRule.objects.filter(is_active=True))
    kinds = _bound_kinds(_rules_by_kind(active, f["kind"]))
    orgs_qs = Org.objects.filter(pk__in=Org.objects.visible_to(user).values("pk"), kind__in=kinds)
    under = get_org_or_404(user, f["under"]) if f["under"] else None
    if under is not None:
        orgs_qs = orgs_qs.filter(path__startswith=under.path)
    orgs = list(
        orgs_qs.only("pk", "name", "kind", "path", "depth", "founded_on", "dissolved_on").order_by("path")
    )
    year = f["year"]
    columns = list(periods_between(f["grain"], Period.of("year", year).start, Period.of("year", year).end))
    columns.append(Period.of("year", year))
    kind_q = "" if f["kind"] == "all" else f"?kind={f['kind']}"

    def cell_url(org_id: int, key: str) -> str:
        return reverse("life:compliance_cell", args=[org_id, key]) + kind_q

    rows = _heat(orgs, columns, year, f["kind"], today, cell_url)
    # Collapsible by depth-1 ancestor: one query for their names.
    tops = {o.path[:14] for o in orgs}
    names = dict(Org.objects.filter(path__in=tops).values_list("path", "name"))
    groups: dict[str, Group] = {}
    for row in rows:
        top = row.org.path[:14]
        g = groups.setdefault(top, Group(names.get(top, "其他")))
        g.rows.append(row)
        g.failures += sum(1 for c in row.cells[:-1] if c.status in ("warning", "violation"))
    return render(
        request,
        "life/compliance.html",
        {
            "form": form,
            "f": f,
            "under": under,
            "columns": columns,
            "groups": list(groups.values()),
            "open_all": len(groups) <= 5,
            "legend": [
                (s, *STATUS_STYLE[s], compliance.STATUS_LABELS[s])
                for s in STATUS_STYLE
                if s != "not_applicable"
            ],
            "year_choices": range(today.year - 3, today.year + 1),
        },
    )


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
    path("compliance/org/<int:org_pk>/", org_year, name="compliance_org"),
    path("compliance/<int:org_pk>/<str:period_key>/", cell, name="compliance_cell"),
    path("compliance/<int:org_pk>/exemptions/new/", exemption_create, name="exemption_create"),
    path("compliance/<int:org_pk>/<str:period_key>/duty/", gap_to_duty, name="gap_to_duty"),
    path("rules/", rules, name="rules"),
    path("rules/new/", rule_new, name="rule_create"),
    path("rules/<int:pk>/", rule_change, name="rule_edit"),
]
