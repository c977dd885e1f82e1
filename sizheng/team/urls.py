"""URLs of the team app."""

from django.urls import path  # noqa: F401

app_name = "team"

urlpatterns: list = []
