"""The API skeleton: tokens and lockout, /me, the error shape, throttling, paging, OpenAPI and docs.

Besides the real API at /api/v1/, a few tests mount a throwaway API (``build_api`` with a test
router, at /t-api/v1/) through ``@pytest.mark.urls(__name__)``: its endpoints raise each kind of
error and page a queryset, which the core endpoints alone cannot show.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from ninja import Router, Schema
from ninja.pagination import paginate
from pydantic import ValidationError as PydanticValidationError

from sizheng.core.api import _import_router, build_api
from sizheng.core.apitools import (
    MSG_BAD_CREDENTIALS,
    MSG_CONFLICT,
    MSG_CSRF,
    MSG_FORBIDDEN,
    MSG_LOCKED,
    MSG_MUST_CHANGE_PASSWORD,
    MSG_NOT_FOUND,
    MSG_OTP_REQUIRED,
    MSG_SERVER,
    MSG_THROTTLED,
    MSG_UNAUTHENTICATED,
    Conflict,
    Paged,
    api_token_issue,
    pydantic_error_message,
    stable_order,
    translate_errors,
)
from sizheng.core.models import ApiToken, AuditEvent, RoleGrant

PASSWORD = "Pw-Sizheng-2026"
TOKEN_URL = "/api/v1/auth/token"
ME_URL = "/api/v1/me"
TOKENS_URL = "/api/v1/auth/tokens"
CJK = re.compile(r"[\u3400-\u9fff]")


# --- the throwaway API (mounted only by tests marked urls(__name__)) ----------------------

test_router = Router(tags=["测试"])


class EchoIn(Schema):
    """A body with one required text field."""

    text: str


class UserOut(Schema):
    """A user as a list item."""

    id: int
    username: str


@test_router.get("/conflict")
def raise_conflict(request):
    """409 with the default sentence."""
    raise Conflict()


@test_router.get("/forbidden")
def raise_permission_denied(request):
    """403 with the default sentence."""
    raise PermissionDenied


@test_router.get("/forbidden-why")
def raise_permission_denied_with_reason(request):
    """403 with the exception's own sentence."""
    raise PermissionDenied("只有本支部书记可以修改会议记录。")


@test_router.get("/missing")
def raise_does_not_exist(request):
    """404 from a failed .get()."""
    get_user_model().objects.get(pk=-1)


@test_router.get("/invalid")
def raise_django_validation_error(request):
    """422 from a service's ValidationError."""
    raise DjangoValidationError({"title": ["标题不能为空。"]})


@test_router.post("/boom")
def raise_unexpected(request, payload: EchoIn):
    """500: a bug."""
    raise RuntimeError("boom")


@test_router.post("/echo")
def echo(request, payload: EchoIn):
    """An unsafe method: the session path needs CSRF."""
    return {"text": payload.text, "user": request.user.get_username()}


@test_router.get("/users", response=list[UserOut])
@paginate(Paged)
def list_users(request):
    """A paginated list with a non-unique ordering (the pk tiebreaker makes it stable)."""
    return get_user_model().objects.order_by("is_active")


urlpatterns = [path("t-api/v1/", build_api(routers=[("t", test_router)], urls_namespace="t-api").urls)]


# --- helpers -------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """Throttle history lives in the cache: every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def user(django_user_model):
    """An ordinary active user."""
    return django_user_model.objects.create_user(username="zhangsan", password=PASSWORD, display_name="张三")


def post_token(client, username, password, **extra):
    """POST the token endpoint with a JSON body."""
    body = {"username": username, "password": password, **extra}
    return client.post(TOKEN_URL, json.dumps(body), content_type="application/json")


def bearer(token: str) -> dict:
    """Headers for a bearer-token request."""
    return {"Authorization": f"Bearer {token}"}


