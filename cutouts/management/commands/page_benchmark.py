"""Server time and SQL statements of the main pages (dashboard, products, product page, review
queue, grid, card and history, retouch, export and jobs pages) as a logged-in manager, through
the Django test client, on a realistic catalogue with real files: products with a photo at
every position, cutouts made by the real pipeline (a stand-in segmenter: the model is not what
a page costs), mixed review states, a re-cut batch and finished exports.

The data is seeded once into ``--var`` (its own SQLite database and media; the developer's
database is never touched) and reused by later runs, so two versions of the code can be
measured on the same rows and files, alternated (``--reseed`` starts over)."""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Model, QuerySet

from cutouts.benchmarking import (
    QueryCount,
    print_table,
    product_photo,
    throwaway_env,
    write_json,
)

if TYPE_CHECKING:
    from catalog.models import ImageAsset, Product
    from cutouts.models import Cutout, CutoutBatch, ExportJob

USERNAME = "bench-manager"
_M = TypeVar("_M", bound=Model)


def _first(rows: QuerySet[_M], what: str) -> _M:
    """The first row, or the error that says the seeded catalogue lacks it."""
    row = rows.first()
    if row is None:
        raise CommandError(f"the benchmark's catalogue has no {what}: seed it again (--reseed)")
    return row


