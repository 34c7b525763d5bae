from django.urls import include, path

from .views import jobs as views
from .views import selection as selection_views

app_name = "cutouts"

# Review and export routes live in their own modules, all under the "cutouts:" namespace.
urlpatterns = [
    path("batches/", views.batch_list, name="batch_list"),
    path("batches/start", views.batch_start, name="batch_start"),
    path("batches/<int:batch_id>/", views.batch_detail, name="batch_detail"),
    path("batches/<int:batch_id>/retry", views.batch_retry_failed, name="batch_retry"),
    path("batches/<int:batch_id>/cancel", views.batch_cancel, name="batch_cancel"),
    path("batches/<int:batch_id>/restart", views.batch_restart_cancelled,
         name="batch_restart"),
    path("selection/cutouts", selection_views.selection_cutouts, name="selection_cutouts"),
    path("selection/export", selection_views.selection_export, name="selection_export"),
    path("notifications", views.notifications, name="notifications"),
    path("review/", include("cutouts.urls_review")),
    path("export/", include("cutouts.urls_export")),
]
