from django.apps import AppConfig


class LifeConfig(AppConfig):
    name = "sizheng.life"
    label = "life"
    verbose_name = "组织生活"
