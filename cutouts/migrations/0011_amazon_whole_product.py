from django.db import migrations


def require_whole_product(apps, schema_editor):
    """Give the seeded Amazon main preset the ``whole_product`` rule (a product the photo's
    frame cuts fails there: Amazon's main image shows the entire product); a value an admin
    already set is left alone."""
    Preset = apps.get_model("cutouts", "Preset")
    for row in Preset.objects.filter(name="amazon_main"):
        rules = dict(row.rules or {})
        rules.setdefault("whole_product", True)
        row.rules = rules
        row.save(update_fields=["rules"])


class Migration(migrations.Migration):

    dependencies = [
        ("cutouts", "0010_batch_skip_counts"),
    ]

    operations = [
        migrations.RunPython(require_whole_product, migrations.RunPython.noop),
    ]
