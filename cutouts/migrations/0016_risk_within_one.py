"""Cutouts stored with a risk above 1 (before the tie-break took a share of 1 - p, a
near-certain bad cut read "Risk 1.01") get their risk recomputed from their stored signals,
so every row is a probability, as docs/review.md says."""

from django.db import migrations


def recompute(apps, schema_editor):
    # Today's risk_of, not a frozen copy, on purpose: the rows are to read what the review
    # would compute for them now (a copy would drift from the risk model). It reads only the
    # stored JSON, no model class. Every test database runs this migration, so renaming or
    # changing the signature of risk_of fails the suite here rather than on a customer's
    # upgrade: then give this function its own copy.
    from cutouts.services.review import risk_of

    Cutout = apps.get_model("cutouts", "Cutout")
    for row in Cutout.objects.filter(risk__gt=1.0).only("pk", "signals", "preflags").iterator():
        Cutout.objects.filter(pk=row.pk).update(
            risk=risk_of(signals=row.signals, preflags=list(row.preflags or [])))


class Migration(migrations.Migration):

    dependencies = [
        ("cutouts", "0015_review_undo"),
    ]

    operations = [
        migrations.RunPython(recompute, migrations.RunPython.noop),
    ]
