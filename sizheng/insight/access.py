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
    if scope.own_org_id:
        path = Org.objects.filter(pk=scope.own_org_id).values_list("path", flat=True).first()
        q |= published & Q(audience_orgs__in=ancestor_ids(path))
    units = set(scope.unit_ids.get(Role.LEADER, []))
    if scope.own_unit_id:
        units.add(scope.own_unit_id)
    if units:
        q |= published & Q(audience_units__in=units)
        q |= published & Q(audience_orgs__units__in=units, audience_orgs__depth__lte=1)
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
    units = set(survey.audience_units.values_list("pk", flat=True)) | set(
        survey.audience_orgs.values_list("units", flat=True)
    )
    return bool(units & leader_units)


def get_survey_or_404(user, pk) -> Survey:
    survey = Survey.objects.visible_to(user).select_related("owner_org").filter(pk=pk).first()
    if survey is None:
        raise Http404("未找到该问卷，或您无权查看。")
    return survey
