"""Budget execution (预算执行) of a unit and year, and its warnings — pure computation, no Django.

:func:`compute` takes a unit's budget lines and its spending rows and answers, by category and by
quarter, the budget, the amount spent, what remains and the rate. Two warnings come out of it:

* **执行偏慢** (underspend): from the first day of Q4 (``UNDERSPEND_FROM_QUARTER``) a unit that has
  spent less than ``UNDERSPEND_PERCENT`` % of its annual budget. Funds left unspent at year end are
  usually taken back, and the assessment deducts for "insufficient funds" (rules.md §6, 保障机制);
  Q4 leaves a quarter to catch up. A local deployment wanting another share changes the constant.
* **类别超支** (overspend): a category whose spending exceeds its budget line (a category without a
  line has a budget of 0, so any spending in it is over).

Warnings need a budget (total > 0): a unit without one shows "未编制预算" instead, which the
assessment reads through the ``funds.has_budget`` metric.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from sizheng.funds import money

# Share of the annual budget a unit should have spent once Q4 has begun (percent; see the docstring).
UNDERSPEND_PERCENT = Decimal("50")
UNDERSPEND_FROM_QUARTER = 4

UNDERSPEND = "underspend"
OVERSPEND = "overspend"


@dataclass(frozen=True)
class Line:
    """One category of a unit's execution."""

    category: str
    label: str
    budget: Decimal
    spent: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.spent

    @property
    def rate(self) -> Decimal | None:
        return money.rate(self.spent, self.budget)

    @property
    def overspent(self) -> bool:
        return self.spent > self.budget


@dataclass(frozen=True)
class Quarter:
    """One quarter: spent in it (by category and in all), and the cumulative position at its end."""

    quarter: int
    by_category: dict[str, Decimal]
    spent: Decimal
    cumulative: Decimal
    cumulative_rate: Decimal | None


@dataclass(frozen=True)
class ExecutionWarning:
    """A warning of a unit's execution; ``key`` is what makes its duty exactly-once."""

    kind: str
    category: str
    message: str
    unit_id: int
    year: int
    category_label: str = ""

    @property
    def key(self) -> str:
        return f"funds:{self.unit_id}:{self.year}:{self.kind}:{self.category or 'all'}"


@dataclass(frozen=True)
class Execution:
    """A unit's budget execution for a year, as of a day."""

    unit_id: int
    year: int
    as_of: date
    has_budget: bool
    lines: list[Line]
    quarters: list[Quarter]
    warnings: list[ExecutionWarning] = field(default_factory=list)

    @property
    def budget(self) -> Decimal:
        return money.total(line.budget for line in self.lines)

    @property
    def spent(self) -> Decimal:
        return money.total(line.spent for line in self.lines)

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.spent

    @property
    def rate(self) -> Decimal | None:
        return money.rate(self.spent, self.budget)

    @property
    def underspent(self) -> bool:
        return any(w.kind == UNDERSPEND for w in self.warnings)

    @property
    def overspent_categories(self) -> list[str]:
        return [w.category for w in self.warnings if w.kind == OVERSPEND]


def underspend_due(year: int, today: date) -> bool:
    """Whether the underspend check applies to ``year`` on ``today`` (from Q4 of that year on)."""
    first = date(year, 3 * (UNDERSPEND_FROM_QUARTER - 1) + 1, 1)
    return today >= first


def compute(
    *,
    unit_id: int,
    year: int,
    today: date,
    categories: Iterable[tuple[str, str]],
    budget: Mapping[str, Decimal] | None,
    spending: Iterable[tuple[str, date, Decimal]],
) -> Execution:
    """The execution from the budget lines (category → amount, None without a budget) and the spending
    rows ``(category, spent_on, amount)`` of the year. Sums are exact Decimal sums."""
    categories = list(categories)
    labels = dict(categories)
    by_cat_q: dict[tuple[str, int], list[Decimal]] = {}
    for category, spent_on, amount in spending:
        by_cat_q.setdefault((category, money.quarter_of(spent_on)), []).append(amount)
    spent_q = {k: money.total(v) for k, v in by_cat_q.items()}
    # Categories outside the known list (none today) still count, under their own code.
    codes = [c for c, _ in categories] + sorted({c for c, _ in by_cat_q} - set(labels))
    budget = dict(budget or {})
    lines = [
        Line(
            category=c,
            label=labels.get(c, c),
            budget=money.total([budget.get(c, money.ZERO)]),
            spent=money.total(spent_q.get((c, q), money.ZERO) for q in range(1, 5)),
        )
        for c in codes
    ]
    total_budget = money.total(line.budget for line in lines)
    quarters, running = [], money.ZERO
    for q in range(1, 5):
        by_category = {c: spent_q.get((c, q), money.ZERO) for c in codes}
        spent = money.total(by_category.values())
        running += spent
        quarters.append(Quarter(q, by_category, spent, running, money.rate(running, total_budget)))
    execution = Execution(unit_id, year, today, total_budget > 0, lines, quarters)
    return replace(execution, warnings=warnings_of(execution, today))


def warnings_of(ex: Execution, today: date) -> list[ExecutionWarning]:
    """The underspend and overspend warnings of an execution (see the module docstring)."""
    if not ex.has_budget:
        return []
    out = []
    if underspend_due(ex.year, today) and money.below_share(ex.spent, ex.budget, UNDERSPEND_PERCENT):
        when = f"截至 {today:%Y年%m月%d日}" if today.year == ex.year else "全年"
        out.append(
            ExecutionWarning(
                UNDERSPEND,
                "",
                f"{when}，{ex.year} 年度经费已支出 {money.yuan(ex.spent)} 元，执行率 {ex.rate}%，"
                f"低于第四季度应达到的 {UNDERSPEND_PERCENT}%，请加快预算执行进度。",
                ex.unit_id,
                ex.year,
            )
        )
    out.extend(
        ExecutionWarning(
            OVERSPEND,
            line.category,
            f"“{line.label}”类已支出 {money.yuan(line.spent)} 元，超出预算 {money.yuan(line.budget)} 元"
            f"（超支 {money.yuan(-line.remaining)} 元），请调整预算或控制支出。",
            ex.unit_id,
            ex.year,
            line.label,
        )
        for line in ex.lines
        if line.overspent
    )
    return out
