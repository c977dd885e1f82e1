"""Periodic jobs of the volunteer app (imported by ``VolunteerConfig.ready``).

- ``volunteer.civility_expiry`` (08:00 daily): 90 days before a civility title's validity ends, its
  unit's secretaries and 党务干部 (and a family's representative) are reminded once
  (``remind`` key ``civility:<id>:expiry-90``); titles whose validity ended become 已过期.
- ``volunteer.confirm_reminders`` (08:30 daily): the organiser of an activity that is over and still
  has unconfirmed sign-ups is asked once to confirm attendance and hours (key ``volunteer:confirm:<id>``).
"""

from __future__ import annotations

from datetime import time, timedelta

from django.urls import reverse
from django.utils import timezone

from sizheng.core.models import Role, RoleGrant, User
from sizheng.core.scheduler import periodic, remind
from sizheng.org.models import Org
from sizheng.volunteer import services
from sizheng.volunteer.models import (
    Activity,
    ActivityState,
    Application,
    ApplicationState,
    Signup,
    SignupStatus,
)

EXPIRY_NOTICE_DAYS = 90


def _unit_managers(unit_ids: set[int], today) -> dict[int, list[User]]:
    """Unit → the users holding a secretary / 党务干部 post in an org of the unit (three queries)."""
    orgs_of: dict[int, set[int]] = {}
    for org_id, unit_id in Org.units.through.objects.filter(unit_id__in=unit_ids).values_list(
        "org_id", "unit_id"
    ):
        orgs_of.setdefault(org_id, set()).add(unit_id)
    grants = RoleGrant.objects.in_force(today).filter(
        role__in=[Role.SECRETARY, Role.ORG_ADMIN],
        scope_kind=RoleGrant.ScopeKind.ORG,
        scope_id__in=list(orgs_of),
    )
    by_unit: dict[int, set[int]] = {}
    for user_id, org_id in grants.values_list("user_id", "scope_id"):
        for unit_id in orgs_of.get(org_id, ()):
            by_unit.setdefault(unit_id, set()).add(user_id)
    users = User.objects.filter(is_active=True).in_bulk({u for ids in by_unit.values() for u in ids})
    return {unit: [users[u] for u in sorted(ids) if u in users] for unit, ids in by_unit.items()}


@periodic("volunteer.civility_expiry", at=time(8, 0), label="文明创建称号到期提醒")
def civility_expiry() -> dict[str, int]:
    """Remind once 90 days before a title expires; mark titles past their validity as 已过期."""
    today = timezone.localdate()
    due = list(
        Application.objects.filter(
            state=ApplicationState.APPROVED,
            valid_until__gte=today,
            valid_until__lte=today + timedelta(days=EXPIRY_NOTICE_DAYS),
        )
        .select_related("unit", "office", "person", "person__user")
        .order_by("valid_until", "pk")
    )
    managers = _unit_managers({a.unit_id for a in due}, today) if due else {}
    fallback = None
    sent = 0
    for a in due:
        users = list(managers.get(a.unit_id, []))
        if a.person_id and a.person.user_id and a.person.user.is_active and a.person.user not in users:
            users.append(a.person.user)
        if not users:
            if fallback is None:
                admins = RoleGrant.objects.in_force(today).filter(role=Role.COMMITTEE_ADMIN).values("user_id")
                fallback = list(User.objects.filter(is_active=True, pk__in=admins).order_by("pk"))
            users = fallback
        if remind(
            f"civility:{a.pk}:expiry-{EXPIRY_NOTICE_DAYS}",
            users,
            title=f"{a.applicant_name}{a.get_kind_display()}称号将于{a.valid_until:%Y年%m月%d日}到期",
            body=f"{a.applicant_name}的{a.get_kind_display()}称号有效期至{a.valid_until:%Y年%m月%d日}。"
            "如需保持称号，请及时组织复查申报。",
            url=reverse("volunteer:application_detail", args=[a.pk]),
        ):
            sent += 1
    expired = services.applications_expire(today=today)
    return {"reminded": sent, "expired": expired}


@periodic("volunteer.confirm_reminders", at=time(8, 30), label="志愿活动确认参加情况提醒")
def confirm_reminders() -> int:
    """Ask the organiser, once per activity, to confirm attendance and hours after the activity."""
    now = timezone.now()
    pending = (
        Activity.objects.filter(
            state__in=[ActivityState.PLANNED, ActivityState.OPEN],
            ends_at__lte=now,
            created_by__isnull=False,
            created_by__is_active=True,
            pk__in=Signup.objects.filter(status=SignupStatus.SIGNED_UP).values("activity_id"),
        )
        .select_related("created_by")
        .order_by("ends_at", "pk")
    )
    sent = 0
    for activity in pending:
        if remind(
            f"volunteer:confirm:{activity.pk}",
            [activity.created_by],
            title=f"请确认志愿活动的参加情况：{activity.title}",
            body="活动已经结束，请逐人确认参加情况和服务时长。未经确认的时长不计入统计。",
            url=reverse("volunteer:activity_confirm", args=[activity.pk]),
        ):
            sent += 1
    return sent
