"""URLs of the org app (namespace ``org``); the roster import/export views add theirs at the end."""

from django.urls import path

from sizheng.org import views

try:
    from sizheng.org.views_roster import roster_urlpatterns
except ModuleNotFoundError as exc:
    # Built separately: the app works without them, but an import error inside them still shows.
    if exc.name != "sizheng.org.views_roster":
        raise
    roster_urlpatterns = []

app_name = "org"

urlpatterns = [
    path("", views.tree, name="tree"),
    path("orgs/<int:pk>/", views.org_detail, name="org_detail"),
    path("orgs/<int:pk>/edit/", views.org_edit, name="org_edit"),
    path("orgs/<int:pk>/new/", views.org_create, name="org_create"),
    path("orgs/<int:pk>/posts/new/", views.org_role_assign, name="org_role_assign"),
    path("orgs/<int:pk>/posts/<int:post_pk>/end/", views.org_role_end, name="org_role_end"),
    path("orgs/<int:pk>/handover/", views.org_handover, name="org_handover"),
    path("people/", views.people, name="people"),
    path("pick/<slug:kind>/", views.pick, name="pick"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/transfer/", views.person_transfer, name="person_transfer"),
    path("accounts/", views.accounts_create, name="accounts_create"),
    path("grants/", views.grants, name="grants"),
    path("grants/<int:pk>/revoke/", views.grant_revoke, name="grant_revoke"),
    *roster_urlpatterns,
]
