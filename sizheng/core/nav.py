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


def menu_for(user) -> list[dict]:
    """The menu: ungrouped entries as links, grouped ones as one drop-down per group (first-seen order).

    A group with a single visible entry is shown as a plain link.
    """
    menu: list[dict] = []
    groups: dict[str, dict] = {}
    for item in items_for(user):
        if not item["group"]:
            menu.append(item)
            continue
        group = groups.get(item["group"])
        if group is None:
            group = groups[item["group"]] = {"label": item["group"], "children": [], "names": []}
            menu.append(group)
        group["children"].append(item)
        group["names"].append(item["name"])
    return [g["children"][0] if "children" in g and len(g["children"]) == 1 else g for g in menu]
