"""URLs of the volunteer app (namespace ``volunteer``, under ``/volunteer/``)."""

from django.urls import path
from django.views.generic import RedirectView

from sizheng.volunteer import views, views_civility

app_name = "volunteer"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="volunteer:activities", permanent=False), name="index"),
    # volunteering
    path("activities/", views.activities, name="activities"),
    path("activities/ledger.xlsx", views.activities_export, name="activities_export"),
    path("activities/new/", views.activity_create, name="activity_create"),
    path("activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/transition/", views.activity_transition, name="activity_transition"),
    path("activities/<int:pk>/attach/", views.activity_attach, name="activity_attach"),
    path("activities/<int:pk>/signup/", views.signup, name="signup"),
    path("activities/<int:pk>/confirm/", views.activity_confirm, name="activity_confirm"),
    path("signups/<int:pk>/withdraw/", views.signup_withdraw, name="signup_withdraw"),
    path("mine/", views.mine, name="mine"),
    path("overview/", views.overview, name="overview"),
    path("campaigns/", views.campaigns, name="campaigns"),
    path("campaigns/<int:pk>/", views.campaign_edit, name="campaign_edit"),
    # civility
    path("civility/", views_civility.applications, name="applications"),
    path("civility/ledger.xlsx", views_civility.applications_export, name="applications_export"),
    path("civility/new/", views_civility.application_create, name="application_create"),
    path("civility/overview/", views_civility.civility_overview, name="civility_overview"),
    path("civility/criteria/", views_civility.criteria, name="criteria"),
    path("civility/criteria/<int:pk>/", views_civility.criterion_edit, name="criterion_edit"),
    path("civility/<int:pk>/", views_civility.application_detail, name="application_detail"),
    path("civility/<int:pk>/edit/", views_civility.application_edit, name="application_edit"),
    path("civility/<int:pk>/submit/", views_civility.application_submit, name="application_submit"),
    path("civility/<int:pk>/review/", views_civility.application_review, name="application_review"),
    path("civility/<int:pk>/delete/", views_civility.application_delete, name="application_delete"),
    path("civility/items/<int:pk>/attach/", views_civility.item_attach, name="item_attach"),
]
