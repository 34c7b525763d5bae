from django.urls import path

from .views import export as views
from .views import scenes as scene_views

urlpatterns = [
    path("", views.export_list, name="export_list"),
    path("start", views.export_start, name="export_start"),
    path("<int:job_id>/", views.export_detail, name="export_detail"),
    path("<int:job_id>/cancel", views.export_cancel, name="export_cancel"),
    path("<int:job_id>/download", views.export_download, name="export_download"),
    path("<int:job_id>/thumbs/<slug:sha256>.webp", views.export_thumbnail,
         name="export_thumbnail"),
    path("backgrounds/", scene_views.background_list, name="background_list"),
    path("backgrounds/<slug:slug>/", scene_views.background_edit, name="background_edit"),
    path("backgrounds/<slug:slug>/image", scene_views.background_image,
         name="background_image"),
    path("scenes/<int:cutout_id>/", scene_views.scene_card, name="scene_card"),
    path("scenes/<int:cutout_id>/<slug:preset>/<slug:slug>", scene_views.scene_preview_image,
         name="scene_preview_image"),
]
