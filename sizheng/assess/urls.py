"""URLs of the assess app (namespace ``assess``, under ``/assess/``).

Each area's view module declares its own ``urlpatterns`` (systems, weighting, rounds, results), so
the areas are built and changed independently; the names are listed in the app README."""

from django.urls import path
from django.views.generic import RedirectView

from sizheng.assess import views_results, views_rounds, views_systems, views_weighting

app_name = "assess"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="assess:rounds"), name="index"),
    *views_systems.urlpatterns,
    *views_weighting.urlpatterns,
    *views_rounds.urlpatterns,
    *views_results.urlpatterns,
]
