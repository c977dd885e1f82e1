"""Menu entries of the library (group "学习资料", orders 86–89); imported by ``LibraryConfig.ready``."""

from __future__ import annotations

from sizheng.core import nav
from sizheng.core.models import Role

GROUP = "学习资料"
READERS = [
    Role.MEMBER,
    Role.SECRETARY,
    Role.ORG_ADMIN,
    Role.COMMITTEE_ADMIN,
    Role.LEADER,
    Role.COUNSELOR,
    Role.UNION,
]

nav.register("学习资料库", "library:materials", roles=READERS, order=86, group=GROUP)
nav.register("思政专栏", "library:columns", roles=READERS, order=87, group=GROUP)
nav.register("资料主题", "library:topics", roles=[Role.COMMITTEE_ADMIN], order=88, group=GROUP)
