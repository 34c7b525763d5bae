import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from cutouts.admin import PresetForm
from cutouts.models import Preset

pytestmark = pytest.mark.django_db

VALID = {"name": "custom", "label": "Custom", "enabled": True,
         "spec": "format-jpeg | bg-ffffff | trim | fill-85 | square-1000",
         "naming": "{sku}_{n}.{ext}", "rules": '{"background": "ffffff", "formats": ["jpeg"]}',
         "sources": "house rule"}


def test_it_saves_a_valid_preset_with_its_canonical_spec():
    form = PresetForm(data=VALID)
    assert form.is_valid(), form.errors
    preset = form.save()
    assert preset.spec == "trim|fill-85|square-1000|bg-ffffff|format-jpeg"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("spec", "trim|fill-85|blur-3", "unknown operation 'blur'"),
    ("spec", "trim|format-jpeg", "format-jpeg cannot store transparency"),
    ("spec", "trim|fill-85|square-1000|bg-fffff|format-jpeg", "bg-RRGGBB needs 6 hex digits"),
    ("spec", "trim|lossless|format-jpeg|bg-ffffff", "JPEG is lossy"),
    ("naming", "{sku}.{colour}.{ext}", "unknown field {colour}"),
    ("naming", "../{sku}.{ext}", "empty or dot-only folder"),
    ("naming", "{sku}%.{ext}", "contains characters outside"),
    ("rules", '{"min_fill": 85}', "unknown compliance rule(s): min_fill"),
    ("rules", '{"aspect_ratios": 43}', "aspect_ratios must be a list, not 43"),
    ("rules", '{"formats": ["png"]}', "The spec writes jpeg, which these rules reject"),
])
def test_it_rejects_presets_that_exports_could_not_use(field, value, message):
    form = PresetForm(data={**VALID, field: value})
    assert not form.is_valid()
    assert any(message in error for error in form.errors[field]), form.errors


def test_export_and_review_rows_are_read_only_in_the_admin(client):
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-12345678")
    client.force_login(admin)
    preset = Preset.objects.get(name="amazon_main")
    assert client.get(reverse("admin:cutouts_preset_change", args=[preset.pk])).status_code == 200
    for model in ("rendition", "exportjob", "cutout", "cutoutbatch", "reviewdecision"):
        assert client.get(reverse(f"admin:cutouts_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:cutouts_{model}_add")).status_code == 403
