"""Menu entries of the funds app (group "经费保障", orders 70–74); imported by ``FundsConfig.ready``.

The menu is role-based; the pages themselves narrow to the units a user manages or leads (a branch
secretary below a unit's root org sees an empty list that says who manages the funds)."""

from __future__ import annotations

from sizheng.core import nav
from sizheng.core.models import Role

GROUP = "经费保障"
MANAGERS = [Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN]

nav.register("经费执行", "funds:overview", roles=[*MANAGERS, Role.LEADER], order=70, group=GROUP)
nav.register("支出台账", "funds:spending_list", roles=MANAGERS, order=71, group=GROUP)
nav.register("登记支出", "funds:spending_create", roles=MANAGERS, order=72, group=GROUP)
