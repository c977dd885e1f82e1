"""Sign-in, lockout, first-login password change, idle timeout, TOTP and role pages."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from sizheng.core.models import AuditEvent, Role
from sizheng.core.testing import TEST_PASSWORD, make_user

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def test_it_serves_a_chinese_login_page_with_a_nonce_csp(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    body = response.content.decode()
    assert "登录" in body and 'lang="zh-CN"' in body
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "'nonce-" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    # Every script carries the nonce; nothing is loaded from another host.
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert body.count("<script") == body.count(f'nonce="{nonce}"')
    assert 'src="http' not in body and 'href="http' not in body


def test_it_logs_in_and_writes_an_audit_row(client):
    user = make_user("alice")
    response = client.post(LOGIN, {"username": "alice", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk
    assert AuditEvent.objects.filter(actor=user, action="login").exists()


def test_it_rejects_a_wrong_password_with_422_and_a_chinese_message(client):
    make_user("alice")
    response = client.post(LOGIN, {"username": "alice", "password": "wrong"})
    assert response.status_code == 422
    assert "用户名或密码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_locks_the_account_after_five_failures_and_secadmin_unlocks_it(client):
    make_user("alice")
    for _ in range(5):
        client.post(LOGIN, {"username": "alice", "password": "wrong"})
    response = client.post(LOGIN, {"username": "alice", "password": TEST_PASSWORD})
    assert response.status_code == 403
    assert "已被锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session

    make_user("sec", Role.SECADMIN)
    client.force_login(make_user("sec2", Role.SECADMIN))
    page = client.get(reverse("core:lockouts"))
    assert "alice" in page.content.decode()
    response = client.post(reverse("core:unlock"), {"username": "alice"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="account_unlock", object_id="alice").exists()
    client.logout()
    response = client.post(LOGIN, {"username": "alice", "password": TEST_PASSWORD})
    assert response.status_code == 302


def test_it_hides_the_unlock_page_from_other_roles(client):
    client.force_login(make_user("aud", Role.AUDITOR))
    assert client.get(reverse("core:lockouts")).status_code == 404
    assert client.post(reverse("core:unlock"), {"username": "x"}).status_code == 404


def test_it_forces_a_password_change_at_first_login(client):
    user = make_user("newbie", must_change_password=True)
    client.post(LOGIN, {"username": "newbie", "password": TEST_PASSWORD})
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("core:password_change"))
    bad = client.post(
        reverse("core:password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert bad.status_code == 422
    assert "至少" in bad.content.decode() or "太短" in bad.content.decode()
    good = client.post(
        reverse("core:password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "Hong-Qi-2026!", "new_password2": "Hong-Qi-2026!"},
    )
    assert good.status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password("Hong-Qi-2026!")
    assert AuditEvent.objects.filter(actor=user, action="password_change").exists()
    assert client.get("/").status_code == 200


def test_it_refuses_a_password_of_one_character_class(client):
    make_user("bob")
    client.post(LOGIN, {"username": "bob", "password": TEST_PASSWORD})
    response = client.post(
        reverse("core:password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "abcdefghijkl", "new_password2": "abcdefghijkl"},
    )
    assert response.status_code == 422
    assert "至少三类" in response.content.decode()


def test_it_logs_out_an_idle_session(client, settings):
    settings.SESSION_IDLE_TIMEOUT = 60
    make_user("carol")
    client.post(LOGIN, {"username": "carol", "password": TEST_PASSWORD})
    assert client.get("/").status_code == 200
    session = client.session
    session["last_seen"] = int(time.time()) - 3600
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and "timeout=1" in response["Location"]
    assert client.get("/").status_code == 302  # really signed out


def test_it_only_logs_out_on_post(client):
    make_user("dave")
    client.post(LOGIN, {"username": "dave", "password": TEST_PASSWORD})
    assert client.get(reverse("core:logout")).status_code == 405
    assert client.post(reverse("core:logout")).status_code == 302
    assert client.get("/").status_code == 302


def test_it_requires_totp_for_system_roles_when_configured(client, settings):
    settings.OTP_REQUIRED_FOR_SYSTEM_ROLES = True
    user = make_user("sys", Role.SYSADMIN)
    client.post(LOGIN, {"username": "sys", "password": TEST_PASSWORD})
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == reverse("core:otp")
    page = client.get(reverse("core:otp"))
    assert "绑定认证器" in page.content.decode()
    device = TOTPDevice.objects.get(user=user)
    assert (
        client.post(
            reverse("core:otp"), {"token": "000000" if totp(device.bin_key) != 0 else "111111"}
        ).status_code
        == 422
    )
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # failures are throttled, as they should be
    device.throttle_reset()
    code = f"{totp(device.bin_key):06d}"
    assert client.post(reverse("core:otp"), {"token": code}).status_code == 302
    assert client.get("/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_it_does_not_require_totp_for_business_roles(client, settings):
    settings.OTP_REQUIRED_FOR_SYSTEM_ROLES = True
    make_user("sec_member", Role.MEMBER)
    client.post(LOGIN, {"username": "sec_member", "password": TEST_PASSWORD})
    assert client.get("/").status_code == 200


def test_it_shows_a_chinese_404_page(client):
    client.force_login(make_user("erin"))
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_it_revokes_api_tokens_when_the_password_changes(client):
    from sizheng.core.apitools import api_token_issue
    from sizheng.core.models import ApiToken

    user = make_user("frank")
    token, raw = api_token_issue(actor=user)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    client.force_login(user)
    client.post(
        reverse("core:password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "Hong-Qi-2026!", "new_password2": "Hong-Qi-2026!"},
    )
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    client.logout()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_it_lets_the_sysadmin_reset_a_password_once_and_audits_it(client):
    from sizheng.core.models import User

    sysadmin = make_user("sys", Role.SYSADMIN)
    target = make_user("gina")
    client.force_login(sysadmin)
    listing = client.get(reverse("core:accounts"), {"q": "gin"})
    assert "gina" in listing.content.decode() and 'sz-mono">sys<' not in listing.content.decode()
    response = client.post(reverse("core:account_action", args=[target.pk]), {"action": "reset"})
    assert response.status_code == 200
    password = response.context["password"]
    target = User.objects.get(pk=target.pk)
    assert target.check_password(password) and target.must_change_password
    assert AuditEvent.objects.filter(
        actor=sysadmin, action="password_reset", object_id=str(target.pk)
    ).exists()
    assert client.get(reverse("core:account_action", args=[target.pk])).status_code == 405


def test_it_disables_an_account_so_it_cannot_sign_in(client):
    sysadmin = make_user("sys", Role.SYSADMIN)
    target = make_user("hank")
    client.force_login(sysadmin)
    client.post(reverse("core:account_action", args=[target.pk]), {"action": "disable"})
    target.refresh_from_db()
    assert not target.is_active
    assert AuditEvent.objects.filter(action="user_disable", object_id=str(target.pk)).exists()
    own = client.post(reverse("core:account_action", args=[sysadmin.pk]), {"action": "disable"}, follow=True)
    assert "不能停用自己" in own.content.decode()
    client.logout()
    assert client.post(LOGIN, {"username": "hank", "password": TEST_PASSWORD}).status_code == 422


@pytest.mark.parametrize("role", [Role.SECADMIN, Role.AUDITOR, Role.COMMITTEE_ADMIN])
def test_it_hides_account_management_from_other_roles(client, role):
    target = make_user("ivy")
    client.force_login(make_user("x", role))
    assert client.get(reverse("core:accounts")).status_code == 404
    assert (
        client.post(reverse("core:account_action", args=[target.pk]), {"action": "reset"}).status_code == 404
    )


def test_it_creates_the_three_system_accounts_once():
    from django.core.management import call_command

    from sizheng.core.models import User

    call_command("create_system_accounts")
    call_command("create_system_accounts")
    users = User.objects.filter(username__in=["sysadmin", "secadmin", "auditor"])
    assert users.count() == 3 and all(u.must_change_password for u in users)
    assert {g.role for u in users for g in u.role_grants.all()} == {"sysadmin", "secadmin", "auditor"}
