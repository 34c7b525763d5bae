import zipfile
from pathlib import Path
from typing import TextIO, cast

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.errors import IMPORT_REFUSALS
from catalog.models import ImportIssue, ImportJob
from catalog.services import import_runner, imports


class Command(BaseCommand):
    help = (
        "Import images from a server folder or ZIP, mapping file names to SKUs; prints every "
        "refused file with its reason. Runs in this process (no worker needed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="A folder or a .zip file on this server.")
        parser.add_argument(
            "--pattern", action="append", default=[],
            help="File name pattern, e.g. '{sku}_{position}.jpg' or '{sku}-{n}.png' "
                 "(repeatable; first match wins). Default: the three built-in patterns.",
        )
        parser.add_argument("--regex", default="", help="Regex with a named group (?P<sku>...).")
        parser.add_argument("--create-products", action="store_true",
                            help="Create products for SKUs that do not exist yet.")
        parser.add_argument("--csv", dest="manifest", help="Manifest CSV (sku,title,...).")
        parser.add_argument("--encoding", default="utf-8",
                            help="Manifest encoding: utf-8 (the default) or "
                            "latin-1, read as Windows-1252 (what old Excel writes).")
        parser.add_argument("--no-folders", action="store_true",
                            help="Do not take a parent folder name as the SKU.")
        parser.add_argument("--user", help="Username recorded as the uploader.")
        parser.add_argument(
            "--replace", action="store_true",
            help="A file whose name or manifest row asks for a position an older image of "
                 "the product holds replaces that image (deleted as the product page's Delete "
                 "does; the original is kept until purge) instead of being refused.")

    def handle(self, *args, path, pattern, regex, create_products, manifest, encoding,
               no_folders, user, replace=False, **options):
        source = Path(path).expanduser()
        if source.is_dir():
            kind = ImportJob.Source.FOLDER
        elif source.is_file():
            # Refused before an import row exists: a photo given by mistake would otherwise
            # leave a failed "Import #n" behind.
            if not zipfile.is_zipfile(source):
                raise CommandError(
                    f"{path} is not a ZIP file. import_images takes a folder of images or a "
                    ".zip of them; for one photo, put it in a folder (named after its SKU, or "
                    "with the SKU in its file name) or upload it on the product's page.")
            kind = ImportJob.Source.ZIP
        else:
            raise CommandError(f"{path} is neither a folder nor a file.")
        uploader = None
        if user:
            from django.contrib.auth import get_user_model

            uploader = get_user_model().objects.filter(username=user).first()
            if uploader is None:
                raise CommandError(f"No user {user!r}.")
        manifest_handle = open(manifest, "rb") if manifest else None  # noqa: SIM115
        try:
            job = imports.import_job_create(
                user=uploader, source_kind=kind, source_path=str(source.resolve()),
                manifest_file=manifest_handle, patterns=pattern, regex=regex,
                create_products=create_products, encoding=encoding,
                use_folders=not no_folders, enqueue=False, replace=replace,
            )
        except (*IMPORT_REFUSALS, OSError) as exc:
            raise CommandError(str(exc))
        finally:
            if manifest_handle:
                manifest_handle.close()

        # the raw stream OutputWrapper wraps (its _out, which the stubs do not declare): tqdm's
        # "\r" redraws must not get the wrapper's line ending
        bar = tqdm(total=0, unit="file", desc="Importing", file=cast(TextIO, self.stderr._out))

        def progress(done=None, total=None, issue=None):
            if issue is not None:
                name, reason, level = issue
                mark = "ERROR" if level == ImportIssue.Level.ERROR else "warn "
                bar.write(f"{mark} {name}: {reason}", file=cast(TextIO, self.stdout._out))
            if total is not None and bar.total != total:
                bar.total = total
                bar.refresh()
            if done is not None:
                bar.n = done
                bar.refresh()

        ran = import_runner.import_job_run(job_id=job.pk, progress=progress)
        bar.close()
        if ran is None:  # the claim failed: cancelled on the Imports page (or run elsewhere)
            job.refresh_from_db()
            raise CommandError(f"Import #{job.pk} did not run here: it is {job.status}.")
        job = ran
        self.stdout.write(
            f"Import #{job.pk} {job.status}: {job.message} "
            f"({job.error_count} errors, {job.warning_count} warnings)"
        )
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(job.message)
