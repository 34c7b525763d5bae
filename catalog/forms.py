"""Catalog page forms: they only carry input; the product services validate it."""

from django import forms
from django.core.exceptions import ValidationError

from .ingest.csvfile import ENCODING_CHOICES
from .ingest.manifest import ENCODINGS
from .validators import SKU_MAX_LENGTH, validate_sku


class ProductForm(forms.Form):
    """Create (with SKU) or edit a product. Lengths match the model; every other rule (SKU
    characters, GTIN check digit, ASIN shape, SKU taken) comes from ``product_create`` /
    ``product_update`` through :meth:`add_service_errors`."""

    # No max_length: its HTML maxlength cut a pasted 65-character SKU to 64 without a word,
    # and a cut SKU may name another product. Refused in clean_sku with the SKU rule's words.
    sku = forms.CharField(label="SKU", help_text=(
        f"Up to {SKU_MAX_LENGTH} characters: letters, digits, '.', '_' or '-', starting with "
        "a letter or digit."))
    title = forms.CharField(max_length=255, required=False)
    brand = forms.CharField(max_length=120, required=False)
    category = forms.CharField(max_length=120, required=False)
    gtin = forms.CharField(label="GTIN/EAN/UPC", max_length=32, required=False,
                           help_text="EAN-8, UPC-A (12), EAN-13 or GTIN-14 digits, with check "
                                     "digit.")
    # Longer than an ASIN: pasted spaces and dashes are removed by the service.
    asin = forms.CharField(label="ASIN", max_length=20, required=False)

    def __init__(self, *args, with_sku: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not with_sku:
            del self.fields["sku"]

    def clean_sku(self) -> str:
        value = self.cleaned_data["sku"]
        if len(value) > SKU_MAX_LENGTH:
            # the one SKU rule's refusal (validators.validate_sku, as for "bad sku!"): the
            # API's schema wording ("String should have at most 64 characters") read as
            # another rule (QA 2026-12-06); checked here so the model's own max_length
            # message is not shown beside it
            validate_sku(value)
        return value

    @property
    def product_fields(self) -> dict[str, str]:
        return {k: v for k, v in self.cleaned_data.items() if k != "sku"}

    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.message_dict.items():
            self.add_error(name if name in self.fields else None, errors)


class BulkEditForm(forms.Form):
    file = forms.FileField(label="CSV file")
    encoding = forms.ChoiceField(choices=ENCODING_CHOICES, initial="utf-8")

    def clean_encoding(self) -> str:
        value = self.cleaned_data["encoding"]
        if value not in ENCODINGS:
            raise ValidationError("Choose UTF-8 or Windows-1252 / Latin-1.")
        return value
