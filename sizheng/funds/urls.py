"""URLs of the funds app."""

from django.urls import path  # noqa: F401

app_name = "funds"

urlpatterns: list = []
