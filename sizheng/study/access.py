"""Who sees which study records: everything hangs off the org scope rule (org.access).

Outsiders get 404 (existence never leaks); a visible record the user may not change gets 403.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from sizheng.life.models import Attendance, Meeting
from sizheng.org.access import manages_org, scope_of
from sizheng.org.models import Org
from sizheng.study.models import Observation, StudyGroup, StudyPlan, StudySession


def visible_orgs(user):
    """Orgs in the user's scope, as a subquery."""
    return Org.objects.visible_to(user).values("pk")


def plans_visible_to(user):
    return StudyPlan.objects.filter(org__in=visible_orgs(user))


def groups_visible_to(user):
    """Groups of orgs in scope, and groups the user belongs to (a youth group across branches)."""
    q = Q(org__in=visible_orgs(user))
    person_id = scope_of(user).person_id
    if person_id:
        q |= Q(members=person_id)
    return StudyGroup.objects.filter(q).distinct()


def sessions_visible_to(user):
    return StudySession.objects.filter(meeting__in=Meeting.objects.visible_to(user).values("pk"))


def observations_visible_to(user):
    """Observations at orgs in scope, and the user's own assignments as observer."""
    q = Q(observed_org__in=visible_orgs(user))
    person_id = scope_of(user).person_id
    if person_id:
        q |= Q(observer_id=person_id)
    return Observation.objects.filter(q)


def _one_or_404(qs, pk, message: str):
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise Http404(message)
    return obj


def get_plan_or_404(user, pk) -> StudyPlan:
    return _one_or_404(
        plans_visible_to(user).select_related("org", "group"), pk, "未找到该学习计划，或您无权查看。"
    )


def get_group_or_404(user, pk) -> StudyGroup:
    return _one_or_404(groups_visible_to(user).select_related("org"), pk, "未找到该学习小组，或您无权查看。")


def get_session_or_404(user, pk) -> StudySession:
    qs = sessions_visible_to(user).select_related("meeting", "meeting__org", "group", "topic", "topic__plan")
    return _one_or_404(qs, pk, "未找到该学习活动，或您无权查看。")


def get_observation_or_404(user, pk) -> Observation:
    qs = observations_visible_to(user).select_related(
        "observed_org", "observer", "session", "session__meeting"
    )
    return _one_or_404(qs, pk, "未找到该列席安排，或您无权查看。")


def get_attendance_or_404(user, pk) -> Attendance:
    """One's own attendance row, or one at a meeting in scope."""
    q = Q(meeting__in=Meeting.objects.visible_to(user).values("pk"))
    person_id = scope_of(user).person_id
    if person_id:
        q |= Q(person_id=person_id)
    qs = Attendance.objects.filter(q).select_related("meeting", "person")
    return _one_or_404(qs, pk, "未找到该出席记录，或您无权查看。")


def manages(user, org) -> bool:
    """May change the org's study records (its or an ancestor's secretary/org_admin, or the 工委)."""
    return manages_org(user, org)


def is_observer(user, obs: Observation) -> bool:
    return obs.observer_id == scope_of(user).person_id
