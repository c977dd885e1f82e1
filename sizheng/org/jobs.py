"""Periodic jobs of the org app."""

from __future__ import annotations

from datetime import time, timedelta

from django.db.models import Q
from django.utils import timezone

from sizheng.core.models import Role, RoleGrant, User
from sizheng.core.scheduler import periodic, remind
from sizheng.core.workdays import add_months
from sizheng.org.models import Org


@periodic("org.term_reminders", at=time(8, 0), label="换届提醒")
def term_reminders() -> int:
    """Remind an org and its higher org 6 months before its term ends (BR-TERM-3), once per term."""
    today = timezone.localdate()
    horizon = add_months(today, 6)
    due = list(
        Org.objects.active_on(today)
        .filter(term_ends_on__isnull=False, term_ends_on__gte=today, term_ends_on__lte=horizon)
        .select_related("parent")
    )
    if not due:
        return 0
    org_ids = {o.pk for o in due} | {o.parent_id for o in due if o.parent_id}
    grants = RoleGrant.objects.in_force(today).filter(
        Q(role__in=[Role.SECRETARY, Role.ORG_ADMIN], scope_kind=RoleGrant.ScopeKind.ORG, scope_id__in=org_ids)
        | Q(role=Role.COMMITTEE_ADMIN)
    )
    by_org: dict[int | None, set[int]] = {}
    for g in grants.values("user_id", "scope_id", "role"):
        key = None if g["role"] == Role.COMMITTEE_ADMIN else g["scope_id"]
        by_org.setdefault(key, set()).add(g["user_id"])
    users = User.objects.in_bulk({u for ids in by_org.values() for u in ids})
    sent = 0
    for org in due:
        ids = by_org.get(org.pk, set()) | by_org.get(org.parent_id, set())
        if org.parent_id and org.parent.parent_id is None:
            ids |= by_org.get(None, set())  # the root's administrators follow the unit-level orgs
        recipients = [users[i] for i in ids if i in users]
        title = f"{org.name}本届任期将于 {org.term_ends_on:%Y年%m月%d日} 届满，请及早筹备换届"
        if recipients and remind(
            f"org:{org.pk}:term-end:{org.term_ends_on.isoformat()}",
            recipients,
            title=title,
            url=f"/org/orgs/{org.pk}/",
        ):
            sent += 1
    return sent


@periodic("org.purge_roster_uploads", every=timedelta(hours=1), label="清理过期的名册上传文件")
def purge_roster_uploads() -> int:
    """Uploaded rosters waiting for confirmation are kept one hour at most."""
    from sizheng.org.importer import purge_stale_uploads

    return purge_stale_uploads()
