"""Who sees and keeps the 思政 team register (ARCHITECTURE §4).

* The committee admin (机关工委) sees and keeps everything.
* Secretaries and org admins (书记 / 党务干部) keep the register of their subtrees: an entry belongs
  to the subtree of its ``org``.
* Leaders see aggregates of their unit (counts and coverage of its orgs), never lists of people.
* Everybody sees their own entries (a member's own record, read-only).
* Anyone else gets 404 for an entry (existence never leaks); 403 for a visible entry they may not
  change; 409 for a stale version (services).
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from sizheng.core.models import Role
from sizheng.org.access import scope_of
from sizheng.org.models import Org

MANAGER_ROLES = (Role.SECRETARY, Role.ORG_ADMIN)

NO_MANAGE = "只有该党组织（或上级党组织）的书记、党务干部和机关工委可以维护思政工作队伍名册。"
NO_LIST = "只有书记、党务干部和机关工委可以查看思政工作队伍名册；您可以在“我的队伍档案”查看本人的记录。"
NO_COVERAGE = "只有书记、党务干部、单位领导和机关工委可以查看队伍配备情况。"
NO_RULE_ADMIN = "只有机关工委管理员可以修改队伍配备规则。"


def _paths_q(paths: list[str], prefix: str = "") -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{prefix}path__startswith": p})
    return q


def keeps_everything(user) -> bool:
    """The committee admin keeps the whole register."""
    return scope_of(user).has_everything(Role.COMMITTEE_ADMIN)


def manage_paths(user) -> list[str]:
    """The subtrees whose register the user keeps (empty for everything: check ``keeps_everything``)."""
    return scope_of(user).paths(*MANAGER_ROLES)


def may_list(user) -> bool:
    """May list people of the register (managers only; leaders get aggregates)."""
    return keeps_everything(user) or bool(manage_paths(user))


def managed_org_q(user, prefix: str = "") -> Q:
    """Orgs (or, with ``prefix="org__"``, rows with an org) whose register the user keeps."""
    if keeps_everything(user):
        return Q()
    return _paths_q(manage_paths(user), prefix)


def managed_orgs(user):
    """Orgs whose register the user keeps (a queryset, tree order)."""
    return Org.objects.filter(managed_org_q(user)).exclude(kind=Org.Kind.LEADING_GROUP).order_by("path")


def manages(user, org: Org) -> bool:
    """May keep this org's register (its or an ancestor's secretary/org admin, or the 工委)."""
    if keeps_everything(user):
        return True
    return bool(org.path) and any(org.path.startswith(p) for p in manage_paths(user))


def visible_member_q(user, prefix: str = "") -> Q:
    """The Q selecting register entries the user may see: managers' subtrees and their own."""
    scope = scope_of(user)
    if keeps_everything(user):
        return Q()
    q = _paths_q(manage_paths(user), f"{prefix}org__")
    if scope.person_id:
        q |= Q(**{f"{prefix}person_id": scope.person_id})
    return q


def get_member_or_404(user, pk):
    """A register entry the user may see, else 404."""
    from sizheng.team.models import TeamMember

    member = (
        TeamMember.objects.filter(visible_member_q(user))
        .select_related("person", "person__unit", "person__org", "org")
        .filter(pk=pk)
        .first()
    )
    if member is None:
        raise Http404("未找到该队伍成员，或您无权查看。")
    return member


def coverage_org_q(user) -> Q | None:
    """Orgs whose staffing coverage and aggregates the user may see; None when none at all.

    Managers: their subtrees; leaders: their units' org subtrees; the committee admin: everything.
    """
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN, Role.LEADER):
        return Q()
    paths = list(manage_paths(user))
    units = scope.unit_ids.get(Role.LEADER, [])
    if units:
        # A unit's orgs hang under its root org (the 机关党委 / 党总支 / 党支部 right under the 工委).
        paths += list(
            Org.objects.filter(units__in=units, depth=1)
            .exclude(kind=Org.Kind.LEADING_GROUP)
            .values_list("path", flat=True)
        )
    if not paths:
        return None
    return _paths_q(sorted(set(paths)))
