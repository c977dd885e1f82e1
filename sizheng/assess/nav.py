"""Menu entries of the assess app (group "测评考核", orders 90–94); imported by ``AssessConfig.ready``.

The pages narrow to what each role may see (assess.access): an assessor sees the targets assigned to
them, an expert the sessions they are invited to, a branch its own unit's forms and results."""

from sizheng.core import nav
from sizheng.core.models import Role

GROUP = "测评考核"
MANAGERS = [Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN]

nav.register(
    "考核轮次", "assess:rounds", roles=[*MANAGERS, Role.LEADER, Role.ASSESSOR], order=90, group=GROUP
)
nav.register("我的考核任务", "assess:my_tasks", roles=[*MANAGERS, Role.ASSESSOR], order=91, group=GROUP)
nav.register("测评体系", "assess:systems", roles=[*MANAGERS, Role.LEADER], order=92, group=GROUP)
nav.register("专家赋权", "assess:sessions", roles=[Role.COMMITTEE_ADMIN, Role.EXPERT], order=93, group=GROUP)
