"""Template context shared by every page: navigation and the unread-notification count."""

from __future__ import annotations

from django.conf import settings

from sizheng.core import nav


def unread_count(user) -> int:
    """Unread messages: loaded with the user (``org.backends``) or, failing that, one small query."""
    loaded = getattr(user, "_sz_unread", False)
    if loaded is not False:
        return loaded or 0  # the subquery gives NULL when there is none
    return user.notifications.filter(read_at__isnull=True).count()


def navigation(request) -> dict:
    """Menu entries for the signed-in user and their unread count (no query when loaded with the user)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "unread_count": 0, "demo_mode": settings.DEMO}
    return {
        "nav_items": nav.menu_for(user),
        "unread_count": unread_count(user),
        "demo_mode": settings.DEMO,
    }