class _StandIn:
    """The segmenter's place in the pipeline: 'object' in a centred ellipse, no model."""

    input_size = 320

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        size = self.input_size
        yy, xx = np.mgrid[:size, :size]
        centre = (size - 1) / 2
        inside = ((xx - centre) / (size * 0.3)) ** 2 + ((yy - centre) / (size * 0.38)) ** 2
        return (inside <= 1).astype(np.float32)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--var", default=str(settings.VAR_DIR / "page-bench"),
                            help="Folder of the benchmark's database and media (reused).")
        parser.add_argument("--reseed", action="store_true",
                            help="Throw the folder's data away and seed again.")
        parser.add_argument("--products", type=int, default=20)
        parser.add_argument("--per-product", type=int, default=10,
                            help="Images per product (a product has 10 positions).")
        parser.add_argument("--size", default="1600x1200", help="Photo size, WxH.")
        parser.add_argument("--repeats", type=int, default=5)
        parser.add_argument("--json", dest="json_path",
                            default=str(settings.VAR_DIR / "benchmarks" / "page_benchmark.json"))
        parser.add_argument("--phase", choices=["seed", "measure"], help=argparse.SUPPRESS)

    def handle(self, *args: str, var: str, reseed: bool, products: int, per_product: int,
               size: str, repeats: int, json_path: str, phase: str | None,
               **options: object) -> None:
        if phase:
            from django.test import override_settings

            # No collectstatic in a benchmark run: plain static URLs instead of the manifest.
            static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
            # The test client's host, without setup_test_environment: its template
            # instrumentation (a signal and a context copy per template) is not server time.
            with override_settings(STORAGES={**settings.STORAGES, "staticfiles": static},
                                   ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
                if phase == "seed":
                    width, height = (int(x) for x in size.lower().split("x"))
                    result = self._seed(products, min(per_product, 10), (width, height))
                else:
                    result = self._measure(repeats)
            self.stdout.write(json.dumps(result))
            return
        folder = Path(var).resolve()
        env = throwaway_env("pages", var=folder)
        database = folder / "bench.sqlite3"
        if reseed and folder.exists():
            import shutil

            shutil.rmtree(folder)
            folder.mkdir(parents=True)
        seeded: dict[str, Any] | None = None
        if not database.exists():
            self.stdout.write(f"Seeding {database} …")
            subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env,
                           check=True, cwd=settings.BASE_DIR)
            try:
                seeded = self._child(env, ["--phase", "seed", "--products", str(products),
                                           "--per-product", str(per_product), "--size", size])
            except CommandError:
                database.unlink()  # half seeded: the next run seeds again, not measures it
                raise
            self.stdout.write(f"seeded in {seeded['seconds']} s: {seeded['counts']}")
        result = self._child(env, ["--phase", "measure", "--repeats", str(repeats)])
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        self.stdout.write(f"{result['counts']}; median of {repeats} requests each after one "
                          f"warm-up, as a manager (load average {load})")
        print_table(result["rows"], [
            ("page", "page", ""), ("median_ms", "median ms", ".1f"), ("min_ms", "min ms", ".1f"),
            ("first_ms", "first ms", ".1f"), ("cpu_ms", "CPU ms", ".1f"),
            ("queries", "queries", ""), ("kb", "KB", ".0f")],
            out=self.stdout)
        result.update(load_average=load, database=str(database), seeded=seeded)
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        write_json(json_path, result)
        self.stdout.write(f"wrote {json_path}")

    def _child(self, env: dict[str, str], args: list[str]) -> dict[str, Any]:
        proc = subprocess.run([sys.executable, "manage.py", "page_benchmark", *args], env=env,
                              cwd=settings.BASE_DIR, capture_output=True, text=True)
        if proc.returncode:
            raise CommandError(f"The {args[1]} process failed:\n{proc.stderr[-3000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    # --- the children, inside the benchmark's database ----------------------------------

    def _seed(self, n_products: int, per_product: int, size: tuple[int, int]) -> dict[str, Any]:
        import secrets

        from catalog.models import Position
        from catalog.roles import MANAGER, REVIEWER
        from catalog.services.assets import asset_ingest
        from catalog.services.products import product_create
        from catalog.services.users import user_create
        from cutouts import engine
        from cutouts.models import Cutout, ExportJob
        from cutouts.services import batches, export_jobs, review, runs

        started = time.perf_counter()
        stand_in = _StandIn()
        spec = engine.model_spec("u2netp")
        engine.segmenter_for = lambda name: (stand_in, spec)
        user_create(username=USERNAME, password=secrets.token_urlsafe(24), role=MANAGER)
        reviewer = user_create(username="bench-reviewer", password=secrets.token_urlsafe(24),
                               role=REVIEWER)
        positions = list(Position.values)[:per_product]
        assets: list[ImageAsset] = []
        for p in range(n_products):
            product = product_create(sku=f"PB-{p:04d}", title=f"Bench product {p}",
                                     brand=f"Brand {p % 4}", category=f"Category {p % 3}")
            for i, position in enumerate(positions):
                buf = io.BytesIO()
                product_photo(*size, seed=p * 100 + i).save(buf, "JPEG", quality=90)
                buf.seek(0)
                result = asset_ingest(product=product, fileobj=buf,
                                      filename=f"PB-{p:04d}_{position}.jpg", position=position)
                if result.status != "stored" or result.asset is None:
                    raise CommandError(result.reason)
                assets.append(result.asset)

        def run(batch: CutoutBatch) -> None:
            for pk in batch.cutouts.values_list("pk", flat=True):
                if runs.cutout_run(cutout_id=pk) != "done":
                    raise CommandError(f"cutout {pk} did not finish")

        run(batches.cutout_batch_start(assets=assets, profile_name="fast", label="Shoot 1"))
        # mixed review states: half approved, one in eight flagged, the rest waiting
        for k, cutout in enumerate(Cutout.objects.order_by("pk")):
            if k % 8 in (0, 2, 4, 6):
                review.cutout_approve(cutout=cutout, user=reviewer)
            elif k % 8 == 1:
                review.cutout_flag(cutout=cutout, user=reviewer, reasons=["halo"])
        # a re-cut of one image in four waits beside its first version
        run(batches.cutout_batch_start(assets=assets[::4], profile_name="fast", recut=True,
                                       label="Re-cut"))
        product_ids = sorted({a.product_id for a in assets})[:4]
        for presets in (["amazon_main", "google_shopping"], ["amazon_main"]):
            job = export_jobs.export_job_create(presets=presets, product_ids=product_ids,
                                                enqueue=False)
            token = export_jobs.export_job_claim(job_id=job.pk)
            if export_jobs.export_job_run(job_id=job.pk, run_token=token) != "done":
                raise CommandError(ExportJob.objects.get(pk=job.pk).message)
        return {"seconds": round(time.perf_counter() - started, 1), "counts": _counts()}

    def _measure(self, repeats: int) -> dict[str, Any]:
        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.urls import reverse

        from catalog.models import ImageAsset, Product
        from cutouts.models import Cutout, CutoutBatch, ExportJob
        from cutouts.selectors import export as export_selectors

        client = Client()
        client.force_login(get_user_model().objects.get(username=USERNAME))
        product = _first(Product.objects.order_by("pk"), "product")
        waiting = Cutout.objects.filter(review_status="pending", status="done").order_by("pk")
        pending = _first(waiting, "version awaiting review")
        recut = waiting.filter(version=2).first() or pending
        flagged = _first(Cutout.objects.filter(review_status="flagged").order_by("pk"),
                         "flagged version")
        asset = ImageAsset.objects.get(pk=recut.asset_id)
        batch = _first(CutoutBatch.objects.order_by("pk"), "batch")
        export = _first(ExportJob.objects.order_by("pk"), "export")
        sheet = export_selectors.export_job_sheet(job=export)
        sha = next(cell.sha256 for cell in sheet.cells if cell.sha256)
        export_thumb = reverse("cutouts:export_thumbnail", args=[export.pk, sha])
        pages = main_pages(product=product, pending=pending, recut=recut, flagged=flagged,
                           asset=asset, batch=batch, export=export, export_thumb=export_thumb)

        def get(url: str, headers: dict[str, str]) -> bytes:
            response = client.get(url, headers=headers)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}")
            body = response.getvalue()  # a streamed file too, read whole as the browser does
            response.close()
            return body

        rows = []
        for name, (url, headers) in pages.items():
            started = time.perf_counter()
            get(url, headers)  # warm-up: templates, caches (an image's first view renders it)
            first = (time.perf_counter() - started) * 1000
            with QueryCount() as counted:
                get(url, headers)
            times, cpu = [], []
            for _ in range(repeats):
                started, started_cpu = time.perf_counter(), time.process_time()
                body = get(url, headers)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            rows.append({"page": name, "url": url, "median_ms": round(statistics.median(times), 1),
                         "min_ms": round(min(times), 1), "first_ms": round(first, 1),
                         "cpu_ms": round(statistics.median(cpu), 1), "queries": counted.n,
                         "kb": len(body) / 1024})
        return {"counts": _counts(), "repeats": repeats, "rows": rows}


