"""A batch's skip counts as columns (``CutoutBatch.skipped``, ``skipped_running``) instead of
keys of its ``checkpoint`` JSON; batches started before keep their counts, moved out of it."""

from django.db import migrations, models

KEYS = ("skipped", "skipped_running")


def move_counts(apps, schema_editor) -> None:
    CutoutBatch = apps.get_model("cutouts", "CutoutBatch")
    for batch in CutoutBatch.objects.exclude(checkpoint={}).iterator(chunk_size=2000):
        checkpoint = batch.checkpoint if isinstance(batch.checkpoint, dict) else {}
        if not any(key in checkpoint for key in KEYS):
            continue
        for key in KEYS:
            setattr(batch, key, int(checkpoint.pop(key, 0) or 0))
        batch.checkpoint = checkpoint
        batch.save(update_fields=[*KEYS, "checkpoint"])


def restore_counts(apps, schema_editor) -> None:
    CutoutBatch = apps.get_model("cutouts", "CutoutBatch")
    for batch in CutoutBatch.objects.exclude(skipped=0, skipped_running=0).iterator(
            chunk_size=2000):
        checkpoint = batch.checkpoint if isinstance(batch.checkpoint, dict) else {}
        checkpoint.update({key: getattr(batch, key) for key in KEYS if getattr(batch, key)})
        batch.checkpoint = checkpoint
        batch.save(update_fields=["checkpoint"])


class Migration(migrations.Migration):

    dependencies = [
        ("cutouts", "0009_cutout_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="cutoutbatch",
            name="skipped",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="cutoutbatch",
            name="skipped_running",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(move_counts, restore_counts),
    ]
