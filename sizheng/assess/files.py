"""Who may download assessment evidence (core.files owner kind ``assess.entry``); imported by ``ready()``.

A unit's self-assessment evidence: whoever ``access.sees_evidence`` (the unit's managers, the
target's assessors, the round's managers). Evidence attached to an assessor's entry: the round's
managers and the target's assessors; the unit only once the round is published. A detached file
(owner id cleared) is left to its uploader (core.files' own rule).
"""

from __future__ import annotations

from sizheng.assess import access
from sizheng.assess.models import Entry, RoundState
from sizheng.core import files

OWNER_KIND = "assess.entry"


def may_read_evidence(user, owner_id: int | None) -> bool:
    if owner_id is None or not getattr(user, "is_authenticated", False):
        return False
    entry = (
        Entry.objects.select_related("target__org", "target__assessment__owner_org")
        .filter(pk=owner_id)
        .first()
    )
    if entry is None:
        return False
    target = entry.target
    if not access.sees_evidence(user, target):
        return False
    if entry.side == Entry.Side.SELF:
        return True
    return (
        target.assessment.state == RoundState.PUBLISHED
        or access.manages_round(user, target.assessment)
        or access.is_assigned(user, target)
    )


files.register_access(OWNER_KIND, may_read_evidence)
