"""What the import report reads from an issue, as fields (``ImportIssue.kind``, ``sku``,
``position``, ``asset_pk``) instead of parsed back from its words.

Issues written before are filled from the words they were written in (the two wordings below,
as ``assets._duplicate`` and ``assets.position_replaced_note`` had them), so old reports read
as they did. A replacement's new image is found as the job's image at that SKU and position.
"""

import re

from django.db import migrations, models

DUPLICATE = re.compile(r"^Duplicate: the same file is already stored for (?P<sku>\S+) as "
                       r"(?P<position>\w+) \(asset #(?P<asset>\d+)\)")
REPLACED = re.compile(r"^Replaced (?P<position>\w+) of (?P<sku>\S+) \(")


def fill_kinds(apps, schema_editor) -> None:
    ImportIssue = apps.get_model("catalog", "ImportIssue")
    ImageAsset = apps.get_model("catalog", "ImageAsset")
    warnings = ImportIssue.objects.filter(level="warning", kind="").filter(
        models.Q(reason__startswith="Duplicate: ") | models.Q(reason__startswith="Replaced "))
    for issue in warnings.iterator(chunk_size=2000):
        if found := DUPLICATE.match(issue.reason):
            issue.kind, issue.asset_pk = "duplicate", int(found["asset"])
        elif found := REPLACED.match(issue.reason):
            issue.kind = "replaced"
            issue.asset_pk = (ImageAsset.objects.filter(
                import_job_id=issue.job_id, product__sku=found["sku"],
                position=found["position"]).order_by("pk").values_list("pk", flat=True)
                .first())
        else:
            continue
        issue.sku, issue.position = found["sku"][:64], found["position"][:4]
        issue.save(update_fields=["kind", "sku", "position", "asset_pk"])


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0008_product_sku_case_unique'),
    ]

    operations = [
        migrations.AddField(
            model_name='importissue',
            name='asset_pk',
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='importissue',
            name='kind',
            field=models.CharField(blank=True, choices=[('', 'Other'), ('duplicate', 'Duplicate of a stored image'), ('replaced', 'Replaced an older image')], default='', max_length=16),
        ),
        migrations.AddField(
            model_name='importissue',
            name='position',
            field=models.CharField(blank=True, default='', max_length=4),
        ),
        migrations.AddField(
            model_name='importissue',
            name='sku',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.RunPython(fill_kinds, migrations.RunPython.noop),
    ]
