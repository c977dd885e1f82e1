"""URLs of organisational life (namespace ``life``); compliance and appraisal screens add theirs."""

from django.urls import path

from sizheng.life import views

try:
    from sizheng.life.views_compliance import compliance_urlpatterns
except ModuleNotFoundError as exc:
    # Built separately: the app works without them, but an import error inside them still shows.
    if exc.name != "sizheng.life.views_compliance":
        raise
    compliance_urlpatterns = []

try:
    from sizheng.life.views_appraisal import appraisal_urlpatterns
except ModuleNotFoundError as exc:
    if exc.name != "sizheng.life.views_appraisal":
        raise
    appraisal_urlpatterns = []

app_name = "life"

urlpatterns = [
    path("meetings/", views.meetings, name="meetings"),
    path("meetings/ledger.xlsx", views.meetings_ledger, name="meetings_ledger"),
    path("meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/submit/", views.meeting_submit, name="meeting_submit"),
    path("meetings/<int:pk>/review/", views.meeting_review, name="meeting_review"),
    path("meetings/<int:pk>/report/", views.meeting_report, name="meeting_report"),
    path("meetings/<int:pk>/rectify/", views.meeting_rectify, name="meeting_rectify"),
    path("meetings/<int:pk>/notice/", views.meeting_notice, name="meeting_notice"),
    path("meetings/<int:pk>/record.docx", views.meeting_record_doc, name="meeting_record_doc"),
    path("meetings/<int:pk>/signin.docx", views.meeting_signin_doc, name="meeting_signin_doc"),
    path("calendar/", views.calendar, name="calendar"),
    path("birthdays/", views.birthdays, name="birthdays"),
    *compliance_urlpatterns,
    *appraisal_urlpatterns,
]