def assert_error(response, status: int, detail: str | None = None) -> dict:
    """The response is the one error shape with this status (and sentence, when given)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["errors"], list)
    assert CJK.search(body["detail"]), body["detail"]
    if detail is not None:
        assert body["detail"] == detail
    return body


# --- tokens --------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_issues_a_token_that_works_until_revoked(client, user):
    """Issue → use on /me → revoke (204) → the same token now gets 401."""
    response = post_token(client, "zhangsan", PASSWORD)

    assert response.status_code == 200, response.content
    body = response.json()
    raw = body["token"]
    assert len(raw) >= 40
    stored = ApiToken.objects.get(user=user)
    assert stored.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert stored.prefix == raw[:8]
    assert raw not in {stored.digest, stored.prefix}
    assert abs(stored.expires_at - (stored.created_at + timedelta(days=30))) < timedelta(seconds=1)
    assert body["expires_at"].startswith(timezone.localtime(stored.expires_at).isoformat()[:19])
    issued = AuditEvent.objects.get(action="api_token_issued")
    assert (issued.actor, issued.object_id) == (user, str(stored.pk))
    assert raw not in json.dumps(issued.detail)

    me = client.get(ME_URL, headers=bearer(raw))
    assert me.status_code == 200
    assert me.json()["username"] == "zhangsan"

    revoked = client.delete(TOKEN_URL, headers=bearer(raw))
    assert revoked.status_code == 204
    stored.refresh_from_db()
    assert stored.revoked_at is not None
    assert AuditEvent.objects.filter(
        action="api_token_revoked", object_id=str(stored.pk), actor=user
    ).exists()

    after = client.get(ME_URL, headers=bearer(raw))
    assert_error(after, 401, MSG_UNAUTHENTICATED)
    assert after["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_it_refuses_wrong_credentials_unknown_users_and_inactive_users(client, user, django_user_model):
    """Wrong password, unknown user and inactive user all get the same 401 sentence, and no token."""
    django_user_model.objects.create_user(username="gone", password=PASSWORD, is_active=False)

    for username, password in [("zhangsan", "wrong-password"), ("nobody", PASSWORD), ("gone", PASSWORD)]:
        assert_error(post_token(client, username, password), 401, MSG_BAD_CREDENTIALS)

    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_it_locks_the_account_after_five_failures_even_for_the_right_password(client, user):
    """Four failures → 401; the fifth locks (403); the sixth, with the right password, is refused."""
    for _ in range(4):
        assert_error(post_token(client, "zhangsan", "wrong-password"), 401, MSG_BAD_CREDENTIALS)

    assert_error(post_token(client, "zhangsan", "wrong-password"), 403, MSG_LOCKED)
    locked = post_token(client, "zhangsan", PASSWORD)

    assert_error(locked, 403, MSG_LOCKED)
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_it_locks_the_login_form_after_failures_on_the_api(client, user, django_user_model):
    """Cross-check with the lead's login form (sizheng.core.views.LoginView): one lockout for both.

    Five wrong passwords on the API, then the right password on /accounts/login/ shows the
    lockout page and logs nobody in; another user still logs in through the same form.
    """
    django_user_model.objects.create_user(username="lisi", password=PASSWORD)
    for _ in range(5):
        post_token(client, "zhangsan", "wrong-password")

    response = client.post("/accounts/login/", {"username": "zhangsan", "password": PASSWORD})

    assert response.status_code == 403
    assert "锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    control = Client()
    assert control.post("/accounts/login/", {"username": "lisi", "password": PASSWORD}).status_code == 302
    assert "_auth_user_id" in control.session


@pytest.mark.django_db
def test_it_clears_the_failure_count_after_the_right_password(client, user):
    """As on the form (AXES_RESET_ON_SUCCESS): four failures, a success, four more — still not locked."""
    for _ in range(4):
        post_token(client, "zhangsan", "wrong-password")
    assert post_token(client, "zhangsan", PASSWORD).status_code == 200

    for _ in range(4):
        assert_error(post_token(client, "zhangsan", "wrong-password"), 401, MSG_BAD_CREDENTIALS)
    assert post_token(client, "zhangsan", PASSWORD).status_code == 200


@pytest.mark.django_db
def test_it_refuses_a_token_until_the_first_login_password_is_changed(client, django_user_model):
    """A user who must change the password gets 403 and no token."""
    django_user_model.objects.create_user(username="newbie", password=PASSWORD, must_change_password=True)

    assert_error(post_token(client, "newbie", PASSWORD), 403, MSG_MUST_CHANGE_PASSWORD)
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_it_stops_honouring_tokens_once_the_password_must_be_changed(client, user):
    """A token issued before an administrator forced a password change answers 403."""
    _, raw = api_token_issue(actor=user)
    user.must_change_password = True
    user.save(update_fields=["must_change_password"])

    assert_error(client.get(ME_URL, headers=bearer(raw)), 403, MSG_MUST_CHANGE_PASSWORD)


@pytest.mark.django_db
def test_it_requires_a_totp_code_from_system_roles_where_configured(client, settings, django_user_model):
    """With OTP required, a sysadmin gets a token only with a valid TOTP code."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.OTP_REQUIRED_FOR_SYSTEM_ROLES = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp would otherwise hold the next code back a second
    admin = django_user_model.objects.create_user(username="sysadmin1", password=PASSWORD)
    RoleGrant.objects.create(user=admin, role="sysadmin", scope_kind="system")
    device = TOTPDevice.objects.create(user=admin, name="手机", confirmed=True)

    assert_error(post_token(client, "sysadmin1", PASSWORD), 401, MSG_OTP_REQUIRED)
    assert_error(post_token(client, "sysadmin1", PASSWORD, otp="000000x"), 401, MSG_OTP_REQUIRED)
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"
    assert post_token(client, "sysadmin1", PASSWORD, otp=code).status_code == 200


