"""The dashboard's menu entry (first in the menu, no group); imported by ``DashboardConfig.ready``."""

from __future__ import annotations

from sizheng.core import nav
from sizheng.core.models import Role

nav.register(
    "驾驶舱",
    "dashboard:index",
    roles=[Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN, Role.LEADER, Role.MEMBER],
    order=5,
)
