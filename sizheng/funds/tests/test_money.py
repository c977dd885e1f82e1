"""Money arithmetic: parsing people's amounts, exact sums, rates — never a float."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sizheng.funds import money

cents = st.integers(min_value=0, max_value=99_999_999_999_999).map(lambda c: Decimal(c) / 100)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", "1234.50"),
        ("1,234.56", "1234.56"),
        ("¥ 300", "300.00"),
        ("0.01", "0.01"),
        ("１２", "12.00"),
    ],
)
def test_it_parses_amounts_people_type(text, expected):
    assert money.parse(text) == Decimal(expected)
    assert money.to_text(money.parse(text)) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-5", "不能为负数"),
        ("0.001", "两位小数"),
        ("abc", "不是有效的数字"),
        ("", "请填写"),
        (0.1, "不能使用浮点数"),
        ("1000000000000", "不能超过"),
        ("NaN", "不是有效的数字"),
    ],
)
def test_it_refuses_what_is_not_money_with_a_chinese_message(value, message):
    with pytest.raises(money.AmountError, match=message):
        money.parse(value)


def test_it_refuses_zero_only_when_asked():
    assert money.parse("0") == Decimal("0.00")
    with pytest.raises(money.AmountError, match="必须大于 0 元"):
        money.parse("0", allow_zero=False, label="支出金额")


def test_it_rounds_rates_half_up_to_one_place_and_has_none_without_a_budget():
    assert money.rate(Decimal("1"), Decimal("3")) == Decimal("33.3")
    assert money.rate(Decimal("1"), Decimal("8")) == Decimal("12.5")
    assert money.rate(Decimal("0.0005"), Decimal("1")) == Decimal("0.1")
    assert money.rate(Decimal("5"), Decimal("0")) is None
    assert money.per_head(Decimal("100"), 3) == Decimal("33.33")
    assert money.per_head(Decimal("100"), 0) is None
    assert money.quarter_of(date(2026, 10, 1)) == 4 and money.quarter_of(date(2026, 3, 31)) == 1
    assert money.yuan(Decimal("1234567.5")) == "1,234,567.50"


@given(st.lists(cents, max_size=60))
def test_it_sums_exactly_to_the_cent(amounts):
    # The sum of integer cents is the reference: no binary float anywhere.
    expected = Decimal(sum(int(a * 100) for a in amounts)) / 100
    assert money.total(amounts) == expected
    assert money.to_text(money.total(amounts)) == f"{expected:.2f}"


@given(cents)
def test_it_round_trips_the_canonical_text(amount):
    assert money.parse(money.to_text(amount)) == amount
    assert money.parse(money.yuan(amount)) == amount


@given(cents, st.integers(min_value=1, max_value=10**12).map(lambda c: Decimal(c) / 100), st.integers(0, 100))
def test_it_compares_a_share_exactly(spent, budget, percent):
    below = money.below_share(spent, budget, Decimal(percent))
    assert below == (spent * 100 < budget * percent)
