from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "sizheng.notices"
    label = "notices"
    verbose_name = "通知公告"

    def ready(self) -> None:
        # Menu entries, the home card, the attachment access check and the reminder job.
        from sizheng.notices import nav  # noqa: F401
