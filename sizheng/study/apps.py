from django.apps import AppConfig


class StudyConfig(AppConfig):
    """Theory study (理论学习): plans, study groups, sessions, observers, make-up, hours, the archive."""

    name = "sizheng.study"
    label = "study"
    verbose_name = "理论学习"

    def ready(self) -> None:
        """The menu entry and the metrics."""
        from sizheng.core import nav
        from sizheng.core.models import Role
        from sizheng.study import metrics  # noqa: F401  (registers the metrics)

        staff = [Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN]
        nav.register("理论学习", "study:mine", roles=[*staff, Role.LEADER, Role.MEMBER], order=45)
