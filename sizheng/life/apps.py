from django.apps import AppConfig


class LifeConfig(AppConfig):
    name = "sizheng.life"
    label = "life"
    verbose_name = "组织生活"

    def ready(self) -> None:
        from sizheng.core import home, nav
        from sizheng.core.models import Role
        from sizheng.life import demo, jobs, jobs_compliance, metrics  # noqa: F401  (registers generator, jobs, metrics)
        from sizheng.life.views import home_card

        staff = [Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN]
        nav.register(
            "会议记录", "life:meetings", roles=[*staff, Role.LEADER, Role.MEMBER], order=40, group="组织生活"
        )
        nav.register("活动日历", "life:calendar", roles=[*staff, Role.MEMBER], order=41, group="组织生活")
        nav.register("合规情况", "life:compliance", roles=[*staff, Role.LEADER], order=42, group="组织生活")
        nav.register("组织生活规则", "life:rules", roles=[Role.COMMITTEE_ADMIN], order=46, group="组织生活")
        nav.register("民主评议", "life:appraisals", roles=[*staff, Role.MEMBER], order=43, group="组织生活")
        nav.register("政治生日", "life:birthdays", roles=[*staff, Role.MEMBER], order=44, group="组织生活")
        home.register("life.meetings", template="life/_home_meetings.html", context=home_card, order=20)
