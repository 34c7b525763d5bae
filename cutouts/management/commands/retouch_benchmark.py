"""``manage.py retouch_benchmark``: the click benchmark of the retouch engine (RITM protocol),
and with ``--soft DIR`` the detail-brush benchmark on a soft-alpha set."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cutouts.imaging import clicks, detail_protocol


class Command(BaseCommand):
    help = (
        "Simulated clicks (RITM protocol) from the automatic default cutout: NoC@85/90, mean IoU "
        "after 0/1/3/5/10 clicks, share of clicks that lowered IoU and seconds per click, for "
        "the GrabCut and DAVIS photos separately; --baseline also runs the clicks painted as "
        "disks. --painted replaces each click by a painted stroke along the error region "
        "(strokes lowering IoU counted). --soft DIR (images/, alpha/, trimaps/) runs the "
        "detail-brush benchmark instead: "
        "SAD, Grad, soft and band MAE after 0/1/2/3/5/10 touches (clicks and detail strokes)."
    )

    def add_arguments(self, parser):
        default = Path(settings.BASE_DIR).parent / "shared" / "eval" / "dev"
        parser.add_argument("--data", default=str(default),
                            help="folder with images/ and masks/ (default ../shared/eval/dev)")
        parser.add_argument("--max-clicks", type=int, default=20)
        parser.add_argument("--limit", type=int, default=None)
        parser.add_argument("--baseline", action="store_true")
        parser.add_argument("--painted", action="store_true",
                            help="painted keep/remove strokes instead of clicks")
        parser.add_argument("--json", dest="json_path", default="retouch_benchmark.json")
        parser.add_argument("--soft", default=None,
                            help="soft-alpha set (images/, alpha/, trimaps/): run the detail "
                                 "benchmark on it instead, e.g. ../shared/eval/soft-dev")
        parser.add_argument("--max-touches", type=int, default=10)

    def handle(self, *args, data, max_clicks, limit, baseline, json_path, soft=None,
               max_touches=10, painted=False, **options):
        engines = ("retouch", "paint") if baseline else ("retouch",)
        if soft:
            root = Path(soft)
            if not all((root / sub).is_dir() for sub in ("images", "alpha", "trimaps")):
                raise CommandError(f"{root} needs images/, alpha/ and trimaps/ folders")
            self._run(detail_protocol.run_detail, detail_protocol.progress_line, json_path,
                      root, max_touches=max_touches, limit=limit, engines=engines)
            return
        root = Path(data)
        if not (root / "images").is_dir() or not (root / "masks").is_dir():
            raise CommandError(f"{root} needs images/ and masks/ folders")
        self._run(clicks.run_clicks, clicks.progress_line, json_path, root / "images",
                  root / "masks", max_clicks=max_clicks, limit=limit, engines=engines,
                  painted=painted)

    def _run(self, runner, line, json_path, *data, **kwargs):
        """One protocol run: progress lines on stderr, the table on stdout, the JSON written."""

        def progress(engine, stem, row):
            self.stderr.write(f"{engine:<8} {stem:<12} {line(row)}")

        try:
            runner(*data, **kwargs, out_json=json_path, progress=progress, stream=self.stdout)
        except (FileNotFoundError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"wrote {json_path}")
