from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "sizheng.dashboard"
    label = "dashboard"
    verbose_name = "驾驶舱"

    def ready(self) -> None:
        import importlib

        # The value cache and the cards (which import every app's metrics through the registry),
        # the menu entry and the warming job.
        for mod in ("metrics", "cards", "nav", "jobs"):
            importlib.import_module(f"sizheng.dashboard.{mod}")
