"""Roster events other apps react to (an explicit registry, not Django signals).

``org`` cannot import the domain apps (imports point one way, ARCHITECTURE §2), so an app that
must act on a roster change — the talks app opens a "talk due" duty on a position change or a
transfer (四必谈, BR-TALK-2) — subscribes here; ``org.services`` emits inside its transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

POSITION_CHANGED = "person_position_changed"
TRANSFERRED = "person_transferred"

_HANDLERS: dict[str, list[Callable[..., Any]]] = {}


def subscribe(event: str):
    """Register ``func(*, person, actor, **details)`` for a roster event."""

    def wrap(func):
        if func not in _HANDLERS.setdefault(event, []):
            _HANDLERS[event].append(func)
        return func

    return wrap


def emit(event: str, **kwargs) -> None:
    """Run every handler of the event (inside the caller's transaction)."""
    for handler in _HANDLERS.get(event, []):
        handler(**kwargs)
