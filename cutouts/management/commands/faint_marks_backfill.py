"""``manage.py faint_marks_backfill``: measure the faint marks of versions made before
2026-12-04, once, after upgrading."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from cutouts.selectors.review import cutouts_without_faint_marks
from cutouts.services.backfill import cutout_faint_marks_backfill


class Command(BaseCommand):
    help = ("Measure the faint see-through marks of finished versions made before the measure "
            "existed (signals['faint_marks']), from their stored files, so the review's Faint "
            "marks pre-flag and the export form's pre-check see them. Versions still awaiting "
            "review that Amazon main or Walmart will refuse get the pre-flag. Safe to stop and "
            "run again: measured versions are skipped.")

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=0,
                            help="measure at most this many versions (0: all)")

    def handle(self, *args, limit: int, **options):
        ids = cutouts_without_faint_marks()
        if limit > 0:
            ids = ids[:limit]
        if not ids:
            self.stdout.write("Every finished version already carries its faint-mark measure.")
            return
        tally = {"measured": 0, "preflagged": 0, "skipped": 0, "unreadable": 0}
        unreadable: list[int] = []
        for pk in tqdm(ids, desc="Measuring faint marks", unit="version"):
            outcome = cutout_faint_marks_backfill(cutout_id=pk)
            tally[outcome] += 1
            if outcome == "unreadable":
                unreadable.append(pk)
        self.stdout.write(
            f"{len(ids)} version(s): {tally['measured'] + tally['preflagged']} measured, "
            f"{tally['preflagged']} of them pre-flagged Faint marks (awaiting review, a "
            f"white-background preset will refuse them), {tally['skipped']} skipped (measured "
            f"or changed meanwhile), {tally['unreadable']} with no readable file.")
        if unreadable:
            shown = ", ".join(str(pk) for pk in unreadable[:10])
            more = f" and {len(unreadable) - 10} more" if len(unreadable) > 10 else ""
            self.stdout.write(f"Unreadable (left as they were; export's dry run still checks "
                              f"them): cutout id {shown}{more}.")
