"""URLs of the study app (namespace ``study``)."""

from django.urls import path, re_path

from sizheng.study import views

app_name = "study"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("makeup/", views.makeup, name="makeup"),
    path("plans/", views.plans, name="plans"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", views.plan_update, name="plan_update"),
    path("plans/<int:pk>/publish/", views.plan_publish, name="plan_publish"),
    path("plans/<int:pk>/topics/", views.topic_add, name="topic_add"),
    path("groups/", views.groups, name="groups"),
    path("groups/new/", views.group_create, name="group_create"),
    path("groups/<int:pk>/", views.group_detail, name="group_detail"),
    path("groups/<int:pk>/members/", views.group_member_add, name="group_member_add"),
    path(
        "groups/<int:pk>/members/<int:person_pk>/remove/",
        views.group_member_remove,
        name="group_member_remove",
    ),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/new/", views.session_create, name="session_create"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("observations/", views.observations, name="observations"),
    path("observations/new/", views.observation_create, name="observation_create"),
    path("observations/<int:pk>/", views.observation_detail, name="observation_detail"),
    path("observations/<int:pk>/materials/", views.observation_materials, name="observation_materials"),
    path("observations/<int:pk>/summary/", views.observation_summary, name="observation_summary"),
    path("papers/", views.papers, name="papers"),
    path("archive/", views.archive_index, name="archive"),
    path("archive/<int:org_pk>/<int:year>/archive.docx", views.archive_docx, name="archive_docx"),
    path("archive/<int:org_pk>/<int:year>/attachments.zip", views.archive_zip, name="archive_zip"),
    re_path(
        r"^bulletin/(?P<org_pk>[0-9]+)/(?P<period_key>[0-9]{4}(?:-Q[1-4])?)\.docx$",
        views.bulletin_docx,
        name="bulletin_docx",
    ),
]
