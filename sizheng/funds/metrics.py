"""The funds app's numbers (issue 8 §1), per unit and year, each in one or two queries for any number
of units. T0: budgets and spending are work records, not personal data.

- ``funds.execution_rate``: spent in the year / the year's budget, in % (one decimal). Suppressed for a
  unit without a budget (total 0) — the assessment reads that fact from ``funds.has_budget``.
- ``funds.spending_per_member``: spent in the year / the unit's current party members, in yuan. The
  value is a float rounded to the cent, for display and for the assessment's arithmetic; the exact
  amounts stay Decimal in the execution page, the API and the ledger (never rebuilt from this figure).
- ``funds.has_budget``: 1 when the unit has a budget with a positive total for the year, else 0 —
  never suppressed: "no work funds" (rules.md §6, 保障机制 −5) is a fact the assessment deducts for.

Sums are exact Decimal sums in Python (see money.py), converted to float only at the very end.
"""

from __future__ import annotations

from django.db.models import Count

from sizheng.core.metrics import Suppressed, Tier, metric
from sizheng.funds import money, queries
from sizheng.org.models import Person

NO_BUDGET = "该单位本年度未编制经费预算，无法计算执行率。"
NO_MEMBERS = "该单位没有在册党员，无法计算人均经费。"


def _spent(targets: list[int], period) -> dict[int, object]:
    rows = queries.spending_rows(targets, period.start, period.end)
    return {u: money.total(amount for _c, _d, amount in rows.get(u, ())) for u in targets}


def _budgets(targets: list[int], period) -> dict[int, object]:
    lines = queries.budget_lines(targets, period.start.year)
    return {u: money.total(lines.get(u, {}).values()) for u in targets}


@metric(
    "funds.execution_rate",
    label="经费预算执行率",
    unit="%",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T0,
    level="unit",
    description="单位本年度党建和思想政治工作经费已支出金额占年度预算的比例。",
)
def execution_rate(targets: list[int], period) -> dict[int, object]:
    """Spent / budget for the year, in % (two queries)."""
    budgets, spent = _budgets(targets, period), _spent(targets, period)
    out: dict[int, object] = {}
    for u in targets:
        rate = money.rate(spent[u], budgets[u])
        out[u] = Suppressed(NO_BUDGET) if rate is None else float(rate)
    return out


@metric(
    "funds.spending_per_member",
    label="党员人均经费支出",
    unit="元",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T0,
    level="unit",
    description="单位本年度党建和思想政治工作经费支出除以在册党员人数（元/人，保留到分）。",
)
def spending_per_member(targets: list[int], period) -> dict[int, object]:
    """Spent in the year per current party member of the unit, in yuan (two queries)."""
    members = dict(
        Person.objects.current()
        .party_members()
        .filter(unit_id__in=targets)
        .values("unit_id")
        .annotate(n=Count("pk"))
        .values_list("unit_id", "n")
    )
    spent = _spent(targets, period)
    out: dict[int, object] = {}
    for u in targets:
        each = money.per_head(spent[u], members.get(u, 0))
        out[u] = Suppressed(NO_MEMBERS) if each is None else float(each)
    return out


@metric(
    "funds.has_budget",
    label="已编制年度工作经费预算",
    unit="是/否",
    higher_is_better=True,
    period_kind="year",
    tier=Tier.T0,
    level="unit",
    description="单位本年度是否编制了党建和思想政治工作经费预算（1 为是，0 为否），供考核“无工作经费”扣分使用。",
)
def has_budget(targets: list[int], period) -> dict[int, object]:
    """1 for a unit with a positive budget for the year, else 0 (one query)."""
    budgets = _budgets(targets, period)
    return {u: 1 if budgets[u] > 0 else 0 for u in targets}
