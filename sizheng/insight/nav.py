"""Menu entries and the home card of surveys (group "思想动态"); imported by ``InsightConfig.ready``.

Results are reached from each survey; reports, "你们提出的 → 我们做了" and the lexicon have entries here."""

from __future__ import annotations

from sizheng.core import home, nav
from sizheng.core.models import Role

GROUP = "思想动态"

nav.register(
    "问卷调查",
    "insight:surveys",
    roles=[Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN, Role.LEADER],
    order=70,
    group=GROUP,
)
nav.register("我的问卷", "insight:mine", roles=[Role.MEMBER], order=71, group=GROUP)
nav.register(
    "分析研判报告",
    "insight:report_list",
    roles=[Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN, Role.LEADER],
    order=72,
    group=GROUP,
)
nav.register(
    "你们提出的 → 我们做了",
    "insight:actions",
    roles=[Role.MEMBER, Role.SECRETARY, Role.ORG_ADMIN, Role.LEADER],
    order=73,
    group=GROUP,
)
nav.register(
    "主题词库",
    "insight:lexicon",
    roles=[Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN],
    order=78,
    group=GROUP,
)
nav.register("问卷风险提示", "insight:risk_alerts", roles=[Role.COUNSELOR], order=79, group=GROUP)


def _home_card(request):
    from sizheng.insight.views import home_card

    return home_card(request)


home.register("insight.surveys", template="insight/survey_home_card.html", context=_home_card, order=40)
