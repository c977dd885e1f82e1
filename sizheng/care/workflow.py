"""The care-case workflow as data: one table of allowed transitions (issue 6 §4).

受理 → 处理中 → 已解决 → 已回访, re-opened on relapse; notes and help given are recorded at any stage.
Pure: no Django imports, so the table can be tested exhaustively.
"""

from __future__ import annotations

from dataclasses import dataclass

ACCEPTED, IN_PROGRESS, RESOLVED, FOLLOWED_UP = "accepted", "in_progress", "resolved", "followed_up"
STATES = (ACCEPTED, IN_PROGRESS, RESOLVED, FOLLOWED_UP)
OPEN = frozenset({ACCEPTED, IN_PROGRESS})

# The sides of a case: its handler (the 书记 of the handling org, or the union handlers) and the person.
HANDLER, PERSON = "handler", "person"


@dataclass(frozen=True)
class Transition:
    """An action: the states it may start from, the state it leads to (None: unchanged), who may take it."""

    action: str
    label: str
    sources: frozenset[str]
    target: str | None
    sides: frozenset[str]
    needs: tuple[str, ...] = ()


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition("start", "开始办理", frozenset({ACCEPTED}), IN_PROGRESS, frozenset({HANDLER})),
        Transition("resolve", "办结", frozenset({IN_PROGRESS}), RESOLVED, frozenset({HANDLER})),
        # The handler's 回访 call records the person's satisfaction on their behalf.
        Transition(
            "follow_up", "回访", frozenset({RESOLVED}), FOLLOWED_UP, frozenset({HANDLER}), ("satisfaction",)
        ),
        # The person's own rating: it completes the 回访, and replaces a rating the handler recorded.
        Transition(
            "rate",
            "评价满意度",
            frozenset({RESOLVED, FOLLOWED_UP}),
            FOLLOWED_UP,
            frozenset({PERSON}),
            ("satisfaction",),
        ),
        Transition(
            "reopen",
            "重新打开",
            frozenset({RESOLVED, FOLLOWED_UP}),
            IN_PROGRESS,
            frozenset({HANDLER, PERSON}),
            ("note",),
        ),
        Transition("add_action", "记录帮扶情况", frozenset(STATES), None, frozenset({HANDLER}), ("note",)),
    ]
}


def allowed_actions(state: str, sides: set[str] | frozenset[str]) -> list[str]:
    """Actions a user on these sides may take on a case in this state."""
    return [a for a, t in TRANSITIONS.items() if state in t.sources and t.sides & sides]


def target_of(action: str, state: str) -> str:
    """The state a legal action leads to from ``state`` (unchanged for note-only actions)."""
    t = TRANSITIONS[action]
    if state not in t.sources:
        raise ValueError(f"{action} is not allowed from {state}")
    return t.target or state
