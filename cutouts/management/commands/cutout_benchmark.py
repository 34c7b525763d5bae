"""Thin wrapper around cutouts.imaging.benchmark.run_benchmark."""

from typing import TextIO, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cutouts.imaging.benchmark import default_configs, run_benchmark


class Command(BaseCommand):
    help = "Benchmark the cutout engine against the plain model on images/ + masks/."

    def add_arguments(self, parser):
        parser.add_argument("--data", default=None, help="folder with images/ and masks/")
        parser.add_argument("--soft", default=None,
                            help="also score the soft-alpha set: folder with images/, alpha/, "
                                 "trimaps/ (e.g. ../shared/eval/soft-dev)")
        parser.add_argument("--json", default=None, help="write the results here")
        parser.add_argument("--limit", type=int, default=None)
        parser.add_argument("--configs", default=None, help="comma list, e.g. plain,fast,default")
        parser.add_argument("--threads", type=int, default=None)
        parser.add_argument("--no-isnet", action="store_true")
        parser.add_argument("--big-mp", type=float, default=None,
                            help="also measure peak RSS on a generated photo of this many MP")

    def handle(self, *args, **opts):
        if not opts["data"] and not opts["soft"]:
            raise CommandError("give --data (images/ + masks/) and/or --soft (images/ + alpha/)")
        paths = getattr(settings, "CUTROOM_MODEL_PATHS", None) or {}
        model_dir = getattr(settings, "CUTROOM_MODEL_DIR", None)
        model_dir = str(model_dir) if model_dir else None
        configs = default_configs(paths, model_dir, include_isnet=not opts["no_isnet"])
        if opts["configs"]:
            wanted = set(opts["configs"].split(","))
            configs = [c for c in configs if c.name in wanted]
        run_benchmark(opts["data"], configs, opts["json"], opts["limit"], paths, model_dir,
                      opts["threads"], big_megapixels=opts["big_mp"],
                      # OutputWrapper is a text stream (TextIOBase), not typing's nominal TextIO
                      stream=cast(TextIO, self.stdout),
                      soft_dir=opts["soft"])
