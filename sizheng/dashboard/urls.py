"""URLs of the dashboard (namespace ``dashboard``, under ``/dashboard/``)."""

from django.urls import path

from sizheng.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.index, name="index"),
    path("org/<int:pk>/", views.org_page, name="org"),
    path("unit/<int:pk>/", views.unit_page, name="unit"),
    path("me/", views.me, name="me"),
    path("cards/<slug:name>/", views.card, name="card"),
    path("gap-duty/", views.gap_duty, name="gap_duty"),
]
