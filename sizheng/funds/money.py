"""Money arithmetic for the funds app (pure, no Django): amounts are ``Decimal`` with two places (分).

Nothing here ever passes through ``float``: parsing refuses floats, sums are taken over Decimals
(SQLite's ``SUM`` works in floating point, so the app sums the rows itself), and the API and the
templates get the canonical text ``"1234.50"`` from :func:`to_text`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
ZERO = Decimal("0.00")
# DecimalField(max_digits=14, decimal_places=2): twelve digits of yuan.
MAX_AMOUNT = Decimal("999999999999.99")

# Characters people type around an amount: thousands separators, the yuan sign, spaces.
_NOISE = str.maketrans("", "", ",，¥￥ \u00a0元")


class AmountError(ValueError):
    """An amount that is not a valid sum of money; the message is a Chinese sentence."""


def parse(value: object, *, allow_zero: bool = True, label: str = "金额") -> Decimal:
    """A Decimal amount from a Decimal, an int or text such as "1,234.5" or "¥12"; refuses floats."""
    if isinstance(value, bool | float):
        raise AmountError(f'{label}须以文本或定点数提供（如 "1234.50"），不能使用浮点数。')
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        text = value.translate(_NOISE)
        if not text:
            raise AmountError(f"请填写{label}。")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise AmountError(f"{label}“{value}”不是有效的数字，请填写如 1234.50 的金额。") from None
    else:
        raise AmountError(f"请填写{label}。")
    return check(amount, allow_zero=allow_zero, label=label)


def check(amount: Decimal, *, allow_zero: bool = True, label: str = "金额") -> Decimal:
    """The amount with exactly two places, or AmountError (negative, zero when not allowed, sub-cent, too big)."""
    if not amount.is_finite():
        raise AmountError(f"{label}不是有效的数字。")
    if amount < 0:
        raise AmountError(f"{label}不能为负数。")
    if amount == 0 and not allow_zero:
        raise AmountError(f"{label}必须大于 0 元。")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise AmountError(f"{label}最多保留两位小数（精确到分）。")
    if amount > MAX_AMOUNT:
        raise AmountError(f"{label}不能超过 999,999,999,999.99 元。")
    return amount.quantize(CENT)


def total(amounts: Iterable[Decimal]) -> Decimal:
    """The exact sum, with two places (an empty sum is 0.00)."""
    return sum(amounts, ZERO).quantize(CENT)


def rate(spent: Decimal, budget: Decimal) -> Decimal | None:
    """Spent as a percentage of the budget, to one place (half up); None without a budget."""
    if budget <= 0:
        return None
    return (spent * 100 / budget).quantize(TENTH, rounding=ROUND_HALF_UP)


def below_share(spent: Decimal, budget: Decimal, percent: Decimal) -> bool:
    """Whether ``spent`` is below ``percent`` % of a positive budget, compared exactly (no rounding)."""
    return budget > 0 and spent * 100 < budget * percent


def to_text(amount: Decimal) -> str:
    """The canonical text of an amount: "1234.50" (what the API returns)."""
    return f"{amount.quantize(CENT):f}"


def yuan(amount: Decimal) -> str:
    """An amount for people: "1,234.50"."""
    return f"{amount.quantize(CENT):,.2f}"


def quarter_of(day: date) -> int:
    """The quarter (1–4) of a day."""
    return (day.month - 1) // 3 + 1


def per_head(amount: Decimal, people: int) -> Decimal | None:
    """An amount per person, to the cent (half up); None for nobody."""
    if people <= 0:
        return None
    return (amount / people).quantize(CENT, rounding=ROUND_HALF_UP)
