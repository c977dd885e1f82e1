"""URLs of the search app (namespace ``search``, under ``/search/``)."""

from django.urls import path

from sizheng.search import views

app_name = "search"

urlpatterns = [
    path("", views.results, name="results"),
]