@pytest.mark.django_db
def test_it_rejects_an_expired_token(client, user):
    """A token past expires_at gets 401."""
    token, raw = api_token_issue(actor=user)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert_error(client.get(ME_URL, headers=bearer(raw)), 401, MSG_UNAUTHENTICATED)


@pytest.mark.django_db
def test_it_rejects_unknown_tokens_and_tokens_of_inactive_users(client, user):
    """A made-up token, a non-bearer scheme, and the token of a deactivated user all get 401."""
    _, raw = api_token_issue(actor=user)

    assert_error(client.get(ME_URL, headers=bearer("not-a-token")), 401)
    assert_error(client.get(ME_URL, headers={"Authorization": f"Token {raw}"}), 401)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert_error(client.get(ME_URL, headers=bearer(raw)), 401)


@pytest.mark.django_db
def test_it_records_token_use_at_most_once_a_minute(client, user):
    """last_used_at moves on the first use and then only after a minute."""
    with time_machine.travel("2026-03-02 09:00:00 +08:00", tick=False) as traveller:
        token, raw = api_token_issue(actor=user)
        client.get(ME_URL, headers=bearer(raw))
        token.refresh_from_db()
        first = token.last_used_at
        assert first == timezone.now()

        traveller.shift(timedelta(seconds=30))
        client.get(ME_URL, headers=bearer(raw))
        token.refresh_from_db()
        assert token.last_used_at == first

        traveller.shift(timedelta(seconds=31))
        client.get(ME_URL, headers=bearer(raw))
        token.refresh_from_db()
        assert token.last_used_at == timezone.now()


@pytest.mark.django_db
def test_it_refuses_revocation_without_a_token(client, user):
    """DELETE /auth/token revokes the calling token: a session alone has none to revoke (401)."""
    client.force_login(user)

    assert_error(client.delete(TOKEN_URL), 401)


@pytest.mark.django_db
def test_it_lists_only_the_callers_tokens_paged(client, user, django_user_model):
    """GET /auth/tokens: the caller's tokens newest first, paged, without secrets."""
    other = django_user_model.objects.create_user(username="other", password=PASSWORD)
    api_token_issue(actor=other)
    mine = [api_token_issue(actor=user) for _ in range(3)]
    for minutes, (token, _) in enumerate(mine):
        ApiToken.objects.filter(pk=token.pk).update(
            created_at=timezone.now() - timedelta(minutes=10 - minutes)
        )
    raw = mine[-1][1]

    response = client.get(TOKENS_URL, {"limit": 2}, headers=bearer(raw))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [item["id"] for item in body["items"]] == [mine[2][0].pk, mine[1][0].pk]
    assert "digest" not in body["items"][0]
    assert raw not in response.content.decode()


@pytest.mark.django_db
def test_it_lists_tokens_in_a_constant_number_of_queries(client, user):
    """The token list's query count does not grow with the number of tokens."""
    raw = api_token_issue(actor=user)[1]
    client.get(TOKENS_URL, headers=bearer(raw))  # the first use writes last_used_at

    with CaptureQueriesContext(connection) as few:
        assert client.get(TOKENS_URL, headers=bearer(raw)).status_code == 200
    for _ in range(20):
        api_token_issue(actor=user)
    with CaptureQueriesContext(connection) as many:
        assert client.get(TOKENS_URL, {"limit": 5}, headers=bearer(raw)).status_code == 200

    assert len(many) == len(few) + 1  # + the COUNT a full page needs; a short page counts itself


