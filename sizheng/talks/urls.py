"""URLs of the talks app."""

from django.urls import path  # noqa: F401

app_name = "talks"

urlpatterns: list = []
