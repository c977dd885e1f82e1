"""Shared pieces of the django-ninja API: the error shape, auth, throttles, paging, token services.

Every app's ``api.py`` builds on these (ARCHITECTURE §2, §4):

- errors: every failure answers ``{"detail": "<一句中文>", "errors": [...]}``; raise ``Http404`` /
  ``ObjectDoesNotExist`` (404), ``PermissionDenied`` (403), ``Conflict`` (409) or ``HttpError``;
- auth: ``TokenAuth`` (``Authorization: Bearer …``) and ``SessionAuth`` (the browser session, with
  CSRF on unsafe methods) — ``API_AUTH`` is the default of the whole API;
- throttles: ``AnonThrottle`` / ``AuthThrottle``, rates read from settings on every request;
- paging: ``@paginate(Paged)`` → ``{"count": n, "items": [...]}`` in a stable order.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, NinjaAPI, Schema
from ninja.conf import settings as ninja_settings
from ninja.errors import AuthorizationError, HttpError, ValidationError
from ninja.pagination import PaginationBase
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.throttling import SimpleRateThrottle
from ninja.utils import check_csrf

from sizheng.core import audit
from sizheng.core.models import ApiToken

logger = logging.getLogger("sizheng.api")

# --- messages ----------------------------------------------------------------------

MSG_BAD_REQUEST = "请求格式不正确。"
MSG_BAD_JSON = "请求内容不是有效的 JSON。"
MSG_UNAUTHENTICATED = "请先登录或提供有效的令牌。"
MSG_FORBIDDEN = "您没有执行此操作的权限。"
MSG_CSRF = "CSRF 校验失败，请刷新页面后重试。"
MSG_NOT_FOUND = "未找到该对象，或您无权查看。"
MSG_METHOD = "不支持该请求方法。"
MSG_CONFLICT = "该对象已被他人修改，或其当前状态不允许此操作，请刷新后重试。"
MSG_TOO_LARGE = "提交的内容过大。"
MSG_INVALID = "提交的数据有误，请按提示修改后重试。"
MSG_THROTTLED = "请求过于频繁，请稍后再试。"
MSG_SERVER = "服务器内部错误，请稍后再试。"
MSG_OTHER = "请求未能完成。"
MSG_BAD_CREDENTIALS = "用户名或密码不正确。"
MSG_LOCKED = "该账号因连续登录失败已被锁定，请联系安全管理员解锁。"
MSG_MUST_CHANGE_PASSWORD = "首次登录须先在网页上修改密码。"
MSG_OTP_REQUIRED = "系统管理类账号申请令牌须同时提供正确的动态口令。"

STATUS_MESSAGES = {
    400: MSG_BAD_REQUEST,
    401: MSG_UNAUTHENTICATED,
    403: MSG_FORBIDDEN,
    404: MSG_NOT_FOUND,
    405: MSG_METHOD,
    409: MSG_CONFLICT,
    413: MSG_TOO_LARGE,
    422: MSG_INVALID,
    429: MSG_THROTTLED,
    500: MSG_SERVER,
}

_CJK = re.compile(r"[\u3400-\u9fff]")


def _is_chinese(text: str) -> bool:
    """Whether a message is meant for the user (ours are Chinese; library internals are English)."""
    return bool(_CJK.search(text or ""))


# --- the one error shape -----------------------------------------------------------


class ErrorItem(Schema):
    """One field error: where (``loc``) and what is wrong (a Chinese sentence)."""

    loc: list[str | int]
    message: str


class ErrorOut(Schema):
    """The body of every API error response."""

    detail: str
    errors: list[ErrorItem] = []


class Conflict(HttpError):
    """409: a stale version or a transition the object's state does not allow (ARCHITECTURE §4)."""

    def __init__(self, message: str = MSG_CONFLICT, *, errors: list[dict] | None = None) -> None:
        super().__init__(409, message)
        self.errors = errors or []


def error_body(detail: str, errors: list[dict] | None = None) -> dict[str, Any]:
    """The error document: one Chinese sentence and the list of field errors."""
    return {"detail": detail, "errors": errors or []}


