from django.urls import path

from .views import review as views

# Included under "cutouts/review/" in the "cutouts:" namespace.
urlpatterns = [
    path("", views.queue, name="review_queue"),
    path("grid/", views.grid, name="review_grid"),
    path("card/<int:cutout_id>/", views.card, name="review_card"),
    path("image/<int:cutout_id>/<slug:kind>", views.image, name="review_image"),
    path("tile/<int:cutout_id>/<slug:kind>", views.tile, name="review_tile"),
    path("retouch/", views.retouch_queue, name="retouch_queue"),
    path("retouch/<int:cutout_id>/", views.retouch, name="retouch_card"),
    path("retouch/<int:cutout_id>/preview/", views.retouch_preview, name="retouch_preview"),
    path("history/<int:asset_id>/", views.history, name="review_history"),
]
