"""URLs of the insight app (namespace ``insight``): surveys here; results and analysis screens
append theirs from their own modules."""

from django.urls import path

from sizheng.insight import views

try:
    from sizheng.insight.views_results import results_urlpatterns
except ModuleNotFoundError as exc:
    # Built separately: the app works without them, but an import error inside them still shows.
    if exc.name != "sizheng.insight.views_results":
        raise
    results_urlpatterns = []

try:
    from sizheng.insight.views_analysis import analysis_urlpatterns
except ModuleNotFoundError as exc:
    if exc.name != "sizheng.insight.views_analysis":
        raise
    analysis_urlpatterns = []

app_name = "insight"

urlpatterns = [
    path("surveys/", views.surveys, name="surveys"),
    path("surveys/ledger.xlsx", views.surveys_xlsx, name="surveys_xlsx"),
    path("surveys/new/", views.survey_create, name="survey_create"),
    path("surveys/<int:pk>/", views.survey_detail, name="survey_detail"),
    path("surveys/<int:pk>/edit/", views.survey_edit, name="survey_edit"),
    path("surveys/<int:pk>/delete/", views.survey_delete, name="survey_delete"),
    path("surveys/<int:pk>/publish/", views.survey_publish, name="survey_publish"),
    path("surveys/<int:pk>/close/", views.survey_close, name="survey_close"),
    path("surveys/<int:pk>/builder/", views.builder, name="builder"),
    path("surveys/<int:pk>/preview/", views.survey_preview, name="survey_preview"),
    path("surveys/<int:pk>/dimensions/new/", views.dimension_create, name="dimension_create"),
    path("surveys/<int:pk>/questions/new/", views.question_create, name="question_create"),
    path("surveys/<int:pk>/waves/new/", views.wave_open, name="wave_open"),
    path("surveys/<int:pk>/answer/", views.answer, name="answer"),
    path("dimensions/<int:pk>/edit/", views.dimension_edit, name="dimension_edit"),
    path("dimensions/<int:pk>/delete/", views.dimension_delete, name="dimension_delete"),
    path("dimensions/<int:pk>/move/", views.dimension_move, name="dimension_move"),
    path("questions/<int:pk>/edit/", views.question_edit, name="question_edit"),
    path("questions/<int:pk>/delete/", views.question_delete, name="question_delete"),
    path("questions/<int:pk>/move/", views.question_move, name="question_move"),
    path("waves/<int:pk>/close/", views.wave_close, name="wave_close"),
    path("mine/", views.mine, name="mine"),
    path("risk-alerts/", views.risk_alerts, name="risk_alerts"),
    path("risk-alerts/<int:pk>/ack/", views.risk_alert_ack, name="risk_alert_ack"),
    *results_urlpatterns,
    *analysis_urlpatterns,
]
