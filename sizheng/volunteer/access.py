"""Who sees and changes what in the volunteer app; everything hangs off the org scope rule (org.access).

Activities: visible when organised by an org in the user's scope, or open to the user — organised by
their own org or an org above it (a staff member who is not a party member counts under the unit's
root org, as ``org.access.visible_person_q`` places them). Managed by the secretaries and 党务干部 of
the organising org's subtree and by the committee admin.

Applications: the committee admin sees and reviews all; secretaries and 党务干部 see and prepare those
of the units their orgs cover (``org.access.managed_units``); a family's representative sees their own.
Leaders see aggregates only. Outside scope: 404; visible but not changeable: 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from sizheng.core.models import Role
from sizheng.org.access import ancestor_ids, manages_org, scope_of

# Re-exported: the volunteer views ask ``access.managed_orgs`` (one definition, in org.access).
from sizheng.org.access import managed_orgs as managed_orgs
from sizheng.org.models import Org, Person, Unit
from sizheng.volunteer.models import Activity, Application, ApplicationItem, Signup

MANAGER_ROLES = (Role.SECRETARY, Role.ORG_ADMIN)
# Roles that see the org aggregates (participation, hours, creation status): never lists of people.
AGGREGATE_ROLES = (Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN, Role.LEADER)


# --- volunteering --------------------------------------------------------------------------------


def eligible_org_ids(user) -> list[int]:
    """Orgs whose activities are open to the user: their org and every org above it; for staff who are
    not party members, their unit's root org and the orgs above it. Cached per request."""
    cached = getattr(user, "_sz_volunteer_eligible", None)
    if cached is not None:
        return cached
    scope = scope_of(user)
    ids: set[int] = set()
    if scope.person_id:
        person = Person.objects.filter(pk=scope.person_id).values("org__path", "unit_id").first() or {}
        if person.get("org__path"):
            ids.update(ancestor_ids(person["org__path"]))
        elif person.get("unit_id"):
            for path in (
                Org.objects.filter(units=person["unit_id"], depth=1)
                .exclude(kind=Org.Kind.LEADING_GROUP)
                .values_list("path", flat=True)
            ):
                ids.update(ancestor_ids(path))
    result = sorted(ids)
    if getattr(user, "is_authenticated", False):
        user._sz_volunteer_eligible = result
    return result


def person_eligible_org_ids(person: Person) -> list[int]:
    """The same rule for any person (used when the organiser confirms or the demo signs people up)."""
    if person.org_id:
        return ancestor_ids(person.org.path)
    ids: set[int] = set()
    for path in (
        Org.objects.filter(units=person.unit_id, depth=1)
        .exclude(kind=Org.Kind.LEADING_GROUP)
        .values_list("path", flat=True)
    ):
        ids.update(ancestor_ids(path))
    return sorted(ids)


