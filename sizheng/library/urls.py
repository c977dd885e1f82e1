"""URLs of the library app (namespace ``library``, under ``/library/``)."""

from django.urls import path

from sizheng.library import views

app_name = "library"

urlpatterns = [
    path("", views.materials, name="materials"),
    path("ledger.xlsx", views.materials_ledger, name="materials_ledger"),
    path("new/", views.material_create, name="material_create"),
    path("<int:pk>/", views.material_detail, name="material_detail"),
    path("<int:pk>/edit/", views.material_edit, name="material_edit"),
    path("<int:pk>/transition/", views.material_transition, name="material_transition"),
    path("<int:pk>/download/", views.material_download, name="material_download"),
    path("<int:pk>/attach/", views.material_attach, name="material_attach"),
    path("attach/<slug:kind>/<int:target_id>/", views.attach_pick, name="attach_pick"),
    path("attachments/<int:pk>/remove/", views.attachment_remove, name="attachment_remove"),
    path("topics/", views.topics, name="topics"),
    path("topics/<int:pk>/", views.topic_edit, name="topic_edit"),
    path("columns/", views.columns, name="columns"),
    path("columns/new/", views.column_create, name="column_create"),
    path("columns/<int:pk>/", views.column_detail, name="column_detail"),
    path("columns/<int:pk>/edit/", views.column_edit, name="column_edit"),
    path("columns/<int:pk>/write/", views.column_write, name="column_write"),
    path("columns/<int:pk>/editors/", views.column_editor_add, name="column_editor_add"),
    path(
        "columns/<int:pk>/editors/<int:user_pk>/remove/",
        views.column_editor_remove,
        name="column_editor_remove",
    ),
]
