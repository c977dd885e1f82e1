"""URLs of the assess app (namespace ``assess``, under ``/assess/``).

Each area's view module declares its own ``urlpatterns`` (systems, weighting, rounds, results), so
the areas are built and changed independently; the names are listed in the app README."""

from sizheng.assess import views_results, views_rounds, views_systems, views_weighting

app_name = "assess"

urlpatterns = [
    *views_systems.urlpatterns,
    *views_weighting.urlpatterns,
    *views_rounds.urlpatterns,
    *views_results.urlpatterns,
]
