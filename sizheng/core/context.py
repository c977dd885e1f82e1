"""Template context shared by every page: navigation and the unread-notification count."""

from __future__ import annotations

from django.conf import settings

from sizheng.core import nav


def navigation(request) -> dict:
    """Menu entries for the signed-in user and their unread count (one small query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "unread_count": 0, "demo_mode": settings.DEMO}
    return {
        "nav_items": nav.menu_for(user),
        "unread_count": user.notifications.filter(read_at__isnull=True).count(),
        "demo_mode": settings.DEMO,
    }
