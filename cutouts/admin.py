"""Admin: presets are editable (validated exactly as exports will use them); the job, cutout,
review and rendition rows are read-only because only the services may change them."""

from django import forms
from django.contrib import admin

from catalog.admin import ReadOnlyAdmin

from . import variants
from .models import Cutout, CutoutBatch, ExportJob, Preset, Rendition, ReviewDecision


class PresetForm(forms.ModelForm):
    class Meta:
        model = Preset
        fields = ("name", "label", "enabled", "spec", "naming", "rules", "sources")
        widgets = {"spec": forms.TextInput(attrs={"size": 100}),
                   "naming": forms.TextInput(attrs={"size": 60})}

    def clean_spec(self) -> str:
        try:
            # Store the canonical form: renditions are cached under it.
            return variants.parse_spec(self.cleaned_data["spec"]).canonical()
        except variants.SpecError as exc:
            raise forms.ValidationError(str(exc))

    def clean_naming(self) -> str:
        naming = self.cleaned_data["naming"].strip()
        try:
            variants.validate_template(naming)
            # A sample name catches templates that parse but can never build a path ("../").
            variants.build_name(naming, sku="SKU-1", asin="B000000000", gtin="4006381333931",
                                position=1, preset="preset", ext="jpg")
        except variants.ExportNamingError as exc:
            raise forms.ValidationError(str(exc))
        return naming

    def clean_rules(self) -> dict:
        rules = self.cleaned_data["rules"]
        if rules is None:
            return {}
        if not isinstance(rules, dict):
            raise forms.ValidationError("Rules must be a JSON object.")
        try:
            variants.Rules.from_dict(rules)
        except variants.VariantError as exc:
            raise forms.ValidationError(str(exc))
        return rules

    def clean(self):
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data (the stubs allow None)
        spec, rules = data.get("spec"), data.get("rules")
        if spec and rules is not None and "formats" in rules:
            fmt = variants.parse_spec(spec).format
            if fmt not in rules["formats"]:
                self.add_error("rules", f"The spec writes {fmt}, which these rules reject "
                                        f"(formats: {', '.join(rules['formats'])}).")
        return data


@admin.register(Preset)
class PresetAdmin(admin.ModelAdmin):
    form = PresetForm
    list_display = ("name", "label", "spec", "naming", "enabled", "updated_at")
    list_filter = ("enabled",)
    search_fields = ("name", "label")


@admin.register(Rendition)
class RenditionAdmin(ReadOnlyAdmin):
    list_display = ("cutout", "spec", "width", "height", "bytes", "compliance_ok", "created_at")
    list_filter = ("compliance_ok",)
    search_fields = ("spec", "cache_key", "sha256")
    raw_id_fields = ("cutout",)


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    list_display = ("pk", "created_by", "created_at", "status", "dry_run", "destination",
                    "progress_done", "progress_total", "exported_count", "failed_count")
    list_filter = ("status", "dry_run", "destination")


@admin.register(Cutout)
class CutoutAdmin(ReadOnlyAdmin):
    list_display = ("pk", "asset", "version", "status", "review_status", "is_current",
                    "made_by", "model_name", "created_at")
    list_filter = ("status", "review_status", "is_current", "is_unchanged",
                   "working_copy_failed", "model_name")
    raw_id_fields = ("asset", "batch", "parent")
    show_full_result_count = False

    @admin.display(description="made by", ordering="source")
    def made_by(self, obj: Cutout) -> str:
        # one source value covers both kinds of retouch; the uploaded file's name tells them
        if obj.source == Cutout.Source.RETOUCH:
            return "uploaded retouch" if obj.upload_name else "retouch strokes"
        return obj.get_source_display()


@admin.register(CutoutBatch)
class CutoutBatchAdmin(ReadOnlyAdmin):
    list_display = ("pk", "label", "profile", "status", "total", "created_by", "created_at")
    list_filter = ("status", "profile")


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(ReadOnlyAdmin):
    list_display = ("pk", "asset", "cutout", "action", "user", "created_at")
    list_filter = ("action",)
    raw_id_fields = ("cutout", "asset")
