from django.apps import AppConfig


class VolunteerConfig(AppConfig):
    name = "sizheng.volunteer"
    label = "volunteer"
    verbose_name = "志愿服务与文明创建"

    def ready(self) -> None:
        import importlib

        # Registers metrics, jobs, nav entries, file access checks and the demo generator.
        for mod in ("metrics", "jobs", "demo", "nav", "files"):
            try:
                importlib.import_module(f"sizheng.volunteer.{mod}")
            except ModuleNotFoundError as exc:
                if exc.name != f"sizheng.volunteer.{mod}":
                    raise
