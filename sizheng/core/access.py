"""Role checks for core pages. Pages a role may not see answer 404: their existence never leaks."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404


def role_required(*roles: str):
    """A view for signed-in users holding one of ``roles``; others get 404."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_role(*roles):
                raise Http404("页面不存在。")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
