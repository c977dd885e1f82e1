"""The duty workflow as data: one table of allowed transitions (issue 4 §3).

Pure: no Django imports, so the table can be tested exhaustively and rendered in docs.
"""

from __future__ import annotations

from dataclasses import dataclass

ASSIGNED, ACCEPTED, IN_PROGRESS, REPORTED = "assigned", "accepted", "in_progress", "reported"
UNDER_REVIEW, RETURNED, CLOSED, CANCELLED = "under_review", "returned", "closed", "cancelled"
OPEN = frozenset({ASSIGNED, ACCEPTED, IN_PROGRESS, REPORTED, UNDER_REVIEW, RETURNED})

OWNER, ASSIGNER, SUPERVISOR = "owner", "assigner", "supervisor"


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
        Transition("accept", "认领", frozenset({ASSIGNED}), ACCEPTED, frozenset({OWNER})),
        Transition("start", "开始落实", frozenset({ACCEPTED, RETURNED}), IN_PROGRESS, frozenset({OWNER})),
        Transition("report", "报送", frozenset({IN_PROGRESS}), REPORTED, frozenset({OWNER}), ("evidence",)),
        Transition("review", "开始督查", frozenset({REPORTED}), UNDER_REVIEW, frozenset({ASSIGNER})),
        Transition("pass", "销号", frozenset({UNDER_REVIEW}), CLOSED, frozenset({ASSIGNER})),
        Transition("return", "退回", frozenset({UNDER_REVIEW}), RETURNED, frozenset({ASSIGNER}), ("reason",)),
        Transition("urge", "督办", OPEN, None, frozenset({ASSIGNER, SUPERVISOR})),
        Transition("request_extension", "申请延期", OPEN, None, frozenset({OWNER}), ("new_due_on", "reason")),
        Transition("approve_extension", "同意延期", OPEN, None, frozenset({ASSIGNER})),
        Transition("reject_extension", "不同意延期", OPEN, None, frozenset({ASSIGNER})),
        Transition("reassign", "调整责任人", OPEN, None, frozenset({ASSIGNER}), ("owner_id",)),
        Transition("cancel", "撤销", OPEN, CANCELLED, frozenset({ASSIGNER}), ("reason",)),
    ]
}


def allowed_actions(state: str, sides: set[str] | frozenset[str]) -> list[str]:
    """Actions a user on these sides may take on a duty in this state (extension checks aside)."""
    return [a for a, t in TRANSITIONS.items() if state in t.sources and t.sides & sides]
