"""Writes of the core: accounts, role grants, unlocks, holidays. Each one audited."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sizheng.core import audit
from sizheng.core.models import ApiToken, Holiday, Role, RoleGrant, User

# The three accounts of 三员分立: (username, role, display name).
SYSTEM_ACCOUNTS = [
    ("sysadmin", Role.SYSADMIN, "系统管理员"),
    ("secadmin", Role.SECADMIN, "安全管理员"),
    ("auditor", Role.AUDITOR, "安全审计员"),
]


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
    """Grant a role over a scope (idempotent; a revoked grant is reopened)."""
    grant, created = RoleGrant.objects.get_or_create(
        user=user,
        role=role,
        scope_kind=scope_kind,
        scope_id=scope_id,
        is_backup=is_backup,
        source="manual",
        source_id=None,
        defaults={
            "starts_on": starts_on,
            "ends_on": ends_on,
            "granted_by": actor if getattr(actor, "pk", None) else None,
        },
    )
    if created:
        audit.record(actor, "role_grant", grant, {"role": role, "scope": grant.scope_dict()})
    elif (grant.starts_on, grant.ends_on) != (starts_on, ends_on):
        grant.starts_on, grant.ends_on = starts_on, ends_on
        grant.save(update_fields=["starts_on", "ends_on"])
        audit.record(actor, "role_grant_reopen", grant, {"role": role, "scope": grant.scope_dict()})
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


def initial_password() -> str:
    """A random initial password that satisfies the policy (shown once, changed at first login)."""
    import secrets
    import string

    alphabet = string.ascii_letters + string.digits
    while True:
        body = "".join(secrets.choice(alphabet) for _ in range(11))
        if (
            any(c.isupper() for c in body)
            and any(c.islower() for c in body)
            and any(c.isdigit() for c in body)
        ):
            return body + secrets.choice("@#%&*")


@transaction.atomic
def user_reset_password(*, user: User, actor, request=None) -> str:
    """Give an account a new initial password (returned once) that must be changed at next login."""
    password = initial_password()
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit.record(actor, "password_reset", user, request=request)
    return password


@transaction.atomic
def user_set_active(*, user: User, active: bool, actor, request=None) -> None:
    """Disable or re-enable an account (a disabled account cannot sign in or use tokens)."""
    if user.pk == getattr(actor, "pk", None) and not active:
        raise ValidationError("不能停用自己正在使用的账号。")
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit.record(actor, "user_enable" if active else "user_disable", user, request=request)


@transaction.atomic
def system_accounts_create(*, actor=None) -> list[tuple[str, str, str]]:
    """Create the three system accounts of 三员分立 once; returns (username, role, initial password)."""
    created = []
    for username, role, name in SYSTEM_ACCOUNTS:
        if User.objects.filter(username=username).exists():
            continue
        password = initial_password()
        user = User.objects.create_user(
            username=username, password=password, display_name=name, must_change_password=True
        )
        role_grant(user=user, role=role, scope_kind=RoleGrant.ScopeKind.SYSTEM, actor=actor)
        created.append((username, role, password))
    return created
