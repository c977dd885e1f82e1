from django.urls import path
from django.views.generic import RedirectView

from sizheng.core import views, views_health

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views_health.healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url="/static/core/favicon.svg", permanent=True)),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("accounts/password/", views.password_change, name="password_change"),
    path("accounts/otp/", views.otp, name="otp"),
    path("accounts/me/", views.account, name="account"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox_read"),
    path("system/audit/", views.audit_log, name="audit_log"),
    path("system/audit/export/", views.audit_export, name="audit_export"),
    path("system/lockouts/", views.lockouts, name="lockouts"),
    path("system/lockouts/unlock/", views.unlock, name="unlock"),
    path("system/holidays/", views.holidays, name="holidays"),
    path("system/holidays/<int:pk>/delete/", views.holiday_delete, name="holiday_delete"),
    path("system/accounts/", views.accounts, name="accounts"),
    path("system/accounts/<int:pk>/", views.account_action, name="account_action"),
    path("files/<uuid:uid>/", views.file_download, name="file"),
]
