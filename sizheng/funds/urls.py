"""URLs of the funds app (namespace ``funds``, under ``/funds/``)."""

from django.urls import path

from sizheng.funds import views

app_name = "funds"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("units/<int:unit_id>/", views.unit_execution, name="unit"),
    path("units/<int:unit_id>/budget/<int:year>/", views.budget_edit, name="budget_edit"),
    path("spending/", views.spending_list, name="spending_list"),
    path("spending/ledger.xlsx", views.ledger, name="ledger"),
    path("spending/new/", views.spending_create, name="spending_create"),
    path("spending/<int:pk>/", views.spending_detail, name="spending_detail"),
    path("spending/<int:pk>/edit/", views.spending_edit, name="spending_edit"),
    path("spending/<int:pk>/delete/", views.spending_delete, name="spending_delete"),
]
