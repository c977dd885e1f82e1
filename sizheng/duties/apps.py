from django.apps import AppConfig


class DutiesConfig(AppConfig):
    name = "sizheng.duties"
    label = "duties"
    verbose_name = "责任清单"

    def ready(self) -> None:
        from sizheng.core import files, home, nav
        from sizheng.core.models import Role
        from sizheng.duties import demo, jobs, metrics  # noqa: F401  (registers generator, jobs, metrics)
        from sizheng.duties.views import may_read_duty_file

        files.register_access("duty", may_read_duty_file)
        home.register("duties.mine", template="duties/_home_card.html", context=_home_context, order=10)
        staff = [Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN]
        nav.register(
            "事项看板", "duties:board", roles=[*staff, Role.LEADER, Role.MEMBER], order=30, group="责任清单"
        )
        nav.register("我的事项", "duties:mine", roles=[*staff, Role.MEMBER], order=31, group="责任清单")


def _home_context(request):
    """The home card's numbers (None: nothing to show)."""
    from django.utils import timezone

    from sizheng.duties.queries import home_summary

    return home_summary(request.user, timezone.localdate())
