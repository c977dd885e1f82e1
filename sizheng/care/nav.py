"""Menu entries and the home card of care cases (group "关爱帮扶"); imported by ``CareConfig.ready``."""

from __future__ import annotations

from sizheng.core import home, nav
from sizheng.core.models import Role

GROUP = "关爱帮扶"
STAFF = [Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN, Role.UNION]

nav.register("困难诉求台账", "care:cases", roles=STAFF, order=56, group=GROUP)
nav.register(
    "我的困难诉求", "care:mine", roles=[Role.MEMBER, Role.SECRETARY, Role.ORG_ADMIN], order=57, group=GROUP
)


def home_card(request) -> dict | None:
    """Cases waiting for the user as handler, and the user's own open cases (two small queries)."""
    from sizheng.care import services
    from sizheng.care.models import CareCase
    from sizheng.care.workflow import OPEN
    from sizheng.org.access import scope_of

    user = request.user
    scope = scope_of(user)
    open_states = list(OPEN)
    to_handle = CareCase.objects.filter(services.handled_by_q(user), state__in=open_states).count()
    own = (
        CareCase.objects.filter(person_id=scope.person_id, state__in=open_states).count()
        if scope.person_id
        else 0
    )
    if not to_handle and not own:
        return None
    return {"to_handle": to_handle, "own": own}


home.register("care.cases", template="care/_home_card.html", context=home_card, order=35)
