"""Who may see and do what in assessment — the one place for these rules (ARCHITECTURE §4–5).

* Indicator systems and weight sets are reference material: every signed-in user with a business
  role may read published systems; only the committee admin (or the managers of a system's
  ``owner_org``) edits systems, opens weighting sessions and creates weight sets.
* Experts see only the sessions they are invited to, and only the comparison forms (an expert may
  have no ``Person``).
* A round is managed by whoever manages its ``owner_org`` (the committee admin: every round).
* A target's unit (the managers of the target org) fills its self-assessment while the round is
  open and sees its own results once published.
* An assessor sees and scores only the targets assigned to them (and their evidence).
* Results are T0: once a round is published they are visible within scope (``visible_org_q``);
  leaders see their unit's targets. Before publication only the round's managers see totals.
* Outsiders get 404, never 403.
"""

from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404

from sizheng.assess.models import (
    Assessment,
    AssessorAssignment,
    IndicatorSystem,
    RoundState,
    SystemState,
    Target,
    WeightingSession,
)
from sizheng.core.models import Role
from sizheng.org.access import managed_org_q, manages_org, scope_of, visible_org_q

BUSINESS_ROLES = (
    Role.COMMITTEE_ADMIN,
    Role.SECRETARY,
    Role.ORG_ADMIN,
    Role.LEADER,
    Role.ASSESSOR,
    Role.EXPERT,
)


def is_committee(user) -> bool:
    return scope_of(user).has_everything(Role.COMMITTEE_ADMIN)


# --- systems and weights ------------------------------------------------------------------------


def may_edit_systems(user) -> bool:
    """May create systems, weighting sessions and weight sets at all."""
    return is_committee(user)


def may_edit_system(user, system: IndicatorSystem) -> bool:
    if is_committee(user):
        return True
    return system.owner_org_id is not None and manages_org(user, system.owner_org)


def visible_systems(user):
    """Systems the user may read: editors all, other business roles (not plain members) the
    published/archived ones."""
    if is_committee(user):
        return IndicatorSystem.objects.all()
    scope = scope_of(user)
    q = Q(owner_org__isnull=False) & managed_org_q(user, "owner_org__")
    if (
        scope.has_everything(*BUSINESS_ROLES)
        or scope.paths(*BUSINESS_ROLES)
        or any(scope.unit_ids.get(r) for r in BUSINESS_ROLES)
    ):
        q |= ~Q(state=SystemState.DRAFT)
    return IndicatorSystem.objects.filter(q)


def get_system_or_404(user, pk) -> IndicatorSystem:
    return get_object_or_404(visible_systems(user), pk=pk)


def visible_sessions(user):
    """Weighting sessions: editors of the system, and invited experts."""
    if is_committee(user):
        return WeightingSession.objects.all()
    return WeightingSession.objects.filter(experts=user).distinct()


def get_session_or_404(user, pk) -> WeightingSession:
    return get_object_or_404(visible_sessions(user), pk=pk)


def is_invited(user, session: WeightingSession) -> bool:
    return session.experts.filter(pk=user.pk).exists()


# --- rounds -------------------------------------------------------------------------------------


def manages_round(user, assessment: Assessment) -> bool:
    return manages_org(user, assessment.owner_org)


def _self_target_q(user) -> Q:
    """Targets whose unit the user manages (secretary / 党务干部 of the target org or above)."""
    return managed_org_q(user, "org__")


def visible_rounds(user):
    """Rounds the user has business with: managed, assigned as assessor, own unit assessed
    (once open), or any published round with a target in scope."""
    if is_committee(user):
        return Assessment.objects.all()
    managed = Assessment.objects.filter(managed_org_q(user, "owner_org__")).values("pk")
    assigned = AssessorAssignment.objects.filter(user=user).values("target__assessment")
    own = (
        Target.objects.filter(_self_target_q(user))
        .exclude(assessment__state=RoundState.DRAFT)
        .values("assessment")
    )
    published = Target.objects.filter(
        assessment__state=RoundState.PUBLISHED, org__in=_visible_orgs(user)
    ).values("assessment")
    return Assessment.objects.filter(
        Q(pk__in=managed) | Q(pk__in=assigned) | Q(pk__in=own) | Q(pk__in=published)
    )


def _visible_orgs(user):
    from sizheng.org.models import Org

    return Org.objects.filter(visible_org_q(user)).values("pk")


def get_round_or_404(user, pk) -> Assessment:
    return get_object_or_404(visible_rounds(user).select_related("system", "owner_org", "weight_set"), pk=pk)


def visible_targets(user, assessment: Assessment):
    """Targets of a round whose page the user may open (results only where ``sees_results``)."""
    qs = Target.objects.filter(assessment=assessment).select_related("org", "unit")
    if manages_round(user, assessment):
        return qs
    q = Q(assessors__user=user)
    if assessment.state != RoundState.DRAFT:
        q |= _self_target_q(user)
    if assessment.state == RoundState.PUBLISHED:
        q |= Q(org__in=_visible_orgs(user))
    return qs.filter(q).distinct()


def get_target_or_404(user, pk) -> Target:
    target = get_object_or_404(
        Target.objects.select_related(
            "assessment", "assessment__system", "assessment__owner_org", "org", "unit"
        ),
        pk=pk,
    )
    if not visible_targets(user, target.assessment).filter(pk=target.pk).exists():
        raise Http404
    return target


def sees_results(user, assessment: Assessment) -> bool:
    """Totals, grades and ranks: the managers once computed, everyone in scope once published."""
    if assessment.state == RoundState.PUBLISHED:
        return True
    return assessment.state == RoundState.COMPUTED and manages_round(user, assessment)


def may_self_assess(user, target: Target) -> bool:
    return target.assessment.state == RoundState.OPEN and manages_org(user, target.org)


def is_assigned(user, target: Target) -> bool:
    return AssessorAssignment.objects.filter(target=target, user=user).exists()


def may_score(user, target: Target) -> bool:
    return target.assessment.state == RoundState.OPEN and is_assigned(user, target)


def sees_evidence(user, target: Target) -> bool:
    """Self-assessment entries and evidence: the unit itself, its assessors, the round's managers."""
    return (
        manages_org(user, target.org) or is_assigned(user, target) or manages_round(user, target.assessment)
    )
