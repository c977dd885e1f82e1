from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "sizheng.care"
    label = "care"
    verbose_name = "关爱帮扶与心理关怀"

    def ready(self) -> None:
        import importlib

        # Registers metrics, jobs, file access checks, nav entries and the demo generator.
        for mod in ("metrics", "metrics_wellbeing", "jobs", "jobs_wellbeing", "demo", "nav", "nav_wellbeing"):
            try:
                importlib.import_module(f"sizheng.care.{mod}")
            except ModuleNotFoundError as exc:
                if exc.name != f"sizheng.care.{mod}":
                    raise
