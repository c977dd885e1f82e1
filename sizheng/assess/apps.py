from django.apps import AppConfig


class AssessConfig(AppConfig):
    name = "sizheng.assess"
    label = "assess"
    verbose_name = "测评考核"

    def ready(self) -> None:
        import importlib

        # Registers metrics, jobs, nav entries, the demo generator and the evidence access rule.
        for mod in ("metrics", "jobs", "demo", "nav", "files"):
            try:
                importlib.import_module(f"sizheng.assess.{mod}")
            except ModuleNotFoundError as exc:
                if exc.name != f"sizheng.assess.{mod}":
                    raise