# --- /me and the session path ----------------------------------------------------------


@pytest.mark.django_db
def test_it_shows_the_roles_in_force_on_me(client, user):
    """/me lists the grants in force with their Chinese labels and scopes, and no ended grant."""
    RoleGrant.objects.create(user=user, role="committee_admin", scope_kind="all")
    RoleGrant.objects.create(user=user, role="counselor", scope_kind="org", scope_id=12, is_backup=True)
    RoleGrant.objects.create(
        user=user,
        role="secretary",
        scope_kind="org",
        scope_id=7,
        ends_on=timezone.localdate() - timedelta(days=1),
    )
    _, raw = api_token_issue(actor=user)

    body = client.get(ME_URL, headers=bearer(raw)).json()

    assert body == {
        "username": "zhangsan",
        "display_name": "张三",
        "person_id": None,
        "roles": [
            {"role": "committee_admin", "label": "机关工委", "scope": {"kind": "all"}},
            {"role": "counselor", "label": "心理咨询员", "scope": {"kind": "org", "id": 12, "backup": True}},
        ],
    }


@pytest.mark.django_db
def test_it_accepts_the_browser_session(client, user):
    """A logged-in browser session reaches /me without a token."""
    client.force_login(user)

    response = client.get(ME_URL)

    assert response.status_code == 200
    assert response.json()["username"] == "zhangsan"


@pytest.mark.django_db
def test_it_refuses_a_session_that_must_change_the_password(client, django_user_model):
    """The account guard lets /api/ through, so the API itself refuses such a session."""
    newbie = django_user_model.objects.create_user(
        username="newbie", password=PASSWORD, must_change_password=True
    )
    client.force_login(newbie)

    assert_error(client.get(ME_URL), 403, MSG_MUST_CHANGE_PASSWORD)


