"""Who sees which part of a talk (ARCHITECTURE §4–5) — the one place these rules live.

* **Metadata** (who, when, mode, status): the participants; secretaries, 党务干部 and counselors
  of the org's subtree; the committee admin. Leaders and union handlers do not list talks.
* **Content** (kind, tags, summary, content — T2): the participants, and the 书记 of the org
  where the talk was recorded (that org itself, not an ancestor). For a wellbeing-flagged talk the
  counselors of that org replace the 书记 (a 书记 who took part still sees it as a participant).
  Every content read goes through :func:`read_content`, which writes the audit row.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from sizheng.core import audit
from sizheng.core.models import Role
from sizheng.org.access import scope_of
from sizheng.talks.models import Talk

LISTING_ROLES = (Role.SECRETARY, Role.ORG_ADMIN, Role.COUNSELOR)


def visible_talk_q(user) -> Q:
    """The Q selecting talks whose metadata the user may see."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN, *LISTING_ROLES):
        return Q()
    q = Q(pk__in=[])
    for p in scope.paths(*LISTING_ROLES):
        q |= Q(org__path__startswith=p)
    if scope.person_id:
        q |= Q(participants__person_id=scope.person_id)
    return q


def may_list(user) -> bool:
    """Whether the user sees an org's talk ledger at all (beyond their own talks)."""
    scope = scope_of(user)
    return scope.has_everything(Role.COMMITTEE_ADMIN, *LISTING_ROLES) or bool(scope.paths(*LISTING_ROLES))


def is_participant(user, talk: Talk) -> bool:
    scope = scope_of(user)
    if not scope.person_id:
        return False
    if hasattr(talk, "_participant_ids"):
        return scope.person_id in talk._participant_ids
    return talk.participants.filter(person_id=scope.person_id).exists()


def can_read_content(user, talk: Talk) -> bool:
    """The T2 rule above."""
    if is_participant(user, talk):
        return True
    scope = scope_of(user)
    if talk.is_wellbeing:
        return scope.covers(Role.COUNSELOR, talk.org.path)
    return talk.org_id in scope.org_ids.get(Role.SECRETARY, [])


def may_edit(user, talk: Talk) -> bool:
    """Whoever recorded the talk, or its initiator, while they may read its content."""
    scope = scope_of(user)
    own = talk.created_by_id == getattr(user, "pk", None) or talk.initiator_id == scope.person_id
    return own and can_read_content(user, talk)


def get_talk_or_404(user, pk) -> Talk:
    """A talk whose metadata the user may see, with no T2 column loaded; else 404."""
    talk = Talk.objects.visible_to(user).metadata_only().filter(pk=pk).first()
    if talk is None:
        raise Http404("未找到该谈话记录，或您无权查看。")
    talk._participant_ids = set(talk.participants.values_list("person_id", flat=True))
    return talk


def read_content(user, talk: Talk, *, request=None) -> dict | None:
    """The T2 fields for a user allowed to read them (audited), else None."""
    if not can_read_content(user, talk):
        return None
    full = Talk.objects.only(*Talk.T2_FIELDS).get(pk=talk.pk)
    audit.record_read(user, talk, Talk.T2_FIELDS, request=request)
    return {
        "kind": full.kind,
        "kind_label": full.get_kind_display(),
        "tags": full.tag_list,
        "summary": full.summary,
        "content": full.content,
    }
