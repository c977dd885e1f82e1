"""Reads behind the funds screens, the API, the ledger, the metrics and the job.

Every function here costs a fixed number of queries whatever the number of units or rows.
Amounts are summed in Python over Decimals, never with SQL ``SUM`` (floating point on SQLite).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.urls import NoReverseMatch, reverse

from sizheng.funds import execution, money
from sizheng.funds.models import ActivityKind, Alert, BudgetLine, Category, Spending


def categories() -> list[tuple[str, str]]:
    """(code, label) of every category, the labels as plain text (they leave through the API too)."""
    return [(code, str(label)) for code, label in Category.choices]


def budget_lines(unit_ids: Iterable[int], year: int) -> dict[int, dict[str, Decimal]]:
    """unit id → {category → budget amount} for the units that have a budget for the year (one query)."""
    out: dict[int, dict[str, Decimal]] = {}
    rows = BudgetLine.objects.filter(budget__unit_id__in=list(unit_ids), budget__year=year).values_list(
        "budget__unit_id", "category", "amount"
    )
    for unit_id, category, amount in rows:
        out.setdefault(unit_id, {})[category] = amount
    return out


def spending_rows(
    unit_ids: Iterable[int], start: date, end: date
) -> dict[int, list[tuple[str, date, Decimal]]]:
    """unit id → [(category, spent_on, amount)] between two days, both inclusive (one query)."""
    out: dict[int, list] = defaultdict(list)
    rows = Spending.objects.filter(
        unit_id__in=list(unit_ids), spent_on__gte=start, spent_on__lte=end
    ).values_list("unit_id", "category", "spent_on", "amount")
    for unit_id, category, spent_on, amount in rows:
        out[unit_id].append((category, spent_on, amount))
    return out


def executions(unit_ids: Iterable[int], year: int, today: date) -> dict[int, execution.Execution]:
    """The execution of each unit for the year, as of today (two queries for any number of units)."""
    ids = list(dict.fromkeys(unit_ids))
    if not ids:
        return {}
    labels = categories()
    budgets = budget_lines(ids, year)
    spent = spending_rows(ids, date(year, 1, 1), date(year, 12, 31))
    return {
        u: execution.compute(
            unit_id=u,
            year=year,
            today=today,
            categories=labels,
            budget=budgets.get(u),
            spending=spent.get(u, ()),
        )
        for u in ids
    }


def alerts_by_key(unit_ids: Iterable[int], year: int) -> dict[str, Alert]:
    """The alerts already raised for the units and year, by warning key (one query)."""
    rows = Alert.objects.filter(unit_id__in=list(unit_ids), year=year)
    return {f"funds:{a.unit_id}:{a.year}:{a.kind}:{a.category or 'all'}": a for a in rows}


# --- spending lists ----------------------------------------------------------------------------


def filter_spending(qs, *, unit=None, year=None, category="", q="", since=None, until=None):
    """The spending list's filters (unit, year, category, a search in the purpose, a date range)."""
    if unit is not None:
        qs = qs.filter(unit=unit)
    if year:
        qs = qs.filter(spent_on__year=year)
    if category:
        qs = qs.filter(category=category)
    if q:
        qs = qs.filter(Q(purpose__icontains=q))
    if since:
        qs = qs.filter(spent_on__gte=since)
    if until:
        qs = qs.filter(spent_on__lte=until)
    return qs


def total_of(qs) -> Decimal:
    """The exact total of a spending queryset (one query over the amounts)."""
    return money.total(qs.order_by().values_list("amount", flat=True))


# --- the activity a spending served ------------------------------------------------------------

CARE_LABEL = "困难诉求 #{id}"


def _url(name: str, pk: int) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


def activity_labels(rows: Iterable[Spending]) -> dict[tuple[str, int], tuple[str, str]]:
    """(kind, id) → (label, url) for the rows' activities: at most two queries (meetings, study sessions).

    A care case is named by its number only ("困难诉求 #12"): its details are T2 and never leave care.
    """
    ids: dict[str, set[int]] = defaultdict(set)
    for r in rows:
        if r.activity_kind and r.activity_id:
            ids[r.activity_kind].add(r.activity_id)
    out: dict[tuple[str, int], tuple[str, str]] = {}
    if ids.get(ActivityKind.MEETING):
        from sizheng.life.models import Meeting

        for m in Meeting.objects.filter(pk__in=ids[ActivityKind.MEETING]).only("pk", "kind", "topic"):
            out[(ActivityKind.MEETING, m.pk)] = (str(m), _url("life:meeting_detail", m.pk))
    if ids.get(ActivityKind.STUDY_SESSION):
        from sizheng.study.models import StudySession

        sessions = StudySession.objects.filter(pk__in=ids[ActivityKind.STUDY_SESSION]).select_related(
            "meeting"
        )
        for s in sessions.only("pk", "meeting__kind", "meeting__topic"):
            out[(ActivityKind.STUDY_SESSION, s.pk)] = (str(s), _url("study:session_detail", s.pk))
    for pk in ids.get(ActivityKind.CARE_CASE, ()):
        out[(ActivityKind.CARE_CASE, pk)] = (CARE_LABEL.format(id=pk), _url("care:case_detail", pk))
    # A record deleted since keeps its reference; it is named by kind and number.
    for kind, pks in ids.items():
        for pk in pks:
            out.setdefault((kind, pk), (f"{ActivityKind(kind).label} #{pk}（已删除）", ""))
    return out


def attach_activities(rows: list[Spending]) -> list[Spending]:
    """Set ``activity_label`` and ``activity_url`` on each row (see :func:`activity_labels`)."""
    labels = activity_labels(rows)
    for r in rows:
        r.activity_label, r.activity_url = labels.get((r.activity_kind, r.activity_id), ("", ""))
    return rows
