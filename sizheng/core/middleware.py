"""Security headers, idle-session timeout, and the account guard (first-login password change, TOTP)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

# Paths an account in a restricted state may still reach.
_OPEN_PREFIXES = ("/static/", "/accounts/logout/", "/accounts/password/", "/accounts/otp/", "/api/")


class SecurityHeadersMiddleware:
    """Headers every response carries, whatever view produced it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.user.is_authenticated if hasattr(request, "user") else False:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class IdleTimeoutMiddleware:
    """Log a session out after SESSION_IDLE_TIMEOUT seconds without a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get("last_seen")
            if last is not None and now - int(last) > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                response = redirect(f"{reverse('core:login')}?timeout=1&next={request.path}")
                return response
            # Write at most once a minute so idle checks don't turn every request into a write.
            if last is None or now - int(last) > 60:
                request.session["last_seen"] = now
        return self.get_response(request)


class AccountGuardMiddleware:
    """Force the first-login password change, and TOTP for system roles where required."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not request.path.startswith(_OPEN_PREFIXES):
            if user.must_change_password:
                return redirect(f"{reverse('core:password_change')}?first=1")
            if settings.OTP_REQUIRED_FOR_SYSTEM_ROLES and user.is_system_role and not user.is_verified():
                return redirect("core:otp")
        return self.get_response(request)
