"""The talks app's menu entries and home card (imported by ``TalksConfig.ready``).

Coverage, triggers and coverage rules are in the same group "谈心谈话"."""

from __future__ import annotations

from sizheng.core import home, nav
from sizheng.core.models import Role


def _home_card(request):
    from sizheng.talks.views import home_card

    return home_card(request)


LISTING = [Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN, Role.COUNSELOR]

nav.register("谈话台账", "talks:ledger", roles=LISTING, order=50, group="谈心谈话")
nav.register(
    "我的谈话", "talks:mine", roles=[Role.SECRETARY, Role.ORG_ADMIN, Role.MEMBER], order=51, group="谈心谈话"
)
nav.register(
    "登记谈话",
    "talks:create",
    roles=[Role.SECRETARY, Role.ORG_ADMIN, Role.MEMBER],
    order=52,
    group="谈心谈话",
)
nav.register("谈话覆盖", "talks:coverage", roles=LISTING, order=53, group="谈心谈话")
nav.register("必谈提醒", "talks:triggers", roles=LISTING, order=54, group="谈心谈话")
nav.register(
    "谈话覆盖规则",
    "talks:coverage_rules",
    roles=[Role.COMMITTEE_ADMIN, Role.SECRETARY],
    order=55,
    group="谈心谈话",
)
home.register("talks.mine", template="talks/_home_card.html", context=_home_card, order=30)
