from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog.services import purge
from catalog.uploads import upload_temp_purge


class Command(BaseCommand):
    help = "Delete stored files that no live row references, after the retention period."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help=f"Retention in days (default "
                                 f"{settings.CUTROOM_PURGE_RETENTION_DAYS}).")
        parser.add_argument("--dry-run", action="store_true", help="List, delete nothing.")

    def handle(self, *args, days, dry_run, **options):
        if days is not None and days < 0:
            raise CommandError("--days must be 0 or more.")
        result = purge.purge_run(older_than_days=days, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        if options["verbosity"] > 1:
            for name in result.deleted:
                self.stdout.write(f"{verb.lower()} {name}")
        self.stdout.write(
            f"{verb} {len(result.deleted)} files ({result.bytes_freed / 1e6:.1f} MB); "
            f"kept {result.kept}."
        )
        if result.skus_released:
            self.stdout.write(f"Released {len(result.skus_released)} SKUs of purged products "
                              f"for reuse: {', '.join(result.skus_released[:20])}"
                              f"{' …' if len(result.skus_released) > 20 else ''}")
        # Upload temp files of requests whose process was killed mid-upload.
        temps = upload_temp_purge(
            older_than_seconds=settings.CUTROOM_UPLOAD_TMP_MAX_AGE_HOURS * 3600, dry_run=dry_run)
        if options["verbosity"] > 1:
            for name in temps.deleted:
                self.stdout.write(f"{verb.lower()} {name}")
        self.stdout.write(
            f"{verb} {len(temps.deleted)} abandoned upload temp files "
            f"({temps.bytes_freed / 1e6:.1f} MB)."
        )
