"""Whether a version ended "unchanged" (a retouch whose result was its parent's picture pixel
for pixel) as a stored fact, ``Cutout.is_unchanged``, instead of read off the start of its
error text; versions that ended so before keep reading unchanged."""

from django.db import migrations, models

#: how the error of such a version began when this migration was written: the rows to mark
#: are the ones that wording wrote, whatever the message says later
NOTHING_CHANGED_LEAD = "Nothing changed: "


def mark_unchanged(apps, schema_editor) -> None:
    Cutout = apps.get_model("cutouts", "Cutout")
    Cutout.objects.filter(status="cancelled", error__startswith=NOTHING_CHANGED_LEAD).update(
        is_unchanged=True)


class Migration(migrations.Migration):

    dependencies = [
        ("cutouts", "0016_risk_within_one"),
    ]

    operations = [
        migrations.AddField(
            model_name="cutout",
            name="is_unchanged",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(mark_unchanged, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="cutout",
            constraint=models.CheckConstraint(
                condition=models.Q(("is_unchanged", False), ("status", "cancelled"),
                                   _connector="OR"),
                name="cutout_unchanged_is_cancelled",
            ),
        ),
    ]
