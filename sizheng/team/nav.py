"""The team app's menu entries (imported by ``TeamConfig.ready``): group "队伍建设", orders 75–79."""

from __future__ import annotations

from sizheng.core import nav
from sizheng.core.models import Role

MANAGERS = [Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN]

nav.register("队伍名册", "team:members", roles=MANAGERS, order=75, group="队伍建设")
nav.register("配备情况", "team:coverage", roles=[*MANAGERS, Role.LEADER], order=76, group="队伍建设")
nav.register("我的队伍档案", "team:mine", roles=[Role.MEMBER], order=77, group="队伍建设")
nav.register("配备规则", "team:rules", roles=[Role.COMMITTEE_ADMIN], order=78, group="队伍建设")