@pytest.mark.django_db
def test_it_refuses_an_unverified_session_of_a_system_role_where_totp_is_required(client, settings, user):
    """A sysadmin session without TOTP verification counts as not logged in (401)."""
    settings.OTP_REQUIRED_FOR_SYSTEM_ROLES = True
    RoleGrant.objects.create(user=user, role="sysadmin", scope_kind="system")
    client.force_login(user)

    assert_error(client.get(ME_URL), 401)


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_it_requires_csrf_for_unsafe_session_requests(user):
    """Session + POST without the CSRF header → 403; with it → 200; a token needs no CSRF."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    browser.get("/t-api/v1/docs")  # sets the csrftoken cookie
    body = json.dumps({"text": "你好"})

    refused = browser.post("/t-api/v1/t/echo", body, content_type="application/json")
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post(
        "/t-api/v1/t/echo", body, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    raw = api_token_issue(actor=user)[1]
    by_token = Client(enforce_csrf_checks=True).post(
        "/t-api/v1/t/echo", body, content_type="application/json", headers=bearer(raw)
    )

    assert_error(refused, 403, MSG_CSRF)
    assert accepted.status_code == 200
    assert accepted.json() == {"text": "你好", "user": "zhangsan"}
    assert by_token.status_code == 200


@pytest.mark.django_db
def test_it_answers_401_without_credentials(client):
    """No token and no session: 401 in the error shape (not a CSRF 403)."""
    assert_error(client.get(ME_URL), 401, MSG_UNAUTHENTICATED)
    assert_error(client.delete(TOKEN_URL), 401, MSG_UNAUTHENTICATED)


# --- the error shape -------------------------------------------------------------------


@pytest.mark.django_db
def test_it_answers_422_in_chinese_for_a_missing_body(client):
    """POST /auth/token with {} → 422 naming both missing fields in Chinese."""
    response = client.post(TOKEN_URL, "{}", content_type="application/json")

    body = assert_error(response, 422)
    assert {(e["loc"][-1], e["message"]) for e in body["errors"]} == {
        ("username", "此项为必填项。"),
        ("password", "此项为必填项。"),
    }
    assert response.content.decode().count("此项为必填项") == 2  # UTF-8 text, not \\u escapes


@pytest.mark.django_db
def test_it_answers_422_for_wrong_types_and_400_for_broken_json(client):
    """A number where text belongs → 422 "应为文本。"; unparsable JSON → 400."""
    wrong = client.post(
        TOKEN_URL, json.dumps({"username": 123, "password": "x"}), content_type="application/json"
    )
    broken = client.post(TOKEN_URL, "{not json", content_type="application/json")

    assert [e["message"] for e in assert_error(wrong, 422)["errors"]] == ["应为文本。"]
    assert_error(broken, 400, "请求内容不是有效的 JSON。")


@pytest.mark.django_db
def test_it_answers_404_and_405_in_the_error_shape(client):
    """An unknown path, the API root and a wrong method all answer JSON, never an HTML page."""
    assert_error(client.get("/api/v1/no-such-thing"), 404, MSG_NOT_FOUND)
    assert_error(client.get("/api/v1/"), 404, MSG_NOT_FOUND)
    assert_error(Client(enforce_csrf_checks=True).post("/api/v1/no-such-thing"), 404, MSG_NOT_FOUND)
    wrong_method = client.get(TOKEN_URL)
    assert_error(wrong_method, 405)
    assert set(wrong_method["Allow"].replace(" ", "").split(",")) == {"POST", "DELETE"}


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_it_maps_each_exception_to_its_status_and_sentence(client, user):
    """Conflict 409, PermissionDenied 403 (own sentence when it has one), DoesNotExist 404, ValidationError 422."""
    client.force_login(user)

    assert_error(client.get("/t-api/v1/t/conflict"), 409, MSG_CONFLICT)
    assert_error(client.get("/t-api/v1/t/forbidden"), 403, MSG_FORBIDDEN)
    assert_error(client.get("/t-api/v1/t/forbidden-why"), 403, "只有本支部书记可以修改会议记录。")
    assert_error(client.get("/t-api/v1/t/missing"), 404, MSG_NOT_FOUND)
    invalid = assert_error(client.get("/t-api/v1/t/invalid"), 422)
    assert invalid["errors"] == [{"loc": ["title"], "message": "标题不能为空。"}]


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_it_answers_500_and_logs_without_the_request_body(client, user, caplog):
    """An unexpected exception: 500 in the error shape, logged with method and path, never the body."""
    client.force_login(user)
    secret = "谈话内容不得进日志"

    with caplog.at_level(logging.ERROR, logger="sizheng.api"):
        response = client.post(
            "/t-api/v1/t/boom", json.dumps({"text": secret}), content_type="application/json", headers={}
        )

    assert_error(response, 500, MSG_SERVER)
    assert "/t-api/v1/t/boom" in caplog.text
    assert "RuntimeError" in caplog.text
    assert secret not in caplog.text


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"type": "missing", "loc": ("body", "x")}, "此项为必填项。"),
        ({"type": "string_type", "loc": ()}, "应为文本。"),
        ({"type": "int_parsing", "loc": ()}, "应为整数。"),
        ({"type": "greater_than_equal", "ctx": {"ge": 1}}, "不得小于 1。"),
        ({"type": "less_than_equal", "ctx": {"le": 500.0}}, "不得大于 500。"),
        ({"type": "string_too_long", "ctx": {"max_length": 150}}, "不得超过 150 个字符。"),
        (
            {"type": "value_error", "ctx": {"error": "结束日期不能早于开始日期。"}},
            "结束日期不能早于开始日期。",
        ),
        ({"type": "value_error", "ctx": {"error": "end before start"}}, "格式不正确。"),
        ({"type": "something_new"}, "格式不正确。"),
        ({"type": "greater_than_equal", "ctx": {}}, "格式不正确。"),
    ],
)
def test_it_translates_pydantic_errors_to_chinese(error, expected):
    """Common pydantic error types become Chinese sentences; anything else the generic one."""
    assert pydantic_error_message(error) == expected


@given(
    kind=st.text(max_size=30),
    ctx=st.dictionaries(
        st.sampled_from(["ge", "le", "gt", "lt", "min_length", "max_length", "error"]), st.integers()
    ),
)
def test_it_always_produces_one_chinese_sentence(kind, ctx):
    """Whatever the error type and context, the message is a Chinese sentence ending with 。."""
    message = pydantic_error_message({"type": kind, "loc": ("query", "x"), "ctx": ctx})

    assert CJK.search(message)
    assert message.endswith("。")


# --- throttling --------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_throttles_the_token_endpoint_per_client(client, settings, user):
    """Beyond API_THROTTLE_ANON the token endpoint answers 429 with Retry-After."""
    settings.API_THROTTLE_ANON = "2/min"

    statuses = [post_token(client, "zhangsan", "wrong-password").status_code for _ in range(2)]
    throttled = post_token(client, "zhangsan", PASSWORD)

    assert statuses == [401, 401]
    assert_error(throttled, 429, MSG_THROTTLED)
    assert int(throttled["Retry-After"]) > 0
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_it_throttles_authenticated_calls_per_user(client, settings, user, django_user_model):
    """Beyond API_THROTTLE_AUTH a user gets 429; another user is not affected."""
    settings.API_THROTTLE_AUTH = "3/min"
    raw = api_token_issue(actor=user)[1]
    other_user = django_user_model.objects.create_user(username="other", password=PASSWORD)
    other = api_token_issue(actor=other_user)[1]

    statuses = [client.get(ME_URL, headers=bearer(raw)).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert_error(client.get(ME_URL, headers=bearer(raw)), 429, MSG_THROTTLED)
    assert client.get(ME_URL, headers=bearer(other)).status_code == 200


@pytest.mark.django_db
def test_it_ignores_a_forged_forwarded_for_header(client, settings, user):
    """Without configured proxies the client's X-Forwarded-For does not open a fresh allowance."""
    settings.API_THROTTLE_ANON = "1/min"
    post_token(client, "zhangsan", "wrong-password")

    forged = client.post(
        TOKEN_URL,
        json.dumps({"username": "zhangsan", "password": PASSWORD}),
        content_type="application/json",
        headers={"X-Forwarded-For": "203.0.113.9"},
    )

    assert_error(forged, 429, MSG_THROTTLED)


