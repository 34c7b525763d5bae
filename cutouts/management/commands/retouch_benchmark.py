"""``manage.py retouch_benchmark``: the click benchmark of the retouch engine (RITM protocol)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cutouts.imaging.clicks import run_clicks


class Command(BaseCommand):
    help = (
        "Simulated clicks (RITM protocol) from the automatic default cutout: NoC@85/90, mean IoU "
        "after 0/1/3/5/10 clicks, share of clicks that lowered IoU and seconds per click, for "
        "the GrabCut and DAVIS photos separately; --baseline also runs the clicks painted as disks."
    )

    def add_arguments(self, parser):
        default = Path(settings.BASE_DIR).parent / "shared" / "eval" / "dev"
        parser.add_argument("--data", default=str(default),
                            help="folder with images/ and masks/ (default ../shared/eval/dev)")
        parser.add_argument("--max-clicks", type=int, default=20)
        parser.add_argument("--limit", type=int, default=None)
        parser.add_argument("--baseline", action="store_true")
        parser.add_argument("--json", dest="json_path", default="retouch_benchmark.json")

    def handle(self, *args, data, max_clicks, limit, baseline, json_path, **options):
        root = Path(data)
        if not (root / "images").is_dir() or not (root / "masks").is_dir():
            raise CommandError(f"{root} needs images/ and masks/ folders")

        def progress(engine, stem, row):
            self.stderr.write(f"{engine:<8} {stem:<12} IoU {row['ious'][0]:.3f} -> "
                              f"{row['ious'][-1]:.3f}")

        try:
            run_clicks(root / "images", root / "masks", max_clicks=max_clicks, limit=limit,
                       engines=("retouch", "paint") if baseline else ("retouch",),
                       out_json=json_path, progress=progress, stream=self.stdout)
        except (FileNotFoundError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"wrote {json_path}")
