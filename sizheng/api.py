"""The django-ninja API: one NinjaAPI assembled from each app's ``api.py`` router."""

from sizheng.core.api import build_api

api = build_api()
