"""The two workflows of the app as data: volunteer activities and civility applications.

Pure: no Django imports, so the tables can be tested exhaustively.

Activity: 计划中 → 报名中 → 已结束; 计划中 / 报名中 → 已取消. Only the organising org's managers act.
Application: 填报中 / 已退回 → 申报中 (the applicant side submits) → 已通过 (with a validity period) or
已退回 (with an opinion) by the committee admin; an approved title becomes 已过期 when its validity
ends (the system).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# Activity states (values of models.ActivityState).
PLANNED, OPEN, DONE, CANCELLED = "planned", "open", "done", "cancelled"
# Application states (values of models.ApplicationState).
DRAFT, SUBMITTED, APPROVED, RETURNED, EXPIRED = "draft", "submitted", "approved", "returned", "expired"

ORGANISER, APPLICANT, REVIEWER, SYSTEM = "organiser", "applicant", "reviewer", "system"


@dataclass(frozen=True)
class Transition:
    """An action: the states it may start from, the state it leads to, who may take it, what it needs."""

    action: str
    label: str
    sources: frozenset[str]
    target: str
    sides: frozenset[str]
    needs: tuple[str, ...] = ()


ACTIVITY_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition("open", "开放报名", frozenset({PLANNED}), OPEN, frozenset({ORGANISER})),
        Transition("finish", "标记为已结束", frozenset({PLANNED, OPEN}), DONE, frozenset({ORGANISER})),
        Transition("cancel", "取消活动", frozenset({PLANNED, OPEN}), CANCELLED, frozenset({ORGANISER}), ("reason",)),
    ]
}  # fmt: skip

APPLICATION_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition("submit", "提交申报", frozenset({DRAFT, RETURNED}), SUBMITTED, frozenset({APPLICANT})),
        Transition("approve", "审核通过", frozenset({SUBMITTED}), APPROVED, frozenset({REVIEWER}), ("valid_years",)),
        Transition("return", "退回修改", frozenset({SUBMITTED}), RETURNED, frozenset({REVIEWER}), ("opinion",)),
        Transition("expire", "到期", frozenset({APPROVED}), EXPIRED, frozenset({SYSTEM})),
    ]
}  # fmt: skip

# Activity states in which the activity can still be edited.
EDITABLE_ACTIVITY = frozenset({PLANNED, OPEN})
# Application states in which the applicant may still edit the checklist.
EDITABLE_APPLICATION = frozenset({DRAFT, RETURNED})
# Application states that block a second application of the same applicant and kind.
PENDING_APPLICATION = frozenset({DRAFT, SUBMITTED, RETURNED})


def allowed(table: dict[str, Transition], state: str, sides: set[str] | frozenset[str]) -> list[str]:
    """The actions a user on these sides may take from this state."""
    return [a for a, t in table.items() if state in t.sources and t.sides & sides]


def check(table: dict[str, Transition], action: str, state: str) -> Transition:
    """The transition for ``action`` from ``state``; ``LookupError`` for an unknown action and
    ``ValueError`` for one the state does not allow."""
    t = table.get(action)
    if t is None:
        raise LookupError(action)
    if state not in t.sources:
        raise ValueError(state)
    return t


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later (29 February → 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def validity(valid_from: date, years: int) -> tuple[date, date]:
    """A validity of whole years: from the day until the day before the same date ``years`` later."""
    return valid_from, add_years(valid_from, years) - timedelta(days=1)
