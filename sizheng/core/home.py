"""Cards on the signed-in home page (工作台): each app registers what a user should see first.

A card is a template plus a function ``(request) -> dict | None``; None hides the card (e.g. the
user has nothing there). Keep each card to one or two queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Card:
    name: str
    template: str
    context: Callable[[object], dict | None]
    order: int


CARDS: dict[str, Card] = {}


def register(name: str, *, template: str, context: Callable[[object], dict | None], order: int = 100) -> None:
    """Add (or replace) a home card."""
    CARDS[name] = Card(name, template, context, order)


def cards_for(request) -> list[dict]:
    """The cards this request's user sees, in order, each with its context."""
    out = []
    for card in sorted(CARDS.values(), key=lambda c: c.order):
        ctx = card.context(request)
        if ctx is not None:
            out.append({"template": card.template, "ctx": ctx})
    return out
