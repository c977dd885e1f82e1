from django.apps import AppConfig


class StudyConfig(AppConfig):
    """Theory study (理论学习): plans, study groups, sessions, observers, make-up, hours, the archive."""

    name = "sizheng.study"
    label = "study"
    verbose_name = "理论学习"

    def ready(self) -> None:
        """The menu entry, the metrics and who may read the papers' files."""
        from sizheng.core import files, nav
        from sizheng.core.models import Role
        from sizheng.study import demo, metrics  # noqa: F401  (registers the demo generator and the metrics)
        from sizheng.study.services import may_read_paper

        files.register_access("study_paper", may_read_paper)

        staff = [Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN]
        nav.register(
            "理论学习", "study:mine", roles=[*staff, Role.LEADER, Role.MEMBER], order=45, group="理论学习"
        )
