"""Refusals of finished exports as rows (``RefusedVariant``), not a list in the job's report.

``report["refused"]`` (2026-12-03) kept every refused image of a run in the job's JSON, about
100 bytes per refused file, read back with every job row. Its entries are moved into the
table (the preset's name was not kept: ``preset`` is empty on those rows) and the key leaves
the report, so the product page keeps each image's note.
"""

import django.db.models.deletion
from django.db import migrations, models

#: cutouts.selectors.export.REFUSED, as of this migration
REFUSED = "refused"


def move_refusals(apps, schema_editor):
    ExportJob = apps.get_model("cutouts", "ExportJob")
    RefusedVariant = apps.get_model("cutouts", "RefusedVariant")
    ImageAsset = apps.get_model("catalog", "ImageAsset")
    rows = (ExportJob.objects.filter(**{"report__has_key": REFUSED})
            .values_list("pk", "report"))
    for pk, report in rows.iterator(chunk_size=100):
        refused = report.get(REFUSED) if isinstance(report, dict) else None
        ids = {int(key[1:]) for key in (refused or {}) if key[1:].isdigit()}
        known = set(ImageAsset.objects.filter(pk__in=ids).values_list("pk", flat=True))
        RefusedVariant.objects.bulk_create(
            [RefusedVariant(job_id=pk, asset_id=int(key[1:]), preset="",
                            label=str(label)[:200], reason=str(reason)[:200])
             for key, entries in (refused or {}).items()
             if key[1:].isdigit() and int(key[1:]) in known
             for label, reason in entries], batch_size=1000)
        ExportJob.objects.filter(pk=pk).update(
            report={k: v for k, v in report.items() if k != REFUSED})


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0012_product_bulk_edit'),
        ('cutouts', '0013_export_origin_form'),
    ]

    operations = [
        migrations.CreateModel(
            name='RefusedVariant',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('preset', models.CharField(max_length=120)),
                ('label', models.CharField(max_length=200)),
                ('reason', models.CharField(max_length=200)),
                ('asset', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='catalog.imageasset')),
                ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='refusals', to='cutouts.exportjob')),
            ],
            options={
                'indexes': [models.Index(fields=['asset', 'job'], name='refusal_asset_job')],
            },
        ),
        migrations.RunPython(move_refusals, migrations.RunPython.noop, elidable=True),
    ]
