"""Writes of the core: accounts, role grants, unlocks, holidays. Each one audited."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from sizheng.core import audit
from sizheng.core.models import ApiToken, Holiday, RoleGrant, User


@transaction.atomic
def user_set_password(*, user: User, password: str, actor, request=None) -> None:
    """Set a password (already validated) and lift the first-login requirement."""
    user.set_password(password)
    user.must_change_password = False
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at"])
    # A new password ends every API token issued under the old one.
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit.record(actor, "password_change", user, {"tokens_revoked": revoked}, request=request)


@transaction.atomic
def role_grant(
    *,
    user: User,
    role: str,
    actor,
    scope_kind: str = RoleGrant.ScopeKind.ALL,
    scope_id: int | None = None,
    is_backup: bool = False,
    starts_on=None,
    ends_on=None,
) -> RoleGrant:
    """Grant a role over a scope (idempotent)."""
    grant, created = RoleGrant.objects.get_or_create(
        user=user,
        role=role,
        scope_kind=scope_kind,
        scope_id=scope_id,
        is_backup=is_backup,
        defaults={
            "starts_on": starts_on,
            "ends_on": ends_on,
            "granted_by": actor if getattr(actor, "pk", None) else None,
        },
    )
    if created:
        audit.record(actor, "role_grant", grant, {"role": role, "scope": grant.scope_dict()})
    return grant


@transaction.atomic
def role_revoke(*, grant: RoleGrant, actor) -> None:
    """End a role grant today (kept for history)."""
    grant.ends_on = timezone.localdate() - timedelta(days=1)
    grant.save(update_fields=["ends_on"])
    audit.record(actor, "role_revoke", grant, {"role": grant.role, "scope": grant.scope_dict()})


def account_unlock(*, username: str, actor, request=None) -> int:
    """Clear django-axes failures for an account (secadmin)."""
    from axes.utils import reset

    count = reset(username=username)
    audit.record(
        actor, "account_unlock", ("core.user", username), {"attempts_cleared": count}, request=request
    )
    return count


@transaction.atomic
def holiday_add(*, day, kind: str, name: str, actor) -> Holiday:
    """Enter a holiday or a 调休 workday."""
    holiday = Holiday.objects.create(day=day, kind=kind, name=name, created_by=actor)
    audit.record(actor, "holiday_add", holiday, {"day": day.isoformat(), "kind": kind})
    return holiday


@transaction.atomic
def holiday_delete(*, holiday: Holiday, actor) -> None:
    """Remove an entered day."""
    audit.record(actor, "holiday_delete", holiday, {"day": holiday.day.isoformat(), "kind": holiday.kind})
    holiday.delete()