def error_response(api: NinjaAPI, request: HttpRequest, status: int, detail: str | None = None, errors=None):
    """An error response in the API's renderer; the status's default sentence when none is given."""
    body = error_body(detail or STATUS_MESSAGES.get(status, MSG_OTHER), errors)
    response = api.create_response(request, body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


# Pydantic error types → Chinese; {name} placeholders come from the error's ``ctx``.
_PYDANTIC_MESSAGES = {
    "missing": "此项为必填项。",
    "string_type": "应为文本。",
    "string_too_short": "至少应有 {min_length} 个字符。",
    "string_too_long": "不得超过 {max_length} 个字符。",
    "string_pattern_mismatch": "格式不正确。",
    "int_type": "应为整数。",
    "int_parsing": "应为整数。",
    "int_from_float": "应为整数。",
    "float_type": "应为数字。",
    "float_parsing": "应为数字。",
    "decimal_type": "应为数字。",
    "decimal_parsing": "应为数字。",
    "bool_type": "应为 true 或 false。",
    "bool_parsing": "应为 true 或 false。",
    "greater_than": "应大于 {gt}。",
    "greater_than_equal": "不得小于 {ge}。",
    "less_than": "应小于 {lt}。",
    "less_than_equal": "不得大于 {le}。",
    "multiple_of": "应为 {multiple_of} 的倍数。",
    "too_short": "至少应有 {min_length} 项。",
    "too_long": "不得超过 {max_length} 项。",
    "list_type": "应为列表。",
    "dict_type": "应为对象。",
    "model_type": "应为对象。",
    "model_attributes_type": "应为对象。",
    "date_type": "应为日期（格式为 YYYY-MM-DD）。",
    "date_parsing": "应为日期（格式为 YYYY-MM-DD）。",
    "date_from_datetime_parsing": "应为日期（格式为 YYYY-MM-DD）。",
    "date_from_datetime_inexact": "应为日期，不能带时间。",
    "datetime_type": "应为日期时间（ISO 8601 格式）。",
    "datetime_parsing": "应为日期时间（ISO 8601 格式）。",
    "datetime_from_date_parsing": "应为日期时间（ISO 8601 格式）。",
    "time_type": "应为时间（格式为 HH:MM）。",
    "time_parsing": "应为时间（格式为 HH:MM）。",
    "uuid_type": "应为 UUID。",
    "uuid_parsing": "应为 UUID。",
    "url_type": "应为网址。",
    "url_parsing": "应为网址。",
    "enum": "取值不在允许的范围内。",
    "literal_error": "取值不在允许的范围内。",
    "json_invalid": "不是有效的 JSON。",
    "json_type": "不是有效的 JSON。",
    "extra_forbidden": "不允许提交此项。",
    "none_required": "此项应为空。",
}
MSG_FALLBACK = "格式不正确。"


def pydantic_error_message(error: dict) -> str:
    """One pydantic error (``{"type", "loc", "msg", "ctx"}``) as a Chinese sentence."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind in {"value_error", "assertion_error"}:
        # A validator that raised ValueError("<中文>") speaks to the user directly.
        reason = str(ctx.get("error", ""))
        return reason if _is_chinese(reason) else MSG_FALLBACK
    template = _PYDANTIC_MESSAGES.get(kind)
    if template is None:
        return MSG_FALLBACK
    try:
        return template.format(**{k: _plain(v) for k, v in ctx.items()})
    except (KeyError, IndexError, ValueError):
        return MSG_FALLBACK


def _plain(value: Any) -> Any:
    """A limit as the user would write it (``1`` rather than ``1.0``)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def translate_errors(errors: list[dict]) -> list[dict]:
    """Pydantic/ninja errors → ``[{"loc": [...], "message": "<中文>"}]``."""
    return [{"loc": list(e.get("loc", ())), "message": pydantic_error_message(e)} for e in errors]


def _django_validation_errors(exc: DjangoValidationError) -> list[dict]:
    """A Django ValidationError (from a service or ``full_clean``) as field errors."""
    if hasattr(exc, "error_dict"):
        return [
            {"loc": [] if field == "__all__" else [field], "message": str(message)}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"loc": [], "message": str(message)} for message in exc.messages]


