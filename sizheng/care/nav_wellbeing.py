"""Menu entries of the wellbeing pathway (group "心理关怀"), registered from CareConfig.ready()."""

from __future__ import annotations

from sizheng.core import home, nav
from sizheng.core.models import Role

GROUP = "心理关怀"

nav.register("心理自评", "care:wellbeing", roles=[Role.MEMBER], order=60, group=GROUP)
nav.register("心理咨询工作台", "care:wellbeing_caseload", roles=[Role.COUNSELOR], order=61, group=GROUP)
nav.register("心理自评统计", "care:wellbeing_stats", roles=[Role.COUNSELOR], order=62, group=GROUP)
nav.register("心理健康概况", "care:wellbeing_overview", roles=[Role.LEADER], order=63, group=GROUP)


def _home_card(request) -> dict | None:
    """A counselor's waiting work on the home page: alerts to acknowledge, requests to take up, open cases.
    Counts only (no names): the home page may be seen over a shoulder."""
    from sizheng.care import access
    from sizheng.care.models import ContactRequest, CounselingCase, CrisisAlert
    from sizheng.care.wellbeing import contact_request_q

    user = request.user
    if not access.is_counselor(user):
        return None
    waiting = [CrisisAlert.State.OPEN, CrisisAlert.State.ESCALATED]
    return {
        "alerts": CrisisAlert.objects.filter(access.visible_alert_q(user), state__in=waiting).count(),
        "requests": ContactRequest.objects.filter(
            contact_request_q(user), state=ContactRequest.State.OPEN
        ).count(),
        "cases": CounselingCase.objects.filter(
            access.visible_counseling_q(user), state=CounselingCase.State.OPEN
        ).count(),
    }


home.register("care.wellbeing", template="care/wellbeing/_home_card.html", context=_home_card, order=34)
