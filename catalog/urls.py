from django.urls import path

from . import views

app_name = "catalog"

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products/new", views.product_create, name="product_create"),
    path("products/deleted", views.product_deleted_list, name="product_deleted_list"),
    path("products/bulk-edit", views.product_bulk_edit, name="product_bulk_edit"),
    path("products/bulk-edit/<int:pk>/", views.product_bulk_edit_detail,
         name="product_bulk_edit_detail"),
    path("products/bulk-edit/<int:pk>/report.csv", views.product_bulk_edit_report,
         name="product_bulk_edit_report"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit", views.product_edit, name="product_edit"),
    path("products/<int:pk>/restore", views.product_restore, name="product_restore"),
    path("products/<int:pk>/upload", views.product_upload, name="product_upload"),
    path("products/<int:pk>/delete", views.product_delete, name="product_delete"),
    path("products/<int:pk>/assets/<int:asset_pk>/delete", views.asset_delete,
         name="asset_delete"),
    path("products/<int:pk>/assets/<int:asset_pk>/restore", views.asset_restore,
         name="asset_restore"),
    path("products/<int:pk>/assets/<int:asset_pk>/rebuild-working-copy",
         views.asset_working_copy_rebuild, name="asset_working_copy_rebuild"),
    path("assets/<int:pk>/thumbnail", views.asset_thumbnail, name="asset_thumbnail"),
    path("upload/", views.bulk_upload, name="bulk_upload"),
    path("upload/preview", views.import_preview, name="import_preview"),
    path("upload/known", views.upload_known, name="upload_known"),
    path("imports/", views.import_list, name="import_list"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/files", views.import_upload_file, name="import_upload_file"),
    path("imports/<int:pk>/finish", views.import_finish, name="import_finish"),
    path("imports/<int:pk>/cancel", views.import_cancel, name="import_cancel"),
    path("imports/<int:pk>/report.csv", views.import_report, name="import_report"),
    path("summary", views.dashboard_summary, name="dashboard_summary"),
]
