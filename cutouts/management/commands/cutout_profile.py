"""CPU per stage of a worker's cutout run, database and storage included: generated photos at
each size go through ``cutout_run`` itself (claim, read and decode the working copy, the pipeline
stage by stage, encode, store the files, finish the row) in a throwaway environment, with the
bare model (u2netp fp32 at its input size, same thread count) timed in the same process.
``python -m cutouts.imaging profile`` is the same without Django."""

import argparse
import json
import os
import statistics
import subprocess
import sys
from typing import TextIO, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cutouts.benchmarking import seed_assets, throwaway_env, write_json

BARE_MODEL = "u2netp"


def size_of(megapixels: float) -> tuple[int, int]:
    """(width, height) of a 4:3 photo of this many megapixels (2 MP: 1633 × 1225)."""
    width = round((megapixels * 1e6 * 4 / 3) ** 0.5)
    return width, round(megapixels * 1e6 / width)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--mp", default="2,12,24", help="comma list of megapixel sizes")
        parser.add_argument("--profile", default="fast")
        parser.add_argument("--repeats", type=int, default=3,
                            help="photos per size (median CPU per stage)")
        parser.add_argument("--bare-repeats", type=int, default=10)
        parser.add_argument("--json", dest="json_path", default="cutout_profile.json")
        parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, mp, profile, repeats, bare_repeats, json_path, child, **options):
        sizes = [float(v) for v in mp.split(",")]
        if repeats < 1 or not sizes or min(sizes) <= 0:
            raise CommandError("--repeats must be ≥ 1 and --mp positive sizes")
        if child:
            self.stdout.write(json.dumps(self._child(sizes, profile, repeats, bare_repeats)))
            return
        from cutouts.imaging.profile import print_report

        env = throwaway_env("profile")
        env["CUTROOM_ONNX_THREADS"] = "1"  # as the benchmarks' workers: one thread each
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, check=True,
                       cwd=settings.BASE_DIR)
        self.stdout.write(f"Profiling {profile} at {mp} MP, {repeats} photo(s) each, one thread …")
        out = subprocess.run(
            [sys.executable, "manage.py", "cutout_profile", "--child", "--mp", mp,
             "--profile", profile, "--repeats", str(repeats), "--bare-repeats",
             str(bare_repeats)], env=env, cwd=settings.BASE_DIR, check=True,
            capture_output=True, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        load = os.getloadavg()
        self.stdout.write(f"CPU ms per stage (median of {repeats}), load average "
                          f"{' '.join(f'{v:.2f}' for v in load)}")
        # OutputWrapper is a text stream (TextIOBase), not typing's nominal IO[str]
        print_report(result["sizes"], result["bare_model"], out=cast(TextIO, self.stdout))
        write_json(json_path, {**result, "profile": profile, "load_average": load})
        self.stdout.write(f"wrote {json_path}")

    def _child(self, sizes: list[float], profile: str, repeats: int, bare_repeats: int) -> dict:
        from catalog.models import ImageAsset
        from cutouts import engine
        from cutouts.imaging.clock import StageClock
        from cutouts.imaging.profile import MODEL_STAGES, bare_model_seconds
        from cutouts.models import Cutout
        from cutouts.services.batches import cutout_batch_start, cutout_settings_resolve
        from cutouts.services.runs import cutout_run

        model = cutout_settings_resolve(profile_name=profile)["model"]
        bare = bare_model_seconds(engine.segmenter_for(BARE_MODEL)[0], bare_repeats)
        engine.segmenter_for(model)  # session creation is not per cutout
        report = {}
        for i, megapixels in enumerate(sizes):
            width, height = size_of(megapixels)
            prefix = f"prof{i}"
            seed_assets(repeats, (width, height), prefix)
            assets = ImageAsset.objects.filter(product__sku__startswith=f"{prefix.upper()}-")
            batch = cutout_batch_start(assets=assets, profile_name=profile,
                                       label="cutout_profile")
            clocks = []
            for cutout_id in Cutout.objects.filter(batch=batch).values_list("pk", flat=True):
                clock = StageClock()
                status = cutout_run(cutout_id=cutout_id, clock=clock)
                if status != "done":
                    error = Cutout.objects.get(pk=cutout_id).error
                    raise CommandError(f"cutout {cutout_id} {status}: {error}")
                clocks.append(clock)
            stages = list(clocks[0].cpu)
            real_mp = width * height / 1e6
            cpu_ms = {k: 1000 * statistics.median(c.cpu.get(k, 0.0) for c in clocks)
                      for k in stages}
            total = sum(cpu_ms.values())
            model_ms = sum(cpu_ms.get(k, 0.0) for k in MODEL_STAGES)
            report[f"{megapixels:g}"] = {
                "megapixels": real_mp, "size": [width, height], "repeats": len(clocks),
                "cpu_ms": cpu_ms,
                "wall_ms": {k: 1000 * statistics.median(c.wall.get(k, 0.0) for c in clocks)
                            for k in stages},
                "cpu_ms_per_mp": {k: v / real_mp for k, v in cpu_ms.items()},
                "total_cpu_ms": total, "model_cpu_ms": model_ms,
                "around_model_cpu_ms": total - model_ms,
            }
        return {"model": model, "bare_model": {**bare, "model": BARE_MODEL}, "sizes": report}
