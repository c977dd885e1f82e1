from django.apps import AppConfig


class TalksConfig(AppConfig):
    name = "sizheng.talks"
    label = "talks"
    verbose_name = "谈心谈话"

    def ready(self) -> None:
        import importlib

        # Registers metrics, jobs, roster-event handlers, the duty close handler and the demo generator.
        for mod in ("metrics", "triggers", "jobs", "demo", "nav"):
            try:
                importlib.import_module(f"sizheng.talks.{mod}")
            except ModuleNotFoundError as exc:
                if exc.name != f"sizheng.talks.{mod}":
                    raise
