from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "sizheng.org"
    label = "org"
    verbose_name = "组织与人员"

    def ready(self) -> None:
        from sizheng.core import nav
        from sizheng.core.models import Role
        from sizheng.org import demo, jobs  # noqa: F401  (registers the demo generator and jobs)

        staff = [Role.COMMITTEE_ADMIN, Role.SECRETARY, Role.ORG_ADMIN]
        nav.register(
            "组织架构", "org:tree", roles=[*staff, Role.LEADER, Role.MEMBER], order=10, group="组织人员"
        )
        nav.register("人员名册", "org:people", roles=staff, order=20, group="组织人员")
        nav.register("角色授权", "org:grants", roles=[Role.SECADMIN], order=905, group="系统")