def install_error_handlers(api: NinjaAPI) -> None:
    """Register the one error shape for every exception the API can meet."""

    def on_validation(request, exc: ValidationError):
        return error_response(api, request, 422, MSG_INVALID, translate_errors(exc.errors))

    def on_django_validation(request, exc: DjangoValidationError):
        errors = _django_validation_errors(exc)
        detail = errors[0]["message"] if len(errors) == 1 and not errors[0]["loc"] else MSG_INVALID
        return error_response(api, request, 422, detail if _is_chinese(detail) else MSG_INVALID, errors)

    def on_http_error(request, exc: HttpError):
        # Also AuthenticationError (401), AuthorizationError (403), Throttled (429) and Conflict (409):
        # ninja's English messages give way to the status's Chinese sentence.
        message = exc.message
        if not _is_chinese(message):
            if exc.status_code == 403 and "CSRF" in message:
                message = MSG_CSRF
            elif exc.status_code == 400 and "parse request body" in message:
                message = MSG_BAD_JSON
            else:
                message = None
        return error_response(api, request, exc.status_code, message, getattr(exc, "errors", None))

    def on_not_found(request, exc: Exception):
        # Never the exception's text: it could tell whether an object out of scope exists.
        return error_response(api, request, 404, MSG_NOT_FOUND)

    def on_permission_denied(request, exc: PermissionDenied):
        message = str(exc)
        return error_response(api, request, 403, message if _is_chinese(message) else MSG_FORBIDDEN)

    def on_server_error(request, exc: Exception):
        # Method, path and user id only: a request body may hold T1–T3 data and never reaches a log.
        logger.error(
            "接口内部错误：%s %s（用户 %s）",
            request.method,
            request.path,
            getattr(getattr(request, "user", None), "pk", None),
            exc_info=exc,
        )
        return error_response(api, request, 500, MSG_SERVER)

    api.add_exception_handler(Exception, on_server_error)
    api.add_exception_handler(ValidationError, on_validation)
    api.add_exception_handler(DjangoValidationError, on_django_validation)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(ObjectDoesNotExist, on_not_found)
    api.add_exception_handler(PermissionDenied, on_permission_denied)


# --- authentication ----------------------------------------------------------------

# last_used_at is a hint for the token list, not an audit trail: one write a minute at most.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_MAX_TOKEN_LENGTH = 256


def token_digest(raw: str) -> str:
    """The SHA-256 hex digest under which a token is stored (the token itself never is)."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def otp_required_for(user) -> bool:
    """Whether this account must prove a TOTP (system roles, when the deployment requires it)."""
    return bool(getattr(settings, "OTP_REQUIRED_FOR_SYSTEM_ROLES", False)) and user.is_system_role


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``: an active token of an active user; sets ``request.user``."""

    def authenticate(self, request: HttpRequest, token: str):
        """The token's user, or None (then the next auth method is tried, and finally 401)."""
        token = token.strip()
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            return None
        now = timezone.now()
        api_token = (
            ApiToken.objects.select_related("user")
            .filter(digest=token_digest(token), revoked_at__isnull=True, expires_at__gt=now)
            .first()
        )
        if api_token is None or not api_token.user.is_active:
            return None
        user = api_token.user
        if user.must_change_password:
            raise AuthorizationError(403, MSG_MUST_CHANGE_PASSWORD)
        if api_token.last_used_at is None or now - api_token.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
            api_token.last_used_at = now
        # Tokens are issued only after the login checks, TOTP included where required, so the
        # holder counts as verified for code that asks django-otp (``user.is_verified()``).
        user.otp_device = None
        user.is_verified = lambda: True
        request.user = user
        request.api_token = api_token
        return user


class SessionAuth(APIKeyCookie):
    """The browser session (htmx/JS on our own pages), with Django's CSRF check on unsafe methods."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        """The session cookie; CSRF is checked in ``authenticate`` once there is a session user."""
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None):
        """The session's user, or None when there is no usable session."""
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if otp_required_for(user) and not getattr(user, "is_verified", lambda: False)():
            return None
        # Checked only for a session user, so a client without cookies gets 401, not a CSRF 403.
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, MSG_CSRF)
        if user.must_change_password:
            raise AuthorizationError(403, MSG_MUST_CHANGE_PASSWORD)
        request.api_token = None
        return user


def api_auth() -> list:
    """The default auth of the whole API: a bearer token, else the browser session."""
    return [TokenAuth(), SessionAuth(csrf=True)]


# --- throttling --------------------------------------------------------------------

DEFAULT_THROTTLE_ANON = "30/min"
DEFAULT_THROTTLE_AUTH = "600/min"


