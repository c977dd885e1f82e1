"""经费台账 (the funds ledger, Excel): the spending rows with their total, and the execution by unit and
category. Amounts are written as Decimal numbers (Excel can sum them) and every total is the exact
Decimal sum of the rows it closes, so the file adds up to the cent like the page and the API."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sizheng.core.xlsx import LedgerWorkbook
from sizheng.funds import money
from sizheng.funds.execution import Execution
from sizheng.funds.models import Spending

SPENDING_HEADERS = [
    "序号",
    "单位",
    "支出日期",
    "季度",
    "类别",
    "金额（元）",
    "用途",
    "服务的活动",
    "票据凭证",
]
SPENDING_WIDTHS = [8, 24, 12, 8, 12, 16, 40, 32, 10]
EXECUTION_HEADERS = [
    "单位",
    "年度",
    "类别",
    "预算（元）",
    "已支出（元）",
    "剩余（元）",
    "执行率（%）",
    "预警",
]
EXECUTION_WIDTHS = [24, 8, 12, 16, 16, 16, 12, 40]
TOTAL = "合计"
SUBTOTAL = "小计"


def _spending_rows(rows: Iterable[Spending]) -> Iterable[list]:
    """The rows (each with its activity label already attached), then the total row."""
    amounts = []
    for n, r in enumerate(rows, start=1):
        amounts.append(r.amount)
        yield [
            n,
            r.unit.name,
            r.spent_on,
            f"第{r.quarter}季度",
            r.get_category_display(),
            r.amount,
            r.purpose,
            getattr(r, "activity_label", ""),
            "有" if r.receipt_id else "无",
        ]
    yield [TOTAL, "", "", "", "", money.total(amounts), f"共 {len(amounts)} 笔", "", ""]


def _execution_rows(executions: Sequence[tuple[str, Execution]]) -> Iterable[list]:
    """Per unit: one row per category and a subtotal; then the total over the units."""
    budgets, spent = [], []
    for name, ex in executions:
        overspent = set(ex.overspent_categories)
        for line in ex.lines:
            yield [
                name,
                ex.year,
                line.label,
                line.budget,
                line.spent,
                line.remaining,
                line.rate,
                "超支" if line.category in overspent else "",
            ]
        warning = "执行偏慢" if ex.underspent else ("未编制预算" if not ex.has_budget else "")
        yield [name, ex.year, SUBTOTAL, ex.budget, ex.spent, ex.remaining, ex.rate, warning]
        budgets.append(ex.budget)
        spent.append(ex.spent)
    budget, total = money.total(budgets), money.total(spent)
    yield [TOTAL, "", "", budget, total, budget - total, money.rate(total, budget), ""]


def ledger_xlsx(
    rows: Iterable[Spending], executions: Sequence[tuple[str, Execution]], *, title: str, note: str
) -> bytes:
    """The two-sheet ledger: 支出明细 (the filtered rows) and 执行情况 (the units' year)."""
    book = LedgerWorkbook()
    book.add_sheet(
        title=f"{title}·支出明细",
        sheet_name="支出明细",
        headers=SPENDING_HEADERS,
        rows=_spending_rows(rows),
        col_widths=SPENDING_WIDTHS,
        note=note,
    )
    book.add_sheet(
        title=f"{title}·执行情况",
        sheet_name="执行情况",
        headers=EXECUTION_HEADERS,
        rows=_execution_rows(executions),
        col_widths=EXECUTION_WIDTHS,
        note=note,
    )
    return book.to_bytes()
