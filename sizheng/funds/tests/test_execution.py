"""Execution by category and quarter, and its warnings (pure)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from sizheng.funds import execution, money
from sizheng.funds.models import Category

D = Decimal
BUDGET = {"study": D("1000.00"), "care": D("500.00"), "activity": D("500.00")}


def _ex(spending, today=date(2026, 6, 30), budget=BUDGET):
    return execution.compute(
        unit_id=7, year=2026, today=today, categories=Category.choices, budget=budget, spending=spending
    )


def test_it_adds_up_by_category_and_by_quarter():
    ex = _ex([("study", date(2026, 1, 5), D("100.10")), ("study", date(2026, 4, 1), D("0.05")),
              ("care", date(2026, 6, 30), D("499.99"))])  # fmt: skip
    assert ex.budget == D("2000.00") and ex.spent == D("600.14") and ex.remaining == D("1399.86")
    assert ex.rate == D("30.0")
    study = next(line for line in ex.lines if line.category == "study")
    assert study.spent == D("100.15") and study.rate == D("10.0") and not study.overspent
    assert [q.spent for q in ex.quarters] == [D("100.10"), D("500.04"), D("0.00"), D("0.00")]
    assert ex.quarters[-1].cumulative == ex.spent and ex.quarters[1].cumulative_rate == D("30.0")
    assert [line.category for line in ex.lines] == Category.values
    assert ex.warnings == []


def test_it_warns_of_an_underspend_only_from_q4():
    rows = [("study", date(2026, 2, 1), D("999.99"))]  # 49.99995 %: below 50 % exactly, though it shows 50.0
    assert not _ex(rows, today=date(2026, 9, 30)).warnings
    ex = _ex(rows, today=date(2026, 10, 1))
    assert [w.kind for w in ex.warnings] == [execution.UNDERSPEND]
    assert ex.warnings[0].key == "funds:7:2026:underspend:all"
    assert "50%" in ex.warnings[0].message and "截至 2026年10月01日" in ex.warnings[0].message
    assert not _ex([*rows, ("other", date(2026, 3, 1), D("0.01"))], today=date(2026, 10, 1)).underspent
    assert "全年" in _ex(rows, today=date(2027, 1, 2)).warnings[0].message


def test_it_warns_of_an_overspent_category_including_one_without_a_line():
    ex = _ex([("care", date(2026, 5, 1), D("500.01")), ("training", date(2026, 5, 2), D("1.00")),
              ("study", date(2026, 5, 3), D("1000.00"))])  # fmt: skip
    assert ex.overspent_categories == ["care", "training"]
    care = next(w for w in ex.warnings if w.category == "care")
    assert care.key == "funds:7:2026:overspend:care" and care.category_label == "关爱慰问"
    assert "超支 0.01 元" in care.message


def test_it_has_no_warnings_without_a_budget():
    ex = _ex([("care", date(2026, 5, 1), D("10.00"))], today=date(2026, 12, 1), budget=None)
    assert not ex.has_budget and ex.warnings == [] and ex.rate is None and ex.spent == D("10.00")
    assert not _ex([], budget={"study": D("0")}).has_budget


rows = st.lists(
    st.tuples(
        st.sampled_from(Category.values),
        st.integers(0, 364).map(lambda d: date(2026, 1, 1) + timedelta(days=d)),
        st.integers(1, 10**9).map(lambda c: D(c) / 100),
    ),
    max_size=40,
)
budgets = st.dictionaries(st.sampled_from(Category.values), st.integers(0, 10**10).map(lambda c: D(c) / 100))


@given(rows, budgets)
def test_it_always_adds_up_to_the_cent(spending, budget):
    ex = _ex(spending, today=date(2026, 12, 31), budget=budget)
    expected = D(sum(int(a * 100) for _c, _d, a in spending)) / 100
    assert ex.spent == expected == money.total(q.spent for q in ex.quarters) == ex.quarters[-1].cumulative
    assert ex.budget == money.total(budget.values())
    for line in ex.lines:
        assert line.spent == money.total(q.by_category[line.category] for q in ex.quarters)
        assert (line.category in ex.overspent_categories) == (ex.has_budget and line.spent > line.budget)
    assert ex.underspent == (ex.has_budget and ex.spent * 2 < ex.budget)
