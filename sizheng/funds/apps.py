from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "sizheng.funds"
    label = "funds"
    verbose_name = "经费保障"

    def ready(self) -> None:
        import importlib

        # Registers metrics, jobs, nav entries, file access checks and the demo generator.
        for mod in ("metrics", "jobs", "demo", "nav", "files"):
            try:
                importlib.import_module(f"sizheng.funds.{mod}")
            except ModuleNotFoundError as exc:
                if exc.name != f"sizheng.funds.{mod}":
                    raise
