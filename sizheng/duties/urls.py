"""URLs of the duties app (namespace ``duties``)."""

from django.urls import path

from sizheng.duties import views

app_name = "duties"

urlpatterns = [
    path("", views.board, name="board"),
    path("org/<int:org_pk>/", views.board, name="org_board"),
    path("rollup/", views.rollup, name="rollup"),
    path("org/<int:org_pk>/rollup/", views.rollup, name="org_rollup"),
    path("mine/", views.mine, name="mine"),
    path("new/", views.create, name="create"),
    path("export/", views.export, name="export"),
    path("lists/", views.lists, name="lists"),
    path("lists/new/", views.list_create, name="list_create"),
    path("campaigns/", views.campaigns, name="campaigns"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", views.campaign, name="campaign"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/transition/", views.transition, name="transition"),
    path("<int:pk>/files/", views.upload, name="upload"),
    path("<int:pk>/urge-notice/", views.urge_notice, name="urge_notice"),
]
