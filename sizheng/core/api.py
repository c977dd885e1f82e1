"""The API's assembly (``build_api``) and the core endpoints: tokens and ``/me``.

An app exposes a ninja ``Router`` named ``router`` in ``sizheng/<app>/api.py``; ``APP_ROUTERS``
mounts it under ``/api/v1/<prefix>/``. A line for each planned app is already there: an app whose
``api.py`` does not exist yet is skipped, so adding the file is enough (edit the prefix here if
the app wants another one).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import authenticate
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponseNotAllowed
from django.urls import path, re_path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django_otp import devices_for_user
from ninja import Field, NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.openapi.docs import Swagger
from ninja.pagination import paginate
from ninja.renderers import JSONRenderer
from ninja.responses import Status

from sizheng.core.apitools import (
    MSG_BAD_CREDENTIALS,
    MSG_LOCKED,
    MSG_METHOD,
    MSG_MUST_CHANGE_PASSWORD,
    MSG_NOT_FOUND,
    MSG_OTP_REQUIRED,
    AnonThrottle,
    AuthThrottle,
    ErrorOut,
    Paged,
    TokenAuth,
    api_auth,
    api_token_issue,
    api_token_revoke,
    error_response,
    install_error_handlers,
    otp_required_for,
)
from sizheng.core.models import ApiToken

API_TITLE = "思政平台 API"
API_VERSION = "1"
API_DESCRIPTION = (
    "思政平台的数据接口。认证方式：先以 `POST /api/v1/auth/token` 用账号和密码申请令牌，"
    "此后每个请求带上 `Authorization: Bearer <令牌>`；在本站网页内也可直接使用登录会话"
    "（修改类请求须带 `X-CSRFToken`）。所有列表接口以 `limit`、`offset` 分页，返回 "
    '`{"count": 总数, "items": [...]}`；所有错误返回 `{"detail": "说明", "errors": [...]}`。'
)

#: (URL prefix, dotted path of a ninja Router) for each app, mounted in this order.
APP_ROUTERS: list[tuple[str, str]] = [
    ("", "sizheng.org.api.router"),  # /orgs and /people
    ("duties", "sizheng.duties.api.router"),
    ("", "sizheng.life.api.router"),  # /meetings and /compliance
    ("study", "sizheng.study.api.router"),
    ("", "sizheng.talks.api.router"),  # /talks
    ("", "sizheng.care.api.router"),  # /care-cases
    ("", "sizheng.care.api_wellbeing.router"),  # /wellbeing/...
    ("", "sizheng.insight.api.router"),  # /surveys
    ("", "sizheng.insight.api_results.router"),  # /surveys/{id}/groups, /surveys/{id}/results
    ("funds", "sizheng.funds.api.router"),
    ("team", "sizheng.team.api.router"),
    ("volunteering", "sizheng.volunteer.api.router"),
    ("library", "sizheng.library.api.router"),
    ("assess", "sizheng.assess.api.router"),
    ("assess", "sizheng.assess.api_rounds.router"),  # /assess/rounds/...
    ("dashboard", "sizheng.dashboard.api.router"),
    ("notices", "sizheng.notices.api.router"),
    ("search", "sizheng.search.api.router"),
]

RouterSpec = tuple[str, "str | Router"]


# --- schemas -----------------------------------------------------------------------


class TokenIn(Schema):
    """Credentials for a token; ``otp`` only for system roles where TOTP is required."""

    username: str = Field(..., min_length=1, max_length=150, description="用户名")
    password: str = Field(..., min_length=1, max_length=4096, description="密码")
    otp: str | None = Field(None, max_length=16, description="动态口令（仅系统管理类账号需要）")


class TokenOut(Schema):
    """A new token: shown once, only its digest is stored."""

    token: str
    expires_at: datetime


class TokenInfoOut(Schema):
    """One of the caller's tokens, without the secret."""

    id: int
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    is_active: bool


class RoleOut(Schema):
    """A role grant in force: the role, its Chinese label and its scope."""

    role: str
    label: str
    scope: dict[str, Any]


class MeOut(Schema):
    """The caller: account, linked person (when the org app has one) and roles in force."""

    username: str
    display_name: str
    person_id: int | None
    roles: list[RoleOut]


# --- the core router ---------------------------------------------------------------

router = Router(tags=["账号"])
_ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut}


def _verify_otp(user, code: str | None) -> bool:
    """Whether ``code`` is a valid TOTP of one of the user's confirmed devices."""
    if not code:
        return False
    with transaction.atomic():
        # verify_token applies django-otp's own throttling of wrong codes per device.
        return any(device.verify_token(code) for device in devices_for_user(user, for_verify=True))


@router.post(
    "/auth/token",
    auth=None,
    throttle=[AnonThrottle()],
    response={200: TokenOut, **_ERRORS},
    url_name="core-token-issue",
    summary="申请令牌",
)
def token_issue(request: HttpRequest, payload: TokenIn):
    """Exchange username and password for a bearer token (failures count toward the lockout)."""
    credentials = {"username": payload.username}
    try:
        if AxesProxyHandler.is_locked(request, credentials):
            raise AuthorizationError(403, MSG_LOCKED)
        # Goes through axes' backend, so a failure counts toward AXES_FAILURE_LIMIT like the form.
        user = authenticate(request, username=payload.username, password=payload.password)
        if user is None:
            if getattr(request, "axes_locked_out", False) or AxesProxyHandler.is_locked(request, credentials):
                raise AuthorizationError(403, MSG_LOCKED)
            raise AuthenticationError(401, MSG_BAD_CREDENTIALS)
    finally:
        # The lockout answer above is ours, in JSON; AxesMiddleware must not swap in the HTML page.
        request.axes_locked_out = False
    # A right password clears the failure count (AXES_RESET_ON_SUCCESS) and logs the access, as a login does.
    AxesProxyHandler.user_logged_in(sender=type(user), request=request, user=user)
    if user.must_change_password:
        raise AuthorizationError(403, MSG_MUST_CHANGE_PASSWORD)
    if otp_required_for(user) and not _verify_otp(user, payload.otp):
        raise AuthenticationError(401, MSG_OTP_REQUIRED)
    token, raw = api_token_issue(actor=user, request=request)
    return {"token": raw, "expires_at": timezone.localtime(token.expires_at)}


