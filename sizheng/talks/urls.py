"""URLs of the talks app (namespace ``talks``); the coverage and trigger screens add theirs."""

from django.urls import path

from sizheng.talks import views

try:
    from sizheng.talks.views_coverage import coverage_urlpatterns
except ModuleNotFoundError as exc:
    # Built separately: the ledger works without them, but an import error inside them still shows.
    if exc.name != "sizheng.talks.views_coverage":
        raise
    coverage_urlpatterns = []

app_name = "talks"

urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("ledger.xlsx", views.ledger_xlsx, name="ledger_xlsx"),
    path("mine/", views.mine, name="mine"),
    path("new/", views.create, name="create"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/follow-up/", views.follow_up, name="follow_up"),
    *coverage_urlpatterns,
]
