"""Who sees a duty and who may act on it (issue 4's table, ARCHITECTURE §4)."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from sizheng.core.models import Role, RoleGrant
from sizheng.org.access import scope_of

ADMIN_ROLES = (Role.SECRETARY, Role.ORG_ADMIN)


def visible_duty_q(user) -> Q:
    """Duties in scope: those assigned to, by, or supervised by an org in the user's subtrees,
    those of the user's own branch, and those they own."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN, Role.LEADER):
        return Q()
    q = Q(pk__in=[])
    for path in scope.paths(*ADMIN_ROLES):
        q |= (
            Q(assignee_org__path__startswith=path)
            | Q(assigning_org__path__startswith=path)
            | Q(supervising_org__path__startswith=path)
        )
    leader_units = scope.unit_ids.get(Role.LEADER, [])
    if leader_units:
        from sizheng.org.models import Org

        # A subquery, not a join: a join through units would repeat duties of joint branches.
        q |= Q(assignee_org_id__in=Org.objects.filter(units__in=leader_units).values("pk"))
    if scope.own_org_id:
        q |= Q(assignee_org_id=scope.own_org_id)
    if scope.person_id:
        q |= Q(owner_id=scope.person_id)
    return q


def admin_org_ids(user) -> set[int]:
    """Orgs where the user is secretary/org_admin themself (not inherited from an ancestor)."""
    return {
        g.scope_id
        for g in user.grants_today()
        if g.role in ADMIN_ROLES and g.scope_kind == RoleGrant.ScopeKind.ORG
    }


def is_owner_side(user, duty) -> bool:
    """The duty's owner, or the secretary/org_admin of the assignee org."""
    person_id = scope_of(user).person_id
    return (person_id is not None and duty.owner_id == person_id) or duty.assignee_org_id in admin_org_ids(
        user
    )


def is_assigner(user, duty) -> bool:
    """The secretary/org_admin of the assigning org, or committee_admin when it is the root."""
    if duty.assigning_org_id in admin_org_ids(user):
        return True
    return duty.assigning_org.parent_id is None and user.has_role(Role.COMMITTEE_ADMIN)


def is_supervisor(user, duty) -> bool:
    """The secretary/org_admin of the supervising org (reads and urges, never changes)."""
    return duty.supervising_org_id is not None and duty.supervising_org_id in admin_org_ids(user)


def get_duty_or_404(user, pk):
    """A duty in scope, else 404."""
    from sizheng.duties.models import Duty

    duty = (
        Duty.objects.visible_to(user)
        .select_related("assignee_org", "assigning_org", "supervising_org", "owner", "campaign", "duty_list")
        .filter(pk=pk)
        .first()
    )
    if duty is None:
        raise Http404("未找到该事项，或您无权查看。")
    return duty
