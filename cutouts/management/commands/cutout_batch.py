import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.models import Product
from cutouts.errors import BatchError
from cutouts.imaging.settings import PROFILES
from cutouts.models import CutoutBatch
from cutouts.selectors.jobs import (
    assets_for_cutout,
    cutout_batch_failures,
    cutout_batch_progress,
    cutout_batch_skipped,
)
from cutouts.services.batches import batch_skip_note, cutout_batch_start


class Command(BaseCommand):
    help = "Start a cutout batch for a product or for every pending image, and follow it."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--product", metavar="SKU")
        target.add_argument("--all-pending", action="store_true")
        parser.add_argument("--profile", default="default", choices=list(PROFILES))
        parser.add_argument("--model", help="Model name (default: CUTROOM_MODEL).")
        parser.add_argument("--recut", action="store_true",
                            help="Cut again images that already have a cutout with these "
                                 "settings (queued, running, awaiting review or approved); "
                                 "by default they are skipped.")
        parser.add_argument("--no-wait", action="store_true", help="Return once queued.")
        parser.add_argument("--timeout", type=float, default=0, help="Stop waiting after N s.")

    def handle(self, *args, product, all_pending, profile, model, no_wait, timeout,
               recut=False, **options):
        product_id = None
        if product:
            product_id = Product.objects.filter(sku=product, deleted_at__isnull=True).values_list(
                "pk", flat=True).first()
            if product_id is None:
                raise CommandError(f"No product with SKU {product!r}.")
        assets = assets_for_cutout(product_id=product_id, all_pending=all_pending)
        try:
            batch = cutout_batch_start(
                assets=assets, profile_name=profile, model=model,
                label=f"CLI: {product or 'all pending'}", recut=recut,
            )
        except BatchError as exc:
            raise CommandError(str(exc))
        note = batch_skip_note(batch=batch)
        hint = " (--recut to re-cut them)" if cutout_batch_skipped(batch=batch) else ""
        self.stdout.write(f"Batch {batch.pk}: {batch.total} cutouts queued ({profile})"
                          + (f"; {note}{hint}." if note else "."))
        if no_wait:
            return
        started = time.monotonic()
        with tqdm(total=batch.total, unit="img", desc=f"batch {batch.pk}") as bar:
            while True:
                batch = CutoutBatch.objects.get(pk=batch.pk)
                progress = cutout_batch_progress(batch=batch)
                bar.n = progress.finished
                bar.set_postfix(failed=progress.counts["failed"], refresh=False)
                bar.refresh()
                if not progress.is_active:
                    break
                if timeout and time.monotonic() - started > timeout:
                    raise CommandError(f"Batch {batch.pk} still running after {timeout} s.")
                time.sleep(0.5)
        for cutout in cutout_batch_failures(batch=batch):
            self.stderr.write(f"FAILED {cutout.asset.product.sku} {cutout.asset.position}: "
                              f"{cutout.error}")
        self.stdout.write(f"Batch {batch.pk} {batch.status}: {batch.message}")
        if batch.status == "failed":
            raise CommandError("Every cutout in the batch failed.")
