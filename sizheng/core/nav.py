"""Role-aware navigation: each app registers its menu entries once, in its AppConfig.ready()."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    """One menu entry, shown to users holding any of ``roles`` (empty: every signed-in user)."""

    label: str
    url_name: str
    roles: frozenset[str] = frozenset()
    order: int = 100
    group: str = ""


_ITEMS: list[NavItem] = []


def register(label: str, url_name: str, *, roles=(), order: int = 100, group: str = "") -> None:
    """Add a menu entry (idempotent per url_name)."""
    if any(i.url_name == url_name for i in _ITEMS):
        return
    _ITEMS.append(NavItem(label, url_name, frozenset(roles), order, group))
    _ITEMS.sort(key=lambda i: (i.order, i.label))


def items_for(user) -> list[dict]:
    """The entries this user may see, with resolved URLs."""
    out = []
    for item in _ITEMS:
        if item.roles and not user.has_role(*item.roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        out.append({"label": item.label, "url": url, "group": item.group, "name": item.url_name})
    return out
