"""URLs of the notices app (namespace ``notices``, under ``/notices/``)."""

from django.urls import path

from sizheng.notices import views

app_name = "notices"

urlpatterns = [
    path("", views.notice_list, name="list"),
    path("new/", views.notice_create, name="create"),
    path("<int:pk>/", views.notice_detail, name="detail"),
    path("<int:pk>/edit/", views.notice_edit, name="edit"),
    path("<int:pk>/delete/", views.notice_delete, name="delete"),
    path("<int:pk>/publish/", views.notice_publish, name="publish"),
    path("<int:pk>/withdraw/", views.notice_withdraw, name="withdraw"),
    path("<int:pk>/receipt/", views.notice_acknowledge, name="acknowledge"),
    path("<int:pk>/status/", views.notice_status, name="status"),
    path("<int:pk>/status.xlsx", views.notice_status_export, name="status_export"),
]
