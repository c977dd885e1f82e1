"""Who may see and change what: the one scope rule (ARCHITECTURE §4).

List pages and the API filter with ``Org.objects.visible_to(user)`` /
``Person.objects.visible_to(user)``; single objects come from the ``get_*`` helpers here,
which answer 404 for anything outside scope (existence never leaks), 403 for a visible
object the user may not change, and 409 for a stale version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from sizheng.core.apitools import Conflict
from sizheng.core.models import Role, RoleGrant

ORG_SCOPED = (Role.SECRETARY, Role.ORG_ADMIN, Role.COUNSELOR, Role.UNION)
# Roles that see lists of people in their scope (leaders see aggregates only, never lists).
PEOPLE_ROLES = (Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN)


@dataclass
class Scope:
    """A user's scope, computed once per request: role → org paths / unit ids / everything."""

    everything: set[str] = field(default_factory=set)  # roles held over the whole tree
    org_paths: dict[str, list[str]] = field(default_factory=dict)  # role → subtree paths
    unit_ids: dict[str, list[int]] = field(default_factory=dict)  # role → unit ids
    org_ids: dict[str, list[int]] = field(default_factory=dict)  # role → the orgs granted (not subtrees)
    backup_paths: dict[str, list[str]] = field(default_factory=dict)  # role → subtrees held as backup
    person_id: int | None = None
    own_org_id: int | None = None
    own_unit_id: int | None = None

    def paths(self, *roles: str) -> list[str]:
        return sorted({p for r in roles for p in self.org_paths.get(r, [])})

    def has_everything(self, *roles: str) -> bool:
        return any(r in self.everything for r in roles)

    def primary_paths(self, role: str) -> list[str]:
        """Subtrees a role is held over as the primary holder (not as a backup)."""
        backups = set(self.backup_paths.get(role, []))
        return sorted(p for p in self.org_paths.get(role, []) if p not in backups)

    def covers(self, role: str, org_path: str | None, *, primary_only: bool = False) -> bool:
        """Whether the role is held over a subtree containing the org (or over everything)."""
        if role in self.everything:
            return True
        paths = self.primary_paths(role) if primary_only else self.org_paths.get(role, [])
        return bool(org_path) and any(org_path.startswith(p) for p in paths)


def scope_of(user) -> Scope:
    """The user's scope (at most two small queries, cached on the user object for the request)."""
    cached = getattr(user, "_sz_scope", None)
    if cached is not None:
        return cached
    scope = Scope()
    if user is None or not user.is_authenticated:
        return scope
    from sizheng.org.models import Org, Person

    grants = user.grants_today()
    org_ids = {g.scope_id for g in grants if g.scope_kind == RoleGrant.ScopeKind.ORG}
    paths = dict(Org.objects.filter(pk__in=org_ids).values_list("pk", "path")) if org_ids else {}
    for g in grants:
        if g.scope_kind == RoleGrant.ScopeKind.ALL:
            scope.everything.add(g.role)
        elif g.scope_kind == RoleGrant.ScopeKind.ORG and g.scope_id in paths:
            scope.org_paths.setdefault(g.role, []).append(paths[g.scope_id])
            scope.org_ids.setdefault(g.role, []).append(g.scope_id)
            if g.is_backup:
                scope.backup_paths.setdefault(g.role, []).append(paths[g.scope_id])
        elif g.scope_kind == RoleGrant.ScopeKind.UNIT and g.scope_id is not None:
            scope.unit_ids.setdefault(g.role, []).append(g.scope_id)
    if hasattr(user, "_sz_person_id"):  # loaded by org.backends.PersonAwareBackend: no query
        person = None
        if user._sz_person_id is not None:
            person = {
                "pk": user._sz_person_id,
                "org_id": user._sz_person_org_id,
                "unit_id": user._sz_person_unit_id,
            }
    else:
        person = Person.objects.filter(user=user).values("pk", "org_id", "unit_id").first()
    if person:
        scope.person_id, scope.own_org_id, scope.own_unit_id = (
            person["pk"],
            person["org_id"],
            person["unit_id"],
        )
    user._sz_scope = scope
    return scope


def ancestor_ids(path: str | None) -> list[int]:
    """The org ids on a materialised path, root first (the org itself last)."""
    return [int(s) for s in (path or "").split(".") if s]


def _paths_q(paths: list[str], prefix: str = "") -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{prefix}path__startswith": p})
    return q


