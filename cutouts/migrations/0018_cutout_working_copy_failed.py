"""Whether a version failed because its run could not read the image's working copy, as a
stored fact, ``Cutout.working_copy_failed``, instead of read off the start of its error text
(what the product page's rebuild offer and retry links read); versions that failed so before
keep offering the rebuild."""

from django.db import migrations, models

#: how the error of such a failure began when this migration was written: the rows to mark
#: are the ones that wording wrote, whatever the messages say later
WORKING_COPY_LEAD = "The working copy"


def mark_working_copy_failed(apps, schema_editor) -> None:
    Cutout = apps.get_model("cutouts", "Cutout")
    Cutout.objects.filter(status="failed", error__startswith=WORKING_COPY_LEAD).update(
        working_copy_failed=True)


class Migration(migrations.Migration):

    dependencies = [
        ("cutouts", "0017_cutout_is_unchanged"),
    ]

    operations = [
        migrations.AddField(
            model_name="cutout",
            name="working_copy_failed",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(mark_working_copy_failed, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="cutout",
            constraint=models.CheckConstraint(
                condition=models.Q(("working_copy_failed", False), ("status", "failed"),
                                   _connector="OR"),
                name="cutout_working_copy_failed_is_failed",
            ),
        ),
    ]
