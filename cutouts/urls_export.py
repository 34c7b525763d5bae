from django.urls import path

from .views import export as views

urlpatterns = [
    path("", views.export_list, name="export_list"),
    path("start", views.export_start, name="export_start"),
    path("<int:job_id>/", views.export_detail, name="export_detail"),
    path("<int:job_id>/cancel", views.export_cancel, name="export_cancel"),
    path("<int:job_id>/download", views.export_download, name="export_download"),
]
