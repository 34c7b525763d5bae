"""Admin pages: read freely, write only through services (soft deletes, validated saves)."""

from django import forms
from django.contrib import admin, messages

from . import selectors
from .models import ImageAsset, ImportIssue, ImportJob, Product
from .services import assets as asset_services
from .services import imports as import_services
from .services import products as product_services


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows only the services change (jobs, cutouts, decisions): listed, never edited here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SoftDeleteConfirmMixin:
    """Deleting only sets deleted_at, so rows that protect this one do not block it."""

    def get_deleted_objects(self, objs, request):
        objs = list(objs)
        label = self.model._meta.verbose_name_plural
        return [str(o) for o in objs], {label: len(objs)}, set(), []


class ProductAdminForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ("sku", *product_services.PRODUCT_EDITABLE)

    def clean_sku(self):
        # The service refuses a case twin in save_model, where an error would be a 500 page.
        sku = (self.cleaned_data.get("sku") or "").strip()
        twin = product_services.product_sku_twin(sku, exclude_pk=self.instance.pk)
        if twin is not None:
            raise forms.ValidationError(product_services.sku_twin_message(sku, twin),
                                        code="sku_case_twin")
        return sku


@admin.register(Product)
class ProductAdmin(SoftDeleteConfirmMixin, admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ("sku", "title", "brand", "category", "gtin", "asin", "updated_at",
                    "deleted_at")
    list_filter = ("brand", "category")
    search_fields = ("sku", "title", "gtin")
    show_full_result_count = False  # a COUNT(*) per page is wasted work at 50k rows
    readonly_fields = ("created_at", "updated_at", "deleted_at")
    actions = ["soft_delete"]

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "sku") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        fields = {k: form.cleaned_data.get(k, "") for k in product_services.PRODUCT_EDITABLE}
        if change:
            current = selectors.product_get(pk=obj.pk, include_deleted=True)
            product_services.product_update(product=current, **fields)
        else:
            created = product_services.product_create(sku=obj.sku, **fields)
            obj.pk = created.pk

    def delete_model(self, request, obj):
        product_services.product_soft_delete(product=obj)

    def delete_queryset(self, request, queryset):
        for product in queryset:
            product_services.product_soft_delete(product=product)

    @admin.action(description="Soft-delete selected products and their images")
    def soft_delete(self, request, queryset):
        self.delete_queryset(request, queryset)
        messages.success(request, "Deleted; files are purged after the retention period.")


@admin.register(ImageAsset)
class ImageAssetAdmin(SoftDeleteConfirmMixin, admin.ModelAdmin):
    list_display = ("id", "product", "position", "status", "width", "height", "format",
                    "colour_mode", "colour_flagged", "uploaded_at", "deleted_at")
    list_filter = ("status", "format", "colour_flagged")
    search_fields = ("product__sku", "sha256", "original_filename")
    list_select_related = ("product",)
    show_full_result_count = False
    actions = ["soft_delete"]

    def has_add_permission(self, request):
        return False  # files come in through upload and import, which validate them

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        asset_services.asset_soft_delete(asset=obj)

    def delete_queryset(self, request, queryset):
        for asset in queryset:
            asset_services.asset_soft_delete(asset=asset)

    @admin.action(description="Soft-delete selected images")
    def soft_delete(self, request, queryset):
        self.delete_queryset(request, queryset)


class ImportIssueInline(admin.TabularInline):
    model = ImportIssue
    extra = 0
    can_delete = False
    fields = ("level", "filename", "reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "source_kind", "source_filename", "status", "progress_done",
                    "progress_total", "imported_count", "error_count", "created_by", "created_at")
    list_filter = ("status", "source_kind")
    inlines = [ImportIssueInline]
    actions = ["cancel"]

    @admin.action(description="Cancel selected imports")
    def cancel(self, request, queryset):
        for job in queryset:
            import_services.import_job_cancel(job_id=job.pk)