def visible_org_q(user) -> Q:
    """The Q selecting orgs in the user's scope."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN, Role.LEADER, Role.COUNSELOR, Role.UNION):
        return Q()
    q = _paths_q(scope.paths(*ORG_SCOPED))
    leader_units = scope.unit_ids.get(Role.LEADER, [])
    if leader_units:
        q |= Q(units__in=leader_units)
    if scope.own_org_id:
        q |= Q(pk=scope.own_org_id)
    return q


def sees_beyond_own_org(user) -> bool:
    """Whether ``visible_org_q`` has more than the user's own org to give: a post or grant over a
    subtree, a unit or the whole tree (no query: the scope is cached). Members and system accounts
    see their own org at most: a picker of orgs has nothing to search for them."""
    scope = scope_of(user)
    return bool(
        scope.has_everything(Role.COMMITTEE_ADMIN, Role.LEADER, Role.COUNSELOR, Role.UNION)
        or scope.paths(*ORG_SCOPED)
        or scope.unit_ids.get(Role.LEADER)
    )


def visible_person_q(user) -> Q:
    """The Q selecting people whose records the user may list (self always)."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN):
        return Q()
    q = Q(pk=scope.person_id) if scope.person_id else Q(pk__in=[])
    paths = scope.paths(Role.SECRETARY, Role.ORG_ADMIN)
    if paths:
        q |= _paths_q(paths, "org__")
        # Staff who are not party members belong to a unit, not an org: they are in the scope of
        # whoever holds the unit's root org (the 机关党委 / 党总支 / 党支部 directly under the root).
        from sizheng.org.models import Org

        root_units = Org.objects.filter(_paths_q(paths), depth=1).exclude(kind=Org.Kind.LEADING_GROUP)
        q |= Q(org__isnull=True, unit_id__in=root_units.values("units"))
    return q


def managed_org_q(user, prefix: str = "") -> Q:
    """The Q selecting orgs (through ``prefix``) the user may change: the whole tree for the committee
    admin, else the subtrees of their secretary / 党务干部 posts."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN):
        return Q(**{f"{prefix}pk__isnull": False})
    q = Q(**{f"{prefix}pk__in": []})
    for path in scope.paths(Role.SECRETARY, Role.ORG_ADMIN):
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def managed_orgs(user):
    """Orgs the user may change (a queryset)."""
    from sizheng.org.models import Org

    return Org.objects.filter(managed_org_q(user))


def manages_any(user) -> bool:
    """Whether ``managed_org_q`` selects anything: the committee admin, or a secretary / 党务干部
    post over a subtree (no query: the scope is cached)."""
    scope = scope_of(user)
    return scope.has_everything(Role.COMMITTEE_ADMIN) or bool(scope.paths(Role.SECRETARY, Role.ORG_ADMIN))


def managed_units(user):
    """Units the user may place people or orgs in: those their managed orgs cover (a queryset)."""
    from sizheng.org.models import Unit

    if scope_of(user).has_everything(Role.COMMITTEE_ADMIN):
        return Unit.objects.filter(is_active=True)
    return Unit.objects.filter(is_active=True, pk__in=managed_orgs(user).values("units"))


def can_list_people(user) -> bool:
    scope = scope_of(user)
    return scope.has_everything(*PEOPLE_ROLES) or bool(scope.paths(Role.SECRETARY, Role.ORG_ADMIN))


def _in_paths(org_path: str | None, paths: list[str]) -> bool:
    return bool(org_path) and any(org_path.startswith(p) for p in paths)


def manages_org(user, org) -> bool:
    """May change this org and its records (secretary/org_admin of an ancestor, or committee_admin)."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN):
        return True
    return _in_paths(org.path, scope.paths(Role.SECRETARY, Role.ORG_ADMIN))


def manages_person(user, person) -> bool:
    """May edit or transfer this person."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN):
        return True
    paths = scope.paths(Role.SECRETARY, Role.ORG_ADMIN)
    if person.org_id:
        return _in_paths(person.org.path, paths)
    return _unit_root_in(person.unit_id, paths)


def _unit_root_in(unit_id: int, paths: list[str]) -> bool:
    if not paths:
        return False
    from sizheng.org.models import Org

    roots = (
        Org.objects.filter(units=unit_id, depth=1)
        .exclude(kind=Org.Kind.LEADING_GROUP)
        .values_list("path", flat=True)
    )
    return any(_in_paths(p, paths) for p in roots)


def sees_identifiers(user, person) -> bool:
    """Full 身份证号 and phone (T1): only an org_admin whose scope holds the person."""
    scope = scope_of(user)
    if scope.has_everything(Role.ORG_ADMIN):
        return True
    paths = scope.paths(Role.ORG_ADMIN)
    if person.org_id:
        return _in_paths(person.org.path, paths)
    return _unit_root_in(person.unit_id, paths)


def may_export_identifiers(user) -> bool:
    """May run an audited sensitive export at all (an org_admin somewhere)."""
    scope = scope_of(user)
    return scope.has_everything(Role.ORG_ADMIN) or bool(scope.paths(Role.ORG_ADMIN))


def get_org_or_404(user, pk):
    """An org in the user's scope, else 404."""
    from sizheng.org.models import Org

    org = Org.objects.visible_to(user).filter(pk=pk).distinct().first()
    if org is None:
        raise Http404("未找到该党组织，或您无权查看。")
    return org


def get_person_or_404(user, pk):
    """A person the user may see, else 404."""
    from sizheng.org.models import Person

    person = (
        Person.objects.visible_to(user).select_related("unit", "office", "org", "user").filter(pk=pk).first()
    )
    if person is None:
        raise Http404("未找到该人员，或您无权查看。")
    return person


def require(allowed: bool, message: str = "您没有修改此项的权限。") -> None:
    """403 for a visible object the user may not change."""
    if not allowed:
        raise PermissionDenied(message)


def check_version(obj, version: int | None) -> None:
    """409 when the form was filled in on an older version of the object."""
    if version is not None and int(version) != obj.version:
        raise Conflict("该记录已被他人修改，请刷新页面后重新填写。")
