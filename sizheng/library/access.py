"""Who sees and changes what in the library: everything hangs off the org scope rule (org.access).

- A published material is read by its **audience**: everyone on the platform (``audience_org`` empty)
  or the people of an org's subtree — a member of that subtree (their own org, or for staff who are
  not party members their unit's root org, lies in it) or anyone whose scope holds the org.
- Drafts and withdrawn items are seen only by those who may edit them: the managers (secretary /
  党务干部 of an org at or above it, or the committee admin) of the owning org, and for a column's
  articles the authors the committee admin named.
- Outsiders get 404 (existence never leaks); a visible item the user may not change gets 403.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from sizheng.core.models import SYSTEM_ROLES, Role
from sizheng.org.access import ancestor_ids, managed_org_q, manages_org, scope_of, visible_org_q

# Re-exported: the library views ask ``access.managed_orgs`` (one definition, in org.access).
from sizheng.org.access import managed_orgs as managed_orgs
from sizheng.org.models import Org

MANAGER_ROLES = (Role.SECRETARY, Role.ORG_ADMIN)
# "Every row" as a Q that still combines with | (an empty Q() would vanish from ``a | Q()``).
EVERYTHING = Q(pk__isnull=False)


def _is_reader(user) -> bool:
    """Staff with a roster record or a business role; the system accounts (三员) read no content."""
    if user is None or not user.is_authenticated:
        return False
    scope = scope_of(user)
    if scope.person_id is not None:
        return True
    roles = set(scope.everything) | set(scope.org_paths) | set(scope.unit_ids)
    return bool(roles - SYSTEM_ROLES)


def member_org_ids(user) -> list[int]:
    """The orgs the user belongs to and every org above them (one query, cached for the request).

    Party members belong to their org; everyone on the roster also counts under their unit's root
    org (the 机关党委 / 党总支 / 党支部 directly under the root), like ``org.access.visible_person_q``.
    """
    cached = getattr(user, "_sz_library_member_orgs", None)
    if cached is not None:
        return cached
    scope = scope_of(user)
    q = Q(pk__in=[])
    if scope.own_org_id:
        q |= Q(pk=scope.own_org_id)
    if scope.own_unit_id:
        q |= Q(units=scope.own_unit_id, depth=1) & ~Q(kind=Org.Kind.LEADING_GROUP)
    ids: set[int] = set()
    if scope.own_org_id or scope.own_unit_id:
        for path in Org.objects.filter(q).values_list("path", flat=True):
            ids.update(ancestor_ids(path))
    result = sorted(ids)
    user._sz_library_member_orgs = result
    return result


def audience_q(user, field: str = "audience_org") -> Q:
    """The Q selecting rows whose audience (an org field, empty for everyone) includes the user."""
    if not _is_reader(user):
        return Q(pk__in=[])
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN, Role.LEADER, Role.COUNSELOR, Role.UNION):
        return EVERYTHING
    q = Q(**{f"{field}__isnull": True})
    members = member_org_ids(user)
    if members:
        q |= Q(**{f"{field}_id__in": members})
    q |= Q(**{f"{field}__in": Org.objects.filter(visible_org_q(user)).values("pk")})
    return q


def may_manage_anything(user) -> bool:
    scope = scope_of(user)
    return scope.has_everything(Role.COMMITTEE_ADMIN) or bool(scope.paths(*MANAGER_ROLES))


def is_committee_admin(user) -> bool:
    return scope_of(user).has_everything(Role.COMMITTEE_ADMIN)


def visible_material_q(user) -> Q:
    """Published to an audience including the user, or editable by the user (drafts included)."""
    if not _is_reader(user):
        return Q(pk__in=[])
    from sizheng.library.models import Column, MaterialState

    q = Q(state=MaterialState.PUBLISHED) & audience_q(user)
    if may_manage_anything(user):
        q |= managed_org_q(user, "org__")
    q |= Q(column__in=Column.objects.filter(editors=user).values("pk"))
    return q


def may_edit_material(user, material) -> bool:
    """The owning org's managers; for a column's article also the authors named for the column."""
    if manages_org(user, material.org):
        return True
    return material.column_id is not None and material.column.editors.filter(pk=user.pk).exists()


def columns_visible_to(user):
    """Columns whose org's people include the user, columns of orgs in scope, and the user's own."""
    from sizheng.library.models import Column

    if not _is_reader(user):
        return Column.objects.none()
    q = audience_q(user, "org") | Q(pk__in=Column.objects.filter(editors=user).values("pk"))
    return Column.objects.filter(q)


def may_write_column(user, column) -> bool:
    """Managers of the column's org, or an author the committee admin named."""
    return manages_org(user, column.org) or column.editors.filter(pk=user.pk).exists()


def get_material_or_404(user, pk):
    from sizheng.library.models import Material

    material = (
        Material.objects.visible_to(user)
        .select_related("org", "audience_org", "column", "column__org", "file", "created_by")
        .filter(pk=pk)
        .first()
    )
    if material is None:
        raise Http404("未找到该学习资料，或您无权查看。")
    return material


def get_column_or_404(user, pk):
    column = columns_visible_to(user).select_related("org").filter(pk=pk).first()
    if column is None:
        raise Http404("未找到该专栏，或您无权查看。")
    return column


def get_attachment_or_404(user, pk):
    """An attachment of a material the user sees, on a plan / session / 党课 the user sees."""
    from sizheng.library import targets
    from sizheng.library.models import Attachment, Material

    attachment = (
        Attachment.objects.filter(pk=pk, material__in=Material.objects.visible_to(user).values("pk"))
        .select_related("material", "org")
        .first()
    )
    if attachment is None or targets.get(attachment.target_kind, attachment.target_id, user) is None:
        raise Http404("未找到该资料使用记录，或您无权查看。")
    return attachment


def may_read_material_file(user, owner_id: int | None) -> bool:
    """core.files check for owner kind ``library_material``: whoever sees the material."""
    from sizheng.library.models import Material

    if owner_id is None:
        return False
    return Material.objects.visible_to(user).filter(pk=owner_id).exists()