def _counts() -> dict[str, int]:
    from catalog.models import ImageAsset, Product
    from cutouts.models import Cutout, ExportJob

    return {"products": Product.objects.count(), "images": ImageAsset.objects.count(),
            "cutouts": Cutout.objects.count(),
            "waiting": Cutout.objects.filter(review_status="pending").count(),
            "approved": Cutout.objects.filter(review_status="approved").count(),
            "flagged": Cutout.objects.filter(review_status="flagged").count(),
            "exports": ExportJob.objects.count()}


def main_pages(*, product: Product, pending: Cutout, recut: Cutout, flagged: Cutout,
               asset: ImageAsset, batch: CutoutBatch, export: ExportJob,
               export_thumb: str = "") -> dict[str, tuple[str, dict[str, str]]]:
    """The pages measured, by name: (URL, extra request headers). ``pending`` and ``recut``
    are versions awaiting review (``recut`` a later version of its image), ``flagged`` one
    in the retouch queue, ``asset`` an image with decisions. The images the pages then ask
    for are measured only with ``export_thumb`` (a thumbnail URL of the export's sheet): the
    query-count tests run on rows without files."""
    from django.urls import reverse

    hx = {"HX-Request": "true"}
    pages: dict[str, tuple[str, dict[str, str]]] = {
        "dashboard": (reverse("dashboard"), {}),
        "product list": (reverse("catalog:product_list"), {}),
        "product page": (reverse("catalog:product_detail", args=[product.pk]), {}),
        "review queue": (reverse("cutouts:review_queue"), {}),
        "review grid": (reverse("cutouts:review_grid"), {}),
        "review card": (reverse("cutouts:review_card", args=[pending.pk]), {}),
        "review card, re-cut (htmx)": (reverse("cutouts:review_card", args=[recut.pk]), hx),
        "review history": (reverse("cutouts:review_history", args=[asset.pk]), {}),
        "retouch queue": (reverse("cutouts:retouch_queue"), {}),
        "retouch card": (reverse("cutouts:retouch_card", args=[flagged.pk]), {}),
        "export list": (reverse("cutouts:export_list"), {}),
        "export detail": (reverse("cutouts:export_detail", args=[export.pk]), {}),
        "jobs (batches)": (reverse("cutouts:batch_list"), {}),
        "batch detail": (reverse("cutouts:batch_detail", args=[batch.pk]), {}),
    }
    if export_thumb:
        image = "cutouts:review_image"
        pages.update({
            "image: photo thumbnail 160": (
                reverse("catalog:asset_thumbnail", args=[asset.pk]) + "?size=160", {}),
            "image: cutout 320": (
                reverse(image, args=[pending.pk, "cutout"]) + "?size=320", {}),
            "image: photo 1024 (card)": (
                reverse(image, args=[pending.pk, "original"]) + "?size=1024", {}),
            "image: cutout 1024 (card)": (
                reverse(image, args=[pending.pk, "cutout"]) + "?size=1024", {}),
            "image: export thumbnail": (export_thumb, {}),
        })
    return pages
