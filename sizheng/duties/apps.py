from django.apps import AppConfig


class DutiesConfig(AppConfig):
    name = "sizheng.duties"
    label = "duties"
    verbose_name = "责任清单"