# --- paging ------------------------------------------------------------------------------


@pytest.fixture
def seven_users(django_user_model):
    """Seven users, created in a known order."""
    return [django_user_model.objects.create_user(username=f"u{i}", password=PASSWORD) for i in range(7)]


@pytest.mark.django_db
def test_it_pages_a_queryset_with_count_and_stable_order(seven_users, django_user_model):
    """limit=3 offset=3 over 7 users: count 7, the 4th–6th by pk."""
    paged = Paged().paginate_queryset(django_user_model.objects.all(), Paged.Input(limit=3, offset=3))

    assert paged["count"] == 7
    assert [u.pk for u in paged["items"]] == [u.pk for u in seven_users[3:6]]


@pytest.mark.django_db
def test_it_never_repeats_or_skips_rows_across_pages_of_a_tied_ordering(seven_users, django_user_model):
    """Ordered by a column with ties, the pages still cover every row exactly once."""
    queryset = django_user_model.objects.order_by("-is_active")
    pages = [
        Paged().paginate_queryset(queryset, Paged.Input(limit=3, offset=offset))["items"]
        for offset in (0, 3, 6)
    ]

    seen = [u.pk for page in pages for u in page]
    assert sorted(seen) == sorted(u.pk for u in seven_users)
    assert seen == sorted(seen)


@pytest.mark.django_db
def test_it_counts_past_the_end_and_on_the_last_page(seven_users, django_user_model):
    """An offset past the end gives no items and the true count; a short last page too."""
    queryset = django_user_model.objects.all()

    past = Paged().paginate_queryset(queryset, Paged.Input(limit=3, offset=20))
    last = Paged().paginate_queryset(queryset, Paged.Input(limit=3, offset=6))

    assert (past["count"], past["items"]) == (7, [])
    assert (last["count"], len(last["items"])) == (7, 1)


def test_it_adds_the_primary_key_as_the_last_ordering_term(django_user_model):
    """pk is appended unless the ordering already has it; the model's default ordering is kept."""
    assert stable_order(django_user_model.objects.order_by("-is_active")).query.order_by == (
        "-is_active",
        "pk",
    )
    assert stable_order(django_user_model.objects.order_by("username", "-id")).query.order_by == (
        "username",
        "-id",
    )
    assert stable_order(AuditEvent.objects.all()).query.order_by == ("-at", "-id")
    assert stable_order(django_user_model.objects.all()).query.order_by == ("pk",)
    assert stable_order([3, 1, 2]) == [3, 1, 2]


