"""No two live products whose SKUs differ only in case (see ``Product.Meta.constraints``).

An install that made case twins before the services refused them cannot take the constraint:
the migration stops before changing anything, naming each group of live twins and what to do
(delete all but one of each group, then migrate again). It resolves nothing by itself: which
twin to keep is the catalog manager's choice, and a deleted product can still be restored.
"""

from django.core.management.base import CommandError
from django.db import migrations, models
from django.db.models.functions import Upper

#: Groups named in the error at most; the count says how many more there are.
SHOWN = 20


def live_case_twins(Product) -> list[list[tuple[int, str]]]:
    """Groups of (pk, SKU) of live products whose SKUs are equal in the database's UPPER(),
    as the constraint compares them, in SKU order."""
    live = Product.objects.filter(deleted_at__isnull=True).annotate(sku_upper=Upper("sku"))
    clashing = (live.values("sku_upper").annotate(n=models.Count("pk"))
                .filter(n__gt=1).values("sku_upper"))
    groups: dict[str, list[tuple[int, str]]] = {}
    for pk, sku, upper in (live.filter(sku_upper__in=clashing).order_by("sku_upper", "sku")
                           .values_list("pk", "sku", "sku_upper")):
        groups.setdefault(upper, []).append((pk, sku))
    return list(groups.values())


def refuse_live_case_twins(apps, schema_editor) -> None:
    groups = live_case_twins(apps.get_model("catalog", "Product"))
    if not groups:
        return
    lines = [", ".join(f"{sku} (#{pk})" for pk, sku in group) for group in groups[:SHOWN]]
    if len(groups) > SHOWN:
        lines.append(f"... and {len(groups) - SHOWN} more groups")
    raise CommandError(
        f"catalog 0008: {len(groups)} groups of live products have SKUs that differ only in "
        "case; their export folders collide on macOS and Windows, and the database can only "
        "refuse new ones once none are left:\n  " + "\n  ".join(lines) + "\n"
        "Keep one product of each group and delete the others (product page: Delete, or "
        "the admin's soft delete), then run migrate again. Nothing was changed.")


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0007_importjob_replaced_count"),
    ]

    operations = [
        migrations.RunPython(refuse_live_case_twins, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(Upper("sku"), name="catalog_product_sku_upper"),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.UniqueConstraint(
                Upper("sku"), condition=models.Q(deleted_at__isnull=True),
                name="catalog_product_sku_upper_live", violation_error_code="sku_case_twin",
                violation_error_message="A live product has this SKU in another case.",
            ),
        ),
    ]
