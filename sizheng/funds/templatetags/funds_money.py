"""Template filters for amounts: ``yuan`` ("1,234.50"), ``amount`` ("1234.50") and ``percent`` ("45.3%")."""

from __future__ import annotations

from decimal import Decimal

from django import template

from sizheng.funds import money

register = template.Library()


@register.filter
def yuan(value) -> str:
    """An amount for people, with thousands separators; "—" for nothing."""
    return money.yuan(value) if isinstance(value, Decimal) else "—"


@register.filter
def amount(value) -> str:
    """The canonical text of an amount (what the API returns), for ``data-amount`` attributes."""
    return money.to_text(value) if isinstance(value, Decimal) else ""


@register.filter
def percent(value) -> str:
    """A rate with its % sign; "—" without a budget."""
    return f"{value}%" if isinstance(value, Decimal) else "—"


@register.filter
def negative(value) -> bool:
    return isinstance(value, Decimal) and value < 0