@pytest.mark.parametrize(
    ("params", "message"),
    [({"limit": 0}, "不得小于 1。"), ({"limit": 501}, "不得大于 500。"), ({"offset": -1}, "不得小于 0。")],
)
def test_it_validates_the_paging_parameters(params, message):
    """limit must be 1–500 and offset ≥ 0, with Chinese messages."""
    with pytest.raises(PydanticValidationError) as caught:
        Paged.Input(**params)

    assert [e["message"] for e in translate_errors(caught.value.errors())] == [message]


def test_it_defaults_to_fifty_rows_from_the_start():
    """Without parameters: limit 50, offset 0."""
    assert (Paged.Input().limit, Paged.Input().offset) == (50, 0)


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_it_pages_a_list_endpoint_and_rejects_bad_limits(client, seven_users):
    """Through HTTP: {"count", "items"} and a 422 with Chinese messages for a bad limit or offset."""
    client.force_login(seven_users[0])

    page = client.get("/t-api/v1/t/users", {"limit": 3, "offset": 3})
    too_small = client.get("/t-api/v1/t/users", {"limit": 0})
    too_big = client.get("/t-api/v1/t/users", {"limit": 501})
    negative = client.get("/t-api/v1/t/users", {"offset": -1})

    assert page.status_code == 200
    assert list(page.json()) == ["count", "items"]
    assert page.json()["count"] == 7
    assert [i["username"] for i in page.json()["items"]] == ["u3", "u4", "u5"]
    assert assert_error(too_small, 422)["errors"] == [{"loc": ["query", "limit"], "message": "不得小于 1。"}]
    assert assert_error(too_big, 422)["errors"] == [{"loc": ["query", "limit"], "message": "不得大于 500。"}]
    assert assert_error(negative, 422)["errors"] == [{"loc": ["query", "offset"], "message": "不得小于 0。"}]


# --- assembly, OpenAPI and docs ------------------------------------------------------------


def test_it_skips_apps_without_an_api_module_but_not_broken_ones():
    """A missing app module is skipped; a module without a Router is a configuration error."""
    assert _import_router("sizheng.nosuchapp.api.router") is None
    assert _import_router("sizheng.core.api.router") is not None
    with pytest.raises(ImproperlyConfigured):
        _import_router("sizheng.core.apitools.router")


def test_it_mounts_app_routers_given_to_build_api():
    """build_api mounts the routers it is given after the core router."""
    api = build_api(routers=[("t", test_router)], urls_namespace="t-api-mount")

    paths = api.get_openapi_schema(path_prefix="/x/")["paths"]

    assert {"/x/me", "/x/auth/token", "/x/t/users"} <= set(paths)


@pytest.mark.django_db
def test_it_serves_the_openapi_document(client):
    """/api/v1/openapi.json lists the core endpoints under the API's title and version."""
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "思政平台 API"
    assert schema["info"]["version"] == "1"
    assert {"/api/v1/me", "/api/v1/auth/token", "/api/v1/auth/tokens"} <= set(schema["paths"])
    assert schema["paths"]["/api/v1/auth/token"]["post"].get("security") in (None, [])
    assert {"TokenAuth", "SessionAuth"} <= set(schema["components"]["securitySchemes"])


@pytest.mark.django_db
def test_it_serves_the_docs_page_from_this_server_only(client):
    """The docs page loads nothing from another host and has no inline script (nonce CSP)."""
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE)
    for attrs, code in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.DOTALL | re.IGNORECASE):
        executable = "application/json" not in attrs
        assert not (executable and code.strip()), f"inline script without a src: {attrs}"
    assert '"validatorUrl": null' in html


@pytest.mark.browser
def test_it_renders_the_docs_page_under_the_content_security_policy(page):
    """Swagger UI renders in chromium with the site's CSP: no violation, no external request."""
    from playwright.sync_api import expect

    response = page.goto("/api/v1/docs")

    assert "script-src" in response.headers.get("content-security-policy", "")
    # Swagger UI builds the page in JavaScript: allow for a slow, loaded CI machine.
    expect(page.locator(".swagger-ui .title").first).to_contain_text("思政平台 API", timeout=30_000)
    expect(page.get_by_text("/api/v1/auth/token").first).to_be_visible()
