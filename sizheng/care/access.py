"""Who sees which part of a care case, and of the wellbeing pathway (ARCHITECTURE §4–5).

Care cases (T2 details):
* **Metadata** (person, org, handler, state, dates): the person; whoever opened it; secretaries and
  党务干部 of the org's subtree; union handlers of the handling org for union cases; the committee
  admin. Leaders and counselors do not list care cases.
* **Details** (category, tier, description, action notes): the person, whoever opened it, and the
  handler — the 书记 of the handling org (that org itself) or, for a union case, the union handlers
  assigned to it. Every read goes through :func:`read_details` (audited).

Wellbeing (T3): counselors only. A crisis alert is seen by the counselor it was assigned to and,
once escalated, by the backup counselors covering the org; nobody else sees it at all.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from sizheng.care.models import CareCase, CounselingCase, CrisisAlert, Handler
from sizheng.core import audit
from sizheng.core.models import Role
from sizheng.org.access import scope_of

# --- care cases -----------------------------------------------------------------------------


def visible_case_q(user) -> Q:
    """The Q selecting cases whose metadata the user may see."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN):
        return Q()
    q = Q(opened_by_id=getattr(user, "pk", None))
    if scope.person_id:
        q |= Q(person_id=scope.person_id)
    for p in scope.paths(Role.SECRETARY, Role.ORG_ADMIN):
        q |= Q(handler_org__path__startswith=p)
    if scope.has_everything(Role.UNION):
        q |= Q(handler=Handler.UNION)
    for p in scope.paths(Role.UNION):
        q |= Q(handler=Handler.UNION, handler_org__path__startswith=p)
    return q


def is_handler(user, case: CareCase) -> bool:
    """The secretary of the handling org, or a union handler assigned to it for union cases."""
    scope = scope_of(user)
    if case.handler == Handler.UNION:
        return scope.covers(Role.UNION, case.handler_org.path)
    return case.handler_org_id in scope.org_ids.get(Role.SECRETARY, [])


def can_read_details(user, case: CareCase) -> bool:
    scope = scope_of(user)
    if scope.person_id and case.person_id == scope.person_id:
        return True
    if case.opened_by_id and case.opened_by_id == getattr(user, "pk", None):
        return True
    return is_handler(user, case)


def get_case_or_404(user, pk) -> CareCase:
    """A case whose metadata the user may see, with no T2 column loaded; else 404."""
    case = (
        CareCase.objects.visible_to(user).metadata_only().select_related("handler_org").filter(pk=pk).first()
    )
    if case is None:
        raise Http404("未找到该困难诉求，或您无权查看。")
    return case


def read_details(user, case: CareCase, *, request=None) -> dict | None:
    """The T2 details (with the action notes) for a user allowed to read them (audited), else None."""
    if not can_read_details(user, case):
        return None
    full = CareCase.objects.only(*CareCase.T2_FIELDS).get(pk=case.pk)
    audit.record_read(user, case, (*CareCase.T2_FIELDS, "actions.note"), request=request)
    return {
        "category": full.category,
        "category_label": full.get_category_display(),
        "tier": full.tier,
        "tier_label": full.get_tier_display() if full.tier else "",
        "description": full.description,
        "actions": list(case.actions.select_related("actor").all()),
    }


# --- wellbeing (T3) --------------------------------------------------------------------------


def is_counselor(user) -> bool:
    scope = scope_of(user)
    return Role.COUNSELOR in scope.everything or bool(scope.org_paths.get(Role.COUNSELOR))


def visible_alert_q(user) -> Q:
    """Alerts assigned to the user, and escalated alerts in orgs the user backs up."""
    scope = scope_of(user)
    if not is_counselor(user):
        return Q(pk__in=[])
    q = Q(counselor_id=user.pk)
    escalated = Q(escalated_at__isnull=False)
    backup = scope.backup_paths.get(Role.COUNSELOR, [])
    for p in backup:
        q |= escalated & Q(org__path__startswith=p)
    return q


def get_alert_or_404(user, pk) -> CrisisAlert:
    alert = (
        CrisisAlert.objects.filter(visible_alert_q(user))
        .select_related("person", "org")
        .filter(pk=pk)
        .first()
    )
    if alert is None:
        raise Http404("未找到该预警，或您无权查看。")
    return alert


def visible_counseling_q(user) -> Q:
    """A counselor's own caseload (a hand-over moves the case to the new counselor)."""
    if not is_counselor(user):
        return Q(pk__in=[])
    return Q(counselor_id=user.pk)


def get_counseling_or_404(user, pk) -> CounselingCase:
    case = (
        CounselingCase.objects.filter(visible_counseling_q(user))
        .select_related("person", "org")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404("未找到该辅导个案，或您无权查看。")
    return case
