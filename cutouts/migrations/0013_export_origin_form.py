"""Mark the exports made before ``report["origin"]`` existed that can only have come from the
export form, so each user's first form after the deploy opens with their last export, as it
did before (without a mark it opened empty).

A user export is the form's or the API's (``manage.py export`` records no user). One made by
a user who held no API key able to write at that moment came from the form: it is marked
``"form"``. One made while the user held such a key may be an API client's, whose custom
specs nobody chose in the form (the bug the mark fixed): it stays unmarked and is never
pre-filled from. Rows that already carry an origin are left alone.
"""

from collections import defaultdict

from django.db import migrations

#: cutouts.selectors.export.ORIGIN_FORM, as of this migration
ORIGIN_FORM = "form"
#: catalog.api_models.ApiScope.READ_ONLY: such a key cannot create an export
READ_ONLY = "read_only"


def _held_key(spans: list, at) -> bool:
    return any(created <= at and (revoked is None or revoked > at)
               for created, revoked in spans)


def mark_form_exports(apps, schema_editor):
    ExportJob = apps.get_model("cutouts", "ExportJob")
    ApiKey = apps.get_model("catalog", "ApiKey")
    keys: dict[int, list] = defaultdict(list)
    for user_id, created, revoked in (ApiKey.objects.exclude(scope=READ_ONLY)
                                      .values_list("user_id", "created_at", "revoked_at")):
        keys[user_id].append((created, revoked))
    rows = (ExportJob.objects.filter(created_by__isnull=False)
            .values_list("pk", "created_by_id", "created_at", "report"))
    for pk, user_id, created_at, report in rows.iterator(chunk_size=500):
        report = report if isinstance(report, dict) else {}
        if "origin" in report or _held_key(keys[user_id], created_at):
            continue
        ExportJob.objects.filter(pk=pk).update(report={**report, "origin": ORIGIN_FORM})


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0004_api"),
        ("cutouts", "0012_cutout_progress"),
    ]

    operations = [
        migrations.RunPython(mark_form_exports, migrations.RunPython.noop, elidable=True),
    ]