class _SettingsRateThrottle(SimpleRateThrottle):
    """A ninja rate throttle whose rate is read from settings on every request (tests override it)."""

    setting_name = ""
    default_rate = ""

    def __init__(self) -> None:
        super().__init__(rate=self.current_rate())

    def current_rate(self) -> str | None:
        """The configured rate (``"30/min"``); ``None`` or empty turns the throttle off."""
        return getattr(settings, self.setting_name, self.default_rate) or None

    def allow_request(self, request: HttpRequest) -> bool:
        """Re-read the rate, then count the request against it."""
        self.rate = self.current_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)

    def get_ident(self, request: HttpRequest) -> str | None:
        """The client address; X-Forwarded-For only behind a configured number of proxies.

        ninja's default trusts a client-supplied X-Forwarded-For when NINJA_NUM_PROXIES is unset,
        which would let anyone dodge the token endpoint's limit.
        """
        if ninja_settings.NUM_PROXIES is None:
            return request.META.get("REMOTE_ADDR")
        return super().get_ident(request)


class AnonThrottle(_SettingsRateThrottle):
    """Per client address, for the open endpoints (the token endpoint): ``API_THROTTLE_ANON``."""

    scope = "sizheng_anon"
    setting_name = "API_THROTTLE_ANON"
    default_rate = DEFAULT_THROTTLE_ANON

    def get_cache_key(self, request: HttpRequest) -> str | None:
        """The client address (authenticated requests are counted by ``AuthThrottle``)."""
        if getattr(request, "auth", None) is not None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthThrottle(_SettingsRateThrottle):
    """Per user, for every authenticated call: ``API_THROTTLE_AUTH``."""

    scope = "sizheng_auth"
    setting_name = "API_THROTTLE_AUTH"
    default_rate = DEFAULT_THROTTLE_AUTH

    def get_cache_key(self, request: HttpRequest) -> str | None:
        """The user's id (token and session count together), else the client address."""
        user = getattr(request, "auth", None)
        ident = f"user-{user.pk}" if getattr(user, "pk", None) is not None else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


# --- paging ------------------------------------------------------------------------

DEFAULT_LIMIT = 50
MAX_LIMIT = int(getattr(settings, "NINJA_PAGINATION_MAX_LIMIT", 500))


def stable_order(queryset):
    """The queryset with its primary key as the last ordering term, so pages never overlap."""
    if not isinstance(queryset, QuerySet) or queryset.query.combinator:
        return queryset
    query = queryset.query
    ordering = list(query.order_by) or (list(queryset.model._meta.ordering) if query.default_ordering else [])
    pk = queryset.model._meta.pk
    pk_names = {"pk", pk.name, pk.attname}
    if any(isinstance(term, str) and term.lstrip("-") in pk_names for term in ordering):
        return queryset.order_by(*ordering)
    return queryset.order_by(*ordering, "pk")


class Paged(PaginationBase):
    """``?limit=&offset=`` paging for every list endpoint: ``{"count": n, "items": [...]}``.

    Use: ``@router.get("/things", response=list[ThingOut])`` then ``@paginate(Paged)``.
    """

    class Input(Schema):
        """The paging parameters."""

        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"每页条数，1–{MAX_LIMIT}")
        offset: int = Field(0, ge=0, description="跳过前面多少条")

    class Output(Schema):
        """A page: the total count and this page's items."""

        count: int
        items: list[Any]

    items_attribute = "items"

    def paginate_queryset(self, queryset, pagination: Input, request: HttpRequest | None = None, **params):
        """One page of the queryset (or list) in a stable order, with the total count."""
        queryset = stable_order(queryset)
        offset, limit = pagination.offset, pagination.limit
        items = list(queryset[offset : offset + limit])
        if len(items) < limit and (items or offset == 0):
            # The last page: the total is known without a COUNT query.
            count = offset + len(items)
        else:
            count = self._items_count(queryset)
        return {"count": count, "items": items}


# --- token services ----------------------------------------------------------------


def api_token_issue(*, actor, request: HttpRequest | None = None) -> tuple[ApiToken, str]:
    """Issue a bearer token for ``actor``; returns the row and the raw token (shown once)."""
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=actor,
            digest=token_digest(raw),
            prefix=raw[:8],
            created_at=now,
            expires_at=now + settings.API_TOKEN_TTL,
        )
        audit.record(
            actor,
            "api_token_issued",
            token,
            {"prefix": token.prefix, "expires_at": token.expires_at.isoformat()},
            request=request,
        )
    return token, raw


def api_token_revoke(*, actor, token: ApiToken, request: HttpRequest | None = None) -> bool:
    """Revoke a token; False when it was already revoked (nothing written then)."""
    now = timezone.now()
    with transaction.atomic():
        # Compare-and-swap: two concurrent revocations write one audit row, not two.
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
        if not changed:
            return False
        token.revoked_at = now
        audit.record(actor, "api_token_revoked", token, {"prefix": token.prefix}, request=request)
    return True
