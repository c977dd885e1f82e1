"""Who sees which survey and which results (ARCHITECTURE §4–5).

* **Manage** (build, open waves, see results of every group, write reports): the committee admin,
  and secretaries / 党务干部 whose subtree holds the survey's owner org.
* **Answer**: the survey's audience (``insight.groups.audience``) while a wave is open.
* **Results**: managers; leaders for surveys whose audience includes their unit (aggregates only,
  suppressed like everything else). Results are only ever served through ``insight.results``,
  which applies the anonymity threshold and complementary suppression.
Outsiders get 404 for every survey page.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from sizheng.core.models import Role
from sizheng.insight.models import Survey, SurveyState
from sizheng.org.access import ancestor_ids, manages_org, scope_of
from sizheng.org.models import Org


def visible_survey_q(user) -> Q:
    """Surveys the user may see at all: managed ones, and published ones asking them or their unit."""
    scope = scope_of(user)
    if scope.has_everything(Role.COMMITTEE_ADMIN):
        return Q()
    q = Q(pk__in=[])
    for p in scope.paths(Role.SECRETARY, Role.ORG_ADMIN):
        q |= Q(owner_org__path__startswith=p)
    published = ~Q(state=SurveyState.DRAFT)
    if scope.has_everything(Role.LEADER):
        q |= published
    if scope.own_org_id:
        path = Org.objects.filter(pk=scope.own_org_id).values_list("path", flat=True).first()
        q |= published & Q(audience_orgs__in=ancestor_ids(path))
        # No audience set: the survey asks the owner org's whole subtree (insight.groups).
        q |= published & Q(
            audience_orgs__isnull=True, audience_units__isnull=True, owner_org_id__in=ancestor_ids(path)
        )
    # Leaders: surveys asking any org that holds their unit. Staff who are not party members: surveys
    # asking the unit's root org (where insight.groups counts them). Members are matched by their org above.
    holding: set[int] = set()
    leader_units = scope.unit_ids.get(Role.LEADER, [])
    if leader_units:
        for path in Org.objects.filter(units__in=leader_units).values_list("path", flat=True):
            holding.update(ancestor_ids(path))
    if scope.own_unit_id and not scope.own_org_id:
        roots = Org.objects.filter(units=scope.own_unit_id, depth=1).values_list("path", flat=True)
        for path in roots:
            holding.update(ancestor_ids(path))
    units = set(leader_units) | ({scope.own_unit_id} if scope.own_unit_id else set())
    if units:
        q |= published & Q(audience_units__in=units)
    if holding:
        q |= published & Q(audience_orgs__in=holding)
        q |= published & Q(audience_orgs__isnull=True, audience_units__isnull=True, owner_org_id__in=holding)
    return q


def may_manage(user, survey: Survey) -> bool:
    return manages_org(user, survey.owner_org)


def may_create(user) -> bool:
    scope = scope_of(user)
    return scope.has_everything(Role.COMMITTEE_ADMIN) or bool(scope.paths(Role.SECRETARY, Role.ORG_ADMIN))


def may_see_results(user, survey: Survey) -> bool:
    if may_manage(user, survey):
        return True
    scope = scope_of(user)
    if scope.has_everything(Role.LEADER):
        return True
    leader_units = set(scope.unit_ids.get(Role.LEADER, []))
    if not leader_units:
        return False
    # The units of every org in the audience subtrees (a survey of the whole tree asks every unit).
    q = Q(pk__in=[])
    roots = list(survey.audience_orgs.all())
    if not roots and not survey.audience_units.exists():
        roots = [survey.owner_org]  # no audience set: the owner org's subtree (insight.groups)
    for o in roots:
        q |= Q(path__startswith=o.path)
    units = set(survey.audience_units.values_list("pk", flat=True)) | set(
        Org.objects.filter(q).values_list("units", flat=True)
    )
    return bool(units & leader_units)


def get_survey_or_404(user, pk) -> Survey:
    survey = Survey.objects.visible_to(user).select_related("owner_org").filter(pk=pk).first()
    if survey is None:
        raise Http404("未找到该问卷，或您无权查看。")
    return survey
