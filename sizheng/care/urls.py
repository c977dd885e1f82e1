"""URLs of the care app (namespace ``care``): care cases here; the wellbeing screens add theirs."""

from django.urls import path

from sizheng.care import views

try:
    from sizheng.care.views_wellbeing import wellbeing_urlpatterns
except ModuleNotFoundError as exc:
    # Built separately: care cases work without them, but an import error inside them still shows.
    if exc.name != "sizheng.care.views_wellbeing":
        raise
    wellbeing_urlpatterns = []

app_name = "care"

urlpatterns = [
    path("", views.cases, name="cases"),
    path("ledger.xlsx", views.ledger, name="ledger"),
    path("mine/", views.mine, name="mine"),
    path("new/", views.case_create, name="case_create"),
    path("<int:pk>/", views.case_detail, name="case_detail"),
    path("<int:pk>/transition/", views.case_transition, name="case_transition"),
    *wellbeing_urlpatterns,
]