@router.delete(
    "/auth/token",
    auth=TokenAuth(),
    response={204: None, 401: ErrorOut, 429: ErrorOut},
    url_name="core-token-revoke",
    summary="注销当前令牌",
)
def token_revoke(request: HttpRequest):
    """Revoke the token this request was made with; later calls with it get 401."""
    api_token_revoke(actor=request.user, token=request.api_token, request=request)
    return Status(204, None)


@router.get(
    "/auth/tokens",
    response={200: list[TokenInfoOut], 401: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    url_name="core-token-list",
    summary="我的令牌",
)
@paginate(Paged)
def token_list(request: HttpRequest):
    """The caller's own tokens, newest first (no secrets: only each token's first characters)."""
    return ApiToken.objects.filter(user=request.user).order_by("-created_at")


@router.get("/me", response={200: MeOut, **_ERRORS}, url_name="core-me", summary="当前用户")
def me(request: HttpRequest):
    """Who the caller is and which roles they hold today, with each role's scope."""
    user = request.user
    # The org app adds Person.user (related_name "person"); until then there is none.
    person = getattr(user, "person", None)
    grants = user.active_grants().order_by("role", "scope_kind", "scope_id", "pk")
    return {
        "username": user.get_username(),
        "display_name": user.display_name or user.get_username(),
        "person_id": getattr(person, "id", None),
        "roles": [
            {"role": g.role, "label": str(g.get_role_display()), "scope": g.scope_dict()} for g in grants
        ],
    }


# --- assembly ----------------------------------------------------------------------


class _Renderer(JSONRenderer):
    """JSON with Chinese as UTF-8 text rather than ``\\u`` escapes."""

    json_dumps_params = {"ensure_ascii": False}


class SizhengAPI(NinjaAPI):
    """NinjaAPI whose 404 and 405 answers outside any operation also use the one error shape."""

    @property
    def urls(self):
        """ninja's URL patterns, with JSON 405s, a JSON root and a JSON catch-all 404."""
        patterns, app_name, namespace = super().urls
        result = []
        for pattern in patterns:
            if getattr(pattern, "name", None) == "api-root":
                # ninja reverses "api-root" to find its prefix; it only has to answer 404.
                result.append(path("", csrf_exempt(self._not_found), name="api-root"))
                continue
            pattern.callback = self._json_not_allowed(pattern.callback)
            result.append(pattern)
        # csrf_exempt: a POST to a wrong path answers the JSON 404, not Django's HTML CSRF page.
        result.append(re_path(r"^.*$", csrf_exempt(self._not_found), name="api-not-found"))
        return result, app_name, namespace

    def _not_found(self, request: HttpRequest, *args, **kwargs):
        """No such endpoint: JSON 404, never the HTML error page."""
        return error_response(self, request, 404, MSG_NOT_FOUND)

    def _json_not_allowed(self, view):
        """Wrap an operation view so its 405 speaks JSON (ninja answers plain text)."""
        if getattr(view, "_sizheng_wrapped", False) or not callable(view):
            return view

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if isinstance(response, HttpResponseNotAllowed):
                replacement = error_response(self, request, 405, MSG_METHOD)
                replacement["Allow"] = response["Allow"]
                return replacement
            return response

        wrapper._sizheng_wrapped = True  # type: ignore[attr-defined]
        return wrapper


def _import_router(dotted: str) -> Router | None:
    """The Router at ``package.module.attr``, or None when the module does not exist (yet)."""
    module_name, _, attr = dotted.rpartition(".")
    try:
        spec = importlib.util.find_spec(module_name)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        return None
    # An existing module that fails to import is a bug to see, not an app to skip.
    module = importlib.import_module(module_name)
    found = getattr(module, attr, None)
    if not isinstance(found, Router):
        raise ImproperlyConfigured(f"{module_name} 中没有名为 {attr} 的 ninja Router。")
    return found


def build_api(*, routers: Iterable[RouterSpec] | None = None, urls_namespace: str | None = None) -> NinjaAPI:
    """Create the API: error handlers, auth, throttles, the core router, then each app's router."""
    api = SizhengAPI(
        title=API_TITLE,
        version=API_VERSION,
        description=API_DESCRIPTION,
        # ninja's own template and static copy of Swagger UI ("ninja" is in INSTALLED_APPS): no CDN,
        # no inline script (its init code is a static file), so the nonce CSP holds.
        docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
        auth=api_auth(),
        throttle=[AuthThrottle()],
        renderer=_Renderer(),
        urls_namespace=urls_namespace,
    )
    install_error_handlers(api)
    api.add_router("", router)
    for prefix, spec in APP_ROUTERS if routers is None else routers:
        app_router = _import_router(spec) if isinstance(spec, str) else spec
        if app_router is not None:
            api.add_router(prefix, app_router)
    return api
