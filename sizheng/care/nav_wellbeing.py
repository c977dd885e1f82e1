"""Menu entries of the wellbeing pathway (group "心理关怀"), registered from CareConfig.ready()."""

from __future__ import annotations

from sizheng.core import nav
from sizheng.core.models import Role

GROUP = "心理关怀"

nav.register("心理自评", "care:wellbeing", roles=[Role.MEMBER], order=60, group=GROUP)
nav.register("心理咨询工作台", "care:wellbeing_caseload", roles=[Role.COUNSELOR], order=61, group=GROUP)
nav.register("心理自评统计", "care:wellbeing_stats", roles=[Role.COUNSELOR], order=62, group=GROUP)
nav.register("心理健康概况", "care:wellbeing_overview", roles=[Role.LEADER], order=63, group=GROUP)
