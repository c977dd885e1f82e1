from django.apps import AppConfig


class InsightConfig(AppConfig):
    name = "sizheng.insight"
    label = "insight"
    verbose_name = "思想动态分析研判"

    def ready(self) -> None:
        import importlib

        # Registers metrics, jobs, nav entries and the demo generator (each module optional while built).
        for mod in ("metrics", "reports", "jobs", "demo", "nav"):
            try:
                importlib.import_module(f"sizheng.insight.{mod}")
            except ModuleNotFoundError as exc:
                if exc.name != f"sizheng.insight.{mod}":
                    raise
