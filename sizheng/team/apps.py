from django.apps import AppConfig


class TeamConfig(AppConfig):
    name = "sizheng.team"
    label = "team"
    verbose_name = "思政队伍"

    def ready(self) -> None:
        import importlib

        # Registers metrics, jobs, nav entries, file access checks and the demo generator.
        for mod in ("metrics", "jobs", "demo", "nav", "files"):
            try:
                importlib.import_module(f"sizheng.team.{mod}")
            except ModuleNotFoundError as exc:
                if exc.name != f"sizheng.team.{mod}":
                    raise
