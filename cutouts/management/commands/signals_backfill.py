"""``manage.py signals_backfill``: measure the signals versions made before them lack (the faint
marks since 2026-12-04, the half-kept parts, the detached share and the renderer's product size
since 2026-12-05, the renderer's frame cut since 2026-12-06), once, after upgrading."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from cutouts.selectors.review import cutouts_missing_signals
from cutouts.services.backfill import BACKFILLED_SIGNALS, cutout_signals_backfill

#: what each unreadable file means for the operator
UNREADABLE = {
    "cutout": "its mask and cutout files; export's dry run still checks those file by file",
    "photo": "its image's working copy is missing, damaged or another size; "
             "`manage.py rebuild_working_copies --all-broken` repairs it, then run this again",
}


class Command(BaseCommand):
    help = ("Measure the signals finished versions made before them lack, from their stored "
            "files and exactly as a run measures them: the faint see-through marks "
            "(signals['faint_marks']: the review's Faint marks pre-flag, the export form's "
            "pre-check), the half-kept parts and the detached share (signals['half_kept'], "
            "signals['detached']: the risk model refitted on 2026-12-05), and the product's "
            "size as export's renderer measures it (signals['product_px'] and "
            "signals['product_fill_px']: the review's Too small for export pre-flag and the "
            "export form's pre-check, 2026-12-05), and the sides the photo's frame cuts the "
            "product on as export's renderer judges them, and the far detached parts it leaves "
            "out (signals['frame_cut'], signals['dropped_parts']: the export form's "
            "pre-check and a dry run, 2026-12-06). Versions still "
            "awaiting review get the risk a run makes today, and the Faint marks pre-flag where "
            "Amazon main or Walmart will refuse them; approved, flagged and superseded versions "
            "keep their review and risk. Safe to stop and run again: measured versions are "
            "skipped.")

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=0,
                            help="measure at most this many versions (0: all)")

    def handle(self, *args, limit: int, **options):
        ids = cutouts_missing_signals(keys=BACKFILLED_SIGNALS)
        if limit > 0:
            ids = ids[:limit]
        if not ids:
            self.stdout.write("Every finished version already carries its "
                              f"{' and '.join(BACKFILLED_SIGNALS)} measures.")
            return
        measured = preflagged = rescored = skipped = 0
        stored = dict.fromkeys(BACKFILLED_SIGNALS, 0)
        unreadable: dict[str, list[int]] = {which: [] for which in UNREADABLE}
        for pk in tqdm(ids, desc="Measuring signals", unit="version"):
            done = cutout_signals_backfill(cutout_id=pk)
            if done.outcome == "measured":
                measured += 1
                preflagged += done.preflagged
                rescored += done.rescored
                for key in done.stored:
                    stored[key] += 1
            elif done.unreadable is not None:
                unreadable[done.unreadable].append(pk)
            else:
                skipped += 1
        signals = ", ".join(f"{n} {key}" for key, n in stored.items())
        self.stdout.write(
            f"{len(ids)} version(s): {measured} measured ({signals}), {preflagged} of them "
            f"pre-flagged for a faint mark (awaiting review: a grey cloud on white, which a "
            f"white-background preset refuses or ships with a warning), {rescored} awaiting "
            f"review with a new risk, {skipped} skipped (measured "
            f"or changed meanwhile), {sum(map(len, unreadable.values()))} with no readable "
            f"file.")
        for which, pks in unreadable.items():
            if pks:
                shown = ", ".join(str(pk) for pk in pks[:10])
                more = f" and {len(pks) - 10} more" if len(pks) > 10 else ""
                self.stdout.write(f"Unreadable, left as they were ({UNREADABLE[which]}): "
                                  f"cutout id {shown}{more}.")
