import argparse
import re
import shutil
import zipfile
from datetime import date
from pathlib import Path

from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cutouts.errors import ExportCollisionError, ExportError
from cutouts.models import ExportJob
from cutouts.selectors.export import (
    export_job_excluded,
    export_job_warnings,
    products_by_sku_text,
)
from cutouts.services.export_jobs import export_job_claim, export_job_create, export_job_run


def _day(text: str) -> date:
    """--since as POST /exports takes approved_since: a day, never a date-time cut to one."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise argparse.ArgumentTypeError(
            f"give a day as YYYY-MM-DD (e.g. 2026-12-01), not {text!r}: --since filters by "
            "the day of approval, not a time")
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day: {exc}") from None


class Command(BaseCommand):
    help = ("Export approved cutouts as marketplace images into a local folder: a ZIP with "
            "manifest.csv (or the files themselves with --files). Runs in this process.")

    def add_arguments(self, parser):
        parser.add_argument("--preset", action="append", default=[], dest="presets",
                            help="Preset name (repeatable), e.g. amazon_main; a scene preset "
                                 "on a library background as web_hero:<slug>.")
        parser.add_argument("--spec", action="append", default=[], dest="specs",
                            metavar="SPEC",
                            help="Spec string (repeatable), e.g. square-1200|bg-ffffff|"
                                 "format-jpeg: its own spec-<hash> folder, as in the form "
                                 "and the API.")
        parser.add_argument("--brand", default="")
        parser.add_argument("--product", action="append", default=[], dest="skus",
                            metavar="SKU", help="Product SKU (repeatable).")
        parser.add_argument("--since", type=_day, metavar="YYYY-MM-DD",
                            help="Only cutouts approved on or after this date.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Write only manifest.csv listing what would be exported.")
        parser.add_argument("--include-failing", action="store_true",
                            help="Also export variants that fail their compliance checks.")
        parser.add_argument("--files", action="store_true",
                            help="Write the files into DIR instead of a ZIP.")
        parser.add_argument("--out", required=True, metavar="DIR", type=Path)

    def handle(self, *args, presets, specs, brand, skus, since, dry_run, include_failing, files,
               out, **options):
        # Checked before any work: the export would run to the end and only then fail to
        # write (a raw FileExistsError for a file given as --out).
        if out.exists() and not out.is_dir():
            raise CommandError(f"--out {out} is an existing file; give a folder (it is "
                               "created when missing).")
        lookup = products_by_sku_text(texts=skus)  # --product "" is not every product
        if lookup.problem:
            raise CommandError(lookup.problem)
        product_ids = lookup.product_ids
        try:
            job = export_job_create(
                presets=presets, specs=specs, product_ids=product_ids, brand=brand,
                approved_since=since,
                dry_run=dry_run, include_failing=include_failing, enqueue=False,
            )
        except ExportCollisionError as exc:
            for collision in exc.collisions:
                self.stderr.write(f"COLLISION {collision}")
            raise CommandError("File names would collide; nothing was exported.")
        except ExportError as exc:
            raise CommandError(str(exc))
        # the export form's warning before it starts; here it starts anyway, as the API does
        for gap in export_job_warnings(job=job):
            self.stderr.write(f"WARNING {gap.message}")
        token = export_job_claim(job_id=job.pk)
        with tqdm(total=job.progress_total, unit="file", desc=f"export {job.pk}") as bar:
            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            export_job_run(job_id=job.pk, run_token=token, progress=progress)
        job = ExportJob.objects.get(pk=job.pk)
        excluded, excluded_count = export_job_excluded(job=job)
        for row in excluded:
            # the export page's Excluded columns: one SKU's images are told apart by image
            self.stderr.write(f"EXCLUDED {row.sku}, image {row.image}, "
                              f"{row.file or f'{row.preset} (no file name)'}: {row.reason}")
        if excluded_count > len(excluded):
            self.stderr.write(f"EXCLUDED … {excluded_count - len(excluded)} more: see the "
                              "manifest.")
        if job.status != "done":
            raise CommandError(f"Export {job.pk} {job.status}: {job.message}")
        try:
            out.mkdir(parents=True, exist_ok=True)
            self._copy(job.manifest_name, out / f"cutroom-export-{job.pk}-manifest.csv")
            if job.zip_name:
                target = out / f"cutroom-export-{job.pk}.zip"
                self._copy(job.zip_name, target)
                if files:
                    self._extract(target, out)
                    target.unlink()
        except OSError as exc:
            raise CommandError(f"Cannot write to {out}: {exc.strerror or exc}. Export {job.pk} "
                               "is done: download it from the Exports page.") from exc
        self.stdout.write(f"Export {job.pk}: {job.message} Written to {out}")

    def _copy(self, name: str, target: Path) -> None:
        with storages["exports"].open(name, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)

    def _extract(self, archive: Path, out: Path) -> None:
        root = out.resolve()
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                target = (root / info.filename).resolve()
                if root not in target.parents:
                    raise CommandError(f"Refusing to write outside {out}: {info.filename}")
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
