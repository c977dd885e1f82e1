from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sizheng.core"
    label = "core"
    verbose_name = "平台核心"

    def ready(self) -> None:
        from sizheng.core import calendar, deploychecks, jobs, nav  # noqa: F401  (jobs, holiday-cache signals, deploy checks)
        from sizheng.core.models import Role

        nav.register("工作台", "core:home", order=0)
        nav.register("账号管理", "core:accounts", roles=[Role.SYSADMIN], order=890, group="系统")
        nav.register("审计日志", "core:audit_log", roles=[Role.AUDITOR], order=900, group="系统")
        nav.register("账号解锁", "core:lockouts", roles=[Role.SECADMIN], order=910, group="系统")
        nav.register("节假日与调休", "core:holidays", roles=[Role.SYSADMIN], order=920, group="系统")
