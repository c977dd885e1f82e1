"""Menu entries of the volunteer app (group "志愿与文明", orders 80–85); imported by ``VolunteerConfig.ready``."""

from __future__ import annotations

from sizheng.core import nav
from sizheng.core.models import Role

GROUP = "志愿与文明"
STAFF = [Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN]

nav.register(
    "志愿活动", "volunteer:activities", roles=[*STAFF, Role.LEADER, Role.MEMBER], order=80, group=GROUP
)
nav.register(
    "我的志愿服务",
    "volunteer:mine",
    roles=[Role.SECRETARY, Role.ORG_ADMIN, Role.MEMBER],
    order=81,
    group=GROUP,
)
nav.register("志愿服务统计", "volunteer:overview", roles=[*STAFF, Role.LEADER], order=82, group=GROUP)
nav.register("文明创建申报", "volunteer:applications", roles=STAFF, order=83, group=GROUP)
nav.register(
    "文明创建概况", "volunteer:civility_overview", roles=[*STAFF, Role.LEADER], order=84, group=GROUP
)
nav.register("志愿行动与创建标准", "volunteer:campaigns", roles=[Role.COMMITTEE_ADMIN], order=85, group=GROUP)
