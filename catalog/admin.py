"""Admin pages: read freely, write only through services (soft deletes, validated saves)."""

from typing import TYPE_CHECKING

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from . import selectors
from .errors import ProductDeletedError
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


def _soft_delete_selected(modeladmin, request, queryset):
    """Django's "Delete selected" (its confirmation page, then ``delete_queryset``, which is
    the soft delete here), with the page saying so."""
    response = delete_selected(modeladmin, request, queryset)
    if isinstance(response, TemplateResponse) and response.context_data is not None:
        response.context_data.update(modeladmin.soft_delete_context())
    return response


if TYPE_CHECKING:
    # the mixin's super() calls reach ModelAdmin; typing only, the runtime base is object
    _AdminBase = admin.ModelAdmin
else:
    _AdminBase = object


class SoftDeleteConfirmMixin(_AdminBase):
    """Deleting only sets deleted_at (``delete_model``/``delete_queryset`` call the services),
    so rows that protect this one do not block it, and the admin's one delete action and
    both confirmation pages say what really happens: a soft delete, the original files kept
    until the purge. Django's page would say "All of the following related items will be
    deleted", which is not so."""

    delete_confirmation_template = "catalog/admin/soft_delete_confirmation.html"
    delete_selected_confirmation_template = "catalog/admin/soft_delete_selected_confirmation.html"
    #: What the soft delete hides, for the confirmation pages.
    soft_delete_hides = "They are hidden"

    def get_deleted_objects(self, objs, request):
        objs = list(objs)
        label = self.model._meta.verbose_name_plural
        return [str(o) for o in objs], {label: len(objs), **self.hidden_with(objs)}, set(), []

    def hidden_with(self, objs: list) -> dict[str, int]:
        """Other rows the soft delete hides with ``objs``, counted for the summary."""
        return {}

    def soft_delete_context(self) -> dict:
        days = settings.CUTROOM_PURGE_RETENTION_DAYS
        return {"soft_delete_note": (
            f"This is a soft delete: nothing is erased now. {self.soft_delete_hides}; their "
            f"original files are kept until the purge, {days} day{'' if days == 1 else 's'} "
            "after the deletion.")}

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            # the one delete action: Django's, whose deletion is the soft delete here
            actions["delete_selected"] = (
                _soft_delete_selected, "delete_selected",
                "Delete selected %(verbose_name_plural)s (soft delete)")
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        return super().delete_view(request, object_id,
                                   {**self.soft_delete_context(), **(extra_context or {})})


class ProductAdminForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ("sku", *product_services.PRODUCT_EDITABLE)

    def clean_sku(self):
        # The service refuses a case twin in save_model, where an error would be a 500 page.
        sku = (self.cleaned_data.get("sku") or "").strip()
        deleted = Product.objects.filter(sku=sku, deleted_at__isnull=False).first()
        if deleted is not None and deleted.pk != self.instance.pk:
            raise forms.ValidationError(ProductDeletedError(deleted).text, code="sku_deleted")
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
    soft_delete_hides = ("The products and their images are hidden, and can be restored "
                         "with those images from Products → Deleted products")

    def hidden_with(self, objs: list) -> dict[str, int]:
        images = ImageAsset.live.filter(product__in=objs).count()
        return {str(ImageAsset._meta.verbose_name_plural): images} if images else {}

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            # The form checked the SKU, yet another save took it (or a case twin of it) before
            # save_model's service call; that refusal is for the user, not a server error.
            # The view's transaction is rolled back by then.
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

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


@admin.register(ImageAsset)
class ImageAssetAdmin(SoftDeleteConfirmMixin, admin.ModelAdmin):
    list_display = ("id", "product", "position", "status", "width", "height", "format",
                    "colour_mode", "colour_flagged", "uploaded_at", "deleted_at")
    list_filter = ("status", "format", "colour_flagged")
    search_fields = ("product__sku", "sha256", "original_filename")
    list_select_related = ("product",)
    show_full_result_count = False
    soft_delete_hides = "The images are hidden from their products"

    def has_add_permission(self, request):
        return False  # files come in through upload and import, which validate them

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        asset_services.asset_soft_delete(asset=obj)

    def delete_queryset(self, request, queryset):
        for asset in queryset:
            asset_services.asset_soft_delete(asset=asset)


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
