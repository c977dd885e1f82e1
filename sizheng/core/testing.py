"""Test helpers of the core (the persona cast of org/testing.py builds on these)."""

from __future__ import annotations

import os

import pytest

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


def required(flag: str) -> bool:
    """Whether CI demands what a test needs (``flag`` set to 1/true/yes): then it may not skip."""
    return os.environ.get(flag, "").strip().lower() in {"1", "true", "yes"}


def skip_unless_required(flag: str, reason: str) -> None:
    """Skip for want of a tool or a server on a developer's machine, but fail where ``flag`` says the
    run must have it (.ci/run sets SIZHENG_REQUIRE_BROWSER and SIZHENG_REQUIRE_POSTGRES), so a
    test that CI relies on can never pass there by skipping."""
    if required(flag):
        pytest.fail(f"{reason}（{flag}=1，因此视为失败）", pytrace=False)
    pytest.skip(reason)
