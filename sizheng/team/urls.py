"""URLs of the team app (队伍建设), namespace ``team``."""

from django.urls import path

from sizheng.team import views

app_name = "team"

urlpatterns = [
    path("", views.members, name="members"),
    path("export.xlsx", views.export, name="export"),
    path("new/", views.create, name="create"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/end/", views.end, name="end"),
    path("<int:pk>/trainings/", views.training_add, name="training_add"),
    path("trainings/<int:pk>/delete/", views.training_remove, name="training_remove"),
    path("coverage/", views.coverage_page, name="coverage"),
    path("coverage/duty/", views.gap_duty, name="gap_duty"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
]
