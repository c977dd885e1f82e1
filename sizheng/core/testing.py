"""Test helpers of the core (the persona cast of org/testing.py builds on these)."""

from __future__ import annotations

from sizheng.core.models import RoleGrant, User

TEST_PASSWORD = "Test-Pass-2026"


def make_user(username: str, *roles: str, password: str = TEST_PASSWORD, **extra) -> User:
    """A user holding system-wide grants of ``roles`` (scope "all"/"system")."""
    user = User.objects.create_user(username=username, password=password, **extra)
    for role in roles:
        kind = (
            RoleGrant.ScopeKind.SYSTEM
            if role in ("sysadmin", "secadmin", "auditor")
            else RoleGrant.ScopeKind.ALL
        )
        RoleGrant.objects.create(user=user, role=role, scope_kind=kind)
    return user
