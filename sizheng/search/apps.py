from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "sizheng.search"
    label = "search"
    verbose_name = "搜索"

    def ready(self) -> None:
        # The built-in sources register themselves on import.
        from sizheng.search import registry  # noqa: F401
