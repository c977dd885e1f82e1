"""Role-aware navigation: each app registers its menu entries once, in its AppConfig.ready()."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.urls import NoReverseMatch, get_script_prefix, reverse


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
    _menu_for_roles.cache_clear()


def items_for(user) -> list[dict]:
    """The entries this user may see, with resolved URLs."""
    return _items_for_roles(_roles_of(user))


def _roles_of(user) -> frozenset[str]:
    """The roles that decide the menu: the user's grants today (the request's one grant query)."""
    return frozenset(g.role for g in user.grants_today())


def _items_for_roles(roles: frozenset[str]) -> list[dict]:
    out = []
    for item in _ITEMS:
        if item.roles and not (item.roles & roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        out.append({"label": item.label, "url": url, "group": item.group, "name": item.url_name})
    return out


# The top bar holds a few sections; each app's group is a block inside one of them (headed by the
# group's name when the section holds more than one). Twelve-plus groups side by side wrapped into
# one-character columns at 1366 px; grouping by the work loop keeps the bar on one line.
SECTIONS = {
    "通知公告": "责任落实",
    "责任清单": "责任落实",
    "组织生活": "组织生活与学习",
    "理论学习": "组织生活与学习",
    "学习资料": "组织生活与学习",
    "谈心谈话": "谈心与关爱",
    "关爱帮扶": "谈心与关爱",
    "心理关怀": "谈心与关爱",
    "思想动态": "研判与测评",
    "测评考核": "研判与测评",
    "组织人员": "组织与保障",
    "队伍建设": "组织与保障",
    "经费保障": "组织与保障",
    "志愿与文明": "组织与保障",
}

#: A section with this many entries or more opens as two columns.
WIDE_MENU = 9


def menu_for(user) -> list[dict]:
    """The menu: ungrouped entries as links, each section as one drop-down (first-seen order) made of
    its groups' blocks. A section with a single visible entry is shown as a plain link.

    The menu depends only on the set of roles (and the URL prefix), so it is built once per process
    for each set: 59 ``reverse()`` calls and the grouping were ~1 ms of every page. Templates only
    read it; nobody may mutate the returned structure."""
    return _menu_for_roles(_roles_of(user), get_script_prefix())


@lru_cache(maxsize=256)
def _menu_for_roles(roles: frozenset[str], _prefix: str) -> list[dict]:
    menu: list[dict] = []
    sections: dict[str, dict] = {}
    for item in _items_for_roles(roles):
        group = item["group"]
        if not group:
            menu.append(item)
            continue
        label = SECTIONS.get(group, group)
        section = sections.get(label)
        if section is None:
            section = sections[label] = {"label": label, "children": [], "names": [], "blocks": []}
            menu.append(section)
        if not section["blocks"] or section["blocks"][-1]["label"] != group:
            blocks = [b for b in section["blocks"] if b["label"] == group]
            if blocks:
                blocks[0]["children"].append(item)
            else:
                section["blocks"].append({"label": group, "children": [item]})
        else:
            section["blocks"][-1]["children"].append(item)
        section["children"].append(item)
        section["names"].append(item["name"])
    for section in sections.values():
        section["headed"] = len(section["blocks"]) > 1
        section["wide"] = len(section["children"]) >= WIDE_MENU
    return [s["children"][0] if "blocks" in s and len(s["children"]) == 1 else s for s in menu]
