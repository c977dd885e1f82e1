"""Top-level URLs: each app's urls under its prefix, the API under /api/v1/."""

from django.urls import include, path

from sizheng.api import api

handler403 = "sizheng.core.views.error_403"
handler404 = "sizheng.core.views.error_404"
handler500 = "sizheng.core.views.error_500"

urlpatterns = [
    path("", include("sizheng.core.urls")),
    path("org/", include("sizheng.org.urls")),
    path("duties/", include("sizheng.duties.urls")),
    path("life/", include("sizheng.life.urls")),
    path("study/", include("sizheng.study.urls")),
    path("talks/", include("sizheng.talks.urls")),
    path("care/", include("sizheng.care.urls")),
    path("insight/", include("sizheng.insight.urls")),
    path("funds/", include("sizheng.funds.urls")),
    path("team/", include("sizheng.team.urls")),
    path("volunteer/", include("sizheng.volunteer.urls")),
    path("library/", include("sizheng.library.urls")),
    path("assess/", include("sizheng.assess.urls")),
    path("dashboard/", include("sizheng.dashboard.urls")),
    path("notices/", include("sizheng.notices.urls")),
    path("search/", include("sizheng.search.urls")),
    path("api/v1/", api.urls),
]