def visible_activity_q(user) -> Q:
    """The Q selecting activities the user sees."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN, Role.LEADER):
        return Q()
    q = Q(org__in=Org.objects.visible_to(user).values("pk"))
    eligible = eligible_org_ids(user)
    if eligible:
        q |= Q(org_id__in=eligible)
    return q


def get_activity_or_404(user, pk) -> Activity:
    """An activity the user sees, else 404."""
    activity = (
        Activity.objects.visible_to(user)
        .select_related("org", "campaign", "attachment")
        .filter(pk=pk)
        .first()
    )
    if activity is None:
        raise Http404("未找到该志愿活动，或您无权查看。")
    return activity


def manages_activity(user, activity: Activity) -> bool:
    """May edit the activity, change its state and confirm attendance."""
    return manages_org(user, activity.org)


def may_sign_up(user, activity: Activity) -> bool:
    """The activity is open to the user (a person on the roster of its org's subtree or unit)."""
    return scope_of(user).person_id is not None and activity.org_id in eligible_org_ids(user)


def get_own_signup_or_404(user, pk) -> Signup:
    """One of the user's own sign-ups, else 404."""
    person_id = scope_of(user).person_id
    signup = (
        Signup.objects.select_related("activity", "activity__org").filter(pk=pk, person_id=person_id).first()
        if person_id
        else None
    )
    if signup is None:
        raise Http404("未找到该报名记录，或您无权查看。")
    return signup


def sees_aggregates(user) -> bool:
    """Committee admin, secretaries, 党务干部 and leaders see the org aggregates."""
    return user.has_role(*AGGREGATE_ROLES)


def aggregate_orgs(user):
    """Orgs the user may see aggregates for (leaders: their unit's orgs, or all)."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN, Role.LEADER):
        return Org.objects.all()
    q = Q(pk__in=[])
    for path in scope.paths(*MANAGER_ROLES):
        q |= Q(path__startswith=path)
    units = scope.unit_ids.get(Role.LEADER, [])
    if units:
        q |= Q(units__in=units)
    return Org.objects.filter(q)


# --- civility ------------------------------------------------------------------------------------


def reviews_civility(user) -> bool:
    """Only the committee admin reviews applications and edits the criteria and campaigns."""
    return scope_of(user).has_everything(Role.COMMITTEE_ADMIN)


def managed_unit_ids(user) -> list[int] | None:
    """Units whose applications the user prepares; None means every unit (the committee admin)."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN):
        return None
    cached = getattr(user, "_sz_civility_units", None)
    if cached is not None:
        return cached
    paths = scope.paths(*MANAGER_ROLES)
    ids: list[int] = []
    if paths:
        q = Q(pk__in=[])
        for p in paths:
            q |= Q(path__startswith=p)
        ids = sorted({u for u in Org.objects.filter(q).values_list("units", flat=True) if u is not None})
    user._sz_civility_units = ids
    return ids


def managed_units(user):
    """The units as a queryset (for form choices)."""
    ids = managed_unit_ids(user)
    qs = Unit.objects.filter(is_active=True)
    return qs if ids is None else qs.filter(pk__in=ids)


def prepares_civility(user) -> bool:
    """Whether the user prepares any application at all."""
    ids = managed_unit_ids(user)
    return ids is None or bool(ids)


def visible_application_q(user) -> Q:
    """The Q selecting applications the user sees."""
    ids = managed_unit_ids(user)
    if ids is None:
        return Q()
    q = Q(unit_id__in=ids)
    person_id = scope_of(user).person_id
    if person_id:
        q |= Q(person_id=person_id)
    return q


def get_application_or_404(user, pk) -> Application:
    """An application the user sees, else 404."""
    application = Application.objects.visible_to(user).for_list().filter(pk=pk).first()
    if application is None:
        raise Http404("未找到该申报，或您无权查看。")
    return application


def manages_application(user, application: Application) -> bool:
    """May edit the checklist, attach evidence, submit or delete (the unit's managers, the 工委)."""
    ids = managed_unit_ids(user)
    return ids is None or application.unit_id in ids


def require_manages_application(user, application: Application) -> None:
    if not manages_application(user, application):
        raise PermissionDenied("只有该单位所在党组织的书记、党务干部或机关工委管理员可以修改此申报。")


def get_item_or_404(user, pk) -> ApplicationItem:
    """A checklist item of an application the user sees, else 404."""
    item = (
        ApplicationItem.objects.filter(
            application__in=Application.objects.visible_to(user).values("pk"), pk=pk
        )
        .select_related("application", "application__unit", "application__office", "application__person")
        .first()
    )
    if item is None:
        raise Http404("未找到该申报材料，或您无权查看。")
    return item


# --- files ---------------------------------------------------------------------------------------


def may_read_activity_file(user, activity_id: int | None) -> bool:
    """An activity's attachment: whoever sees the activity."""
    return Activity.objects.visible_to(user).filter(pk=activity_id).exists()


def may_read_item_file(user, item_id: int | None) -> bool:
    """Evidence of a checklist item: whoever sees the application."""
    return ApplicationItem.objects.filter(
        pk=item_id, application__in=Application.objects.visible_to(user).values("pk")
    ).exists()
