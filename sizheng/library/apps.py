from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "sizheng.library"
    label = "library"
    verbose_name = "学习资料库"

    def ready(self) -> None:
        import importlib

        # Registers metrics, jobs, nav entries, file access checks and the demo generator.
        for mod in ("metrics", "jobs", "demo", "nav", "files"):
            try:
                importlib.import_module(f"sizheng.library.{mod}")
            except ModuleNotFoundError as exc:
                if exc.name != f"sizheng.library.{mod}":
                    raise
