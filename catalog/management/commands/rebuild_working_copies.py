from django.core.management.base import BaseCommand, CommandError

from catalog.errors import WorkingCopyRebuildError
from catalog.models import ImageAsset, Product
from catalog.services.assets import asset_working_copy_rebuild, working_copy_check
from catalog.services.products import product_sku_twin


def _cut(text: str, width: int) -> str:
    """``text`` fitting ``width`` columns, its cut shown by "…" (a SKU of 60 characters)."""
    return text if len(text) <= width else text[:width - 1] + "…"


class Command(BaseCommand):
    #: SKU, position, asset id, action (the longest: "rebuilt with #1234567"), reason
    ROW = "{:<24} {:<4} {:>7}  {:<21}  {}"
    help = ("Check images' working copies and rebuild the missing or unreadable ones from "
            "their originals; prints a table.")

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--product", metavar="SKU",
                            help="The live images of one product.")
        target.add_argument("--all-broken", action="store_true",
                            help="Every live image: rebuild those whose working copy is "
                                 "missing or unreadable.")
        parser.add_argument("--force", action="store_true",
                            help="With --product: rebuild every image, readable or not.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Check and list; change nothing.")

    def handle(self, *args, product, all_broken, force, dry_run, **options):
        if force and not product:
            raise CommandError("--force goes with --product.")
        rows = ImageAsset.live.filter(product__deleted_at__isnull=True)
        if product:
            found = (Product.live.filter(sku=product).first()
                     or product_sku_twin(product))
            if found is None:
                raise CommandError(f"No product with SKU {product!r}.")
            rows = rows.filter(product=found)
        # The short action before the reason, which is last and whole (it may be long: an
        # exception's text); a refusal's message goes on the line below, indented.
        header = ("SKU", "POS", "ASSET", "ACTION", "WORKING COPY")
        self.stdout.write(self.ROW.format(*header))
        checked = broken = rebuilt = refused = 0
        # old working copy name -> the asset whose rebuild moved every row naming it
        moved: dict[str, int] = {}
        # a chunked cursor and one image's check at a time: memory stays flat on any catalog
        for asset in rows.select_related("product").order_by("pk").iterator(chunk_size=500):
            checked += 1
            state = working_copy_check(asset=asset)
            if not state and not force:
                continue  # only what needs doing is listed
            broken += bool(state)
            why = ""
            if asset.working_name in moved:
                action = f"rebuilt with #{moved[asset.working_name]}"  # the same file
            elif dry_run:
                action = "would rebuild"
            else:
                old = asset.working_name
                try:
                    asset_working_copy_rebuild(asset=asset)
                except WorkingCopyRebuildError as exc:
                    refused += 1
                    action, why = "REFUSED", str(exc)
                else:
                    rebuilt += 1
                    moved[old] = asset.pk
                    action = "rebuilt"
            self.stdout.write(self.ROW.format(
                _cut(asset.product.sku, 24), asset.position, asset.pk, action,
                state or "readable"))
            if why:
                self.stdout.write(f"{'':<39}{why}")
        self.stdout.write(
            f"Checked {checked} images: {broken} with a missing or unreadable working copy; "
            + (f"{rebuilt} rebuilt, {refused} refused." if not dry_run
               else "nothing changed (dry run)."))
        if refused:
            raise CommandError(f"{refused} working copies could not be rebuilt (see above).")
