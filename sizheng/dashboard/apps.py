from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "sizheng.dashboard"
    label = "dashboard"
    verbose_name = "驾驶舱"

    def ready(self) -> None:
        import importlib

        # The value cache and the cards (which import every app's metrics through the registry),
        # and the menu entry.
        for mod in ("metrics", "cards", "nav"):
            importlib.import_module(f"sizheng.dashboard.{mod}")
