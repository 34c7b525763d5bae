"""Export throughput and memory against a bare Pillow loop, in a throwaway environment.

Each N gets its own temporary SQLite database and media folder. Child processes run against
it: ``setup`` (migrate, N approved synthetic ~2000x2000 cutouts), ``export`` (the export
service exactly as the worker runs it, then again with every rendition cached), ``bare``
(the same files as the export with plain Pillow: open -> crop to the alpha's box -> Lanczos
resize to the preset's fill -> paste centred on white -> save JPEG) and ``naive`` (the loop
issue #18 first measured against: open -> composite on white -> resize the whole image to
the canvas -> save JPEG, which neither trims nor fills: its 2000 px "resize" is a copy).
Separate processes make each peak RSS (getrusage) belong to one phase only.

A second row per N measures a scene preset (``--scene``, default ``web_hero``) on a library
background against a bare loop that pastes the same cutout on the same background (resized to
the canvas once) at the same size and saves the same JPEG.
"""

import io
import json
import resource
import shutil
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from PIL import Image

from cutouts.benchmarking import peak_rss_mb, print_table, throwaway_env, write_json

MARK = "EXPORT_BENCHMARK_RESULT "


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
COLUMNS = [
    ("n", "N cutouts", "d"),
    ("kind", "presets", "s"),
    ("variants", "variants", "d"),
    ("threads", "threads", "d"),
    ("export_vps", "export v/s", ".2f"),
    ("bare_vps", "bare v/s", ".2f"),
    ("ratio", "ratio", ".2f"),
    ("export_cpu_ms", "export CPU ms/v", ".0f"),
    ("bare_cpu_ms", "bare CPU ms/v", ".0f"),
    ("cpu_ratio", "CPU ×bare", ".2f"),
    ("naive_vps", "naive v/s", ".2f"),
    ("naive_cpu_ms", "naive CPU ms/v", ".0f"),
    ("naive_cpu_ratio", "CPU ×naive", ".2f"),
    ("cached_vps", "cached v/s", ".1f"),
    ("export_rss_mb", "export RSS MB", ".0f"),
    ("bare_rss_mb", "bare RSS MB", ".0f"),
    ("zip_mb", "ZIP MB", ".1f"),
]


SHAPES = 10


def png_with_text(png: bytes, key: str, value: str) -> bytes:
    """``png`` with a tEXt chunk after IHDR: same pixels, different bytes, so every cutout
    has its own input hash and rendition (encoding 1000 PNGs of 2000 px would dominate)."""
    payload = key.encode("latin-1") + b"\0" + value.encode("latin-1")
    chunk = (struct.pack(">I", len(payload)) + b"tEXt" + payload
             + struct.pack(">I", zlib.crc32(b"tEXt" + payload)))
    ihdr_end = 8 + 8 + 13 + 4  # signature, IHDR length+type, IHDR data, CRC
    return png[:ihdr_end] + chunk + png[ihdr_end:]


def synthetic_cutout(index: int, size: int) -> Image.Image:
    """A shaded product (shape, colour and position vary with ``index``) on transparency."""
    rng = np.random.default_rng(index)
    w = h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.4, 0.6)
    rx, ry = w * rng.uniform(0.2, 0.38), h * rng.uniform(0.2, 0.38)
    d = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2
    alpha = np.clip((1.0 - d) * rx / 2, 0, 1)  # ~2 px antialiased edge
    colour = rng.integers(30, 220, 3).astype(np.float32)
    shade = (0.6 + 0.4 * (1 - yy / h))[..., None]
    rgb = np.clip(colour * shade + 10 * np.sin(xx / 37.0)[..., None], 0, 255)
    rgba = np.dstack([rgb, alpha * 255]).astype(np.uint8)
    return Image.fromarray(rgba, "RGBA")


class Command(BaseCommand):
    help = ("Benchmark exports: N approved synthetic cutouts in a throwaway database exported "
            "to two presets, against a bare Pillow loop on the same files.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("n", nargs="+", type=int, help="Cutout counts, e.g. 200 1000.")
        parser.add_argument("--size", type=int, default=2000, help="Cutout side in px.")
        parser.add_argument("--preset", action="append", dest="presets",
                            help="Preset (repeatable); default amazon_main, google_shopping.")
        parser.add_argument("--scene", default="web_hero",
                            help="Scene preset measured on a library background ('' to skip).")
        parser.add_argument("--threads", type=int, default=0,
                            help="Export render threads (0: the service default).")
        parser.add_argument("--json", dest="json_path",
                            default=str(settings.VAR_DIR / "benchmarks" / "export_benchmark.json"),
                            help="Where to write the results as JSON.")
        parser.add_argument("--keep", action="store_true",
                            help="Keep the throwaway database and media (printed).")
        parser.add_argument("--phase", choices=("setup", "export", "bare", "naive"),
                            help="Internal: run one phase in this (throwaway) process.")

    def handle(self, *args: str, n: list[int], size: int, presets: list[str] | None,
               threads: int, json_path: str, phase: str | None, keep: bool, scene: str,
               **options: object) -> None:
        presets = presets or ["amazon_main", "google_shopping"]
        if phase:
            result = getattr(self, f"_{phase}")(n[0], size, presets, threads)
            self.stdout.write(MARK + json_dumps(result))
            return
        rows = []
        for count in n:
            rows.append(self._measure(count, size, presets, threads, keep))
            if scene:
                rows.append(self._measure(count, size, [f"{scene}:{BENCH_BACKGROUND}"],
                                          threads, keep))
        print_table(rows, COLUMNS, out=self.stdout)
        self.stdout.write(
            f"export: {rows[0]['threads']} render thread(s); bare loop: 1 thread. Both write "
            "each preset's canvas as a JPEG (quality 90, sRGB ICC) from the same cutout files, "
            "the product trimmed and scaled to the preset's fill. naive: the whole cutout "
            "composited on white and resized to the canvas (no trim, no fill). "
            "CPU ms/v is process CPU time (all threads) per variant: less sensitive to other "
            "load on the machine than v/s.")
        for row in rows:
            if row["bare_identity"]:
                self.stdout.write(
                    f"N={row['n']}: the naive loop's resize is a no-op (Pillow copies) for "
                    f"{', '.join(row['bare_identity'])}: source and canvas are the same size.")
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        write_json(json_path, rows)

    # --- parent -------------------------------------------------------------------------

    def _measure(self, count: int, size: int, presets: list[str], threads: int,
                 keep: bool) -> dict[str, Any]:
        env = throwaway_env("export-bench")
        try:
            results = self._phases(env, count, size, presets, threads)
        finally:
            if keep:
                self.stderr.write(f"kept {env['CUTROOM_VAR_DIR']}")
            else:
                shutil.rmtree(env["CUTROOM_VAR_DIR"], ignore_errors=True)
        export, bare = results["export"], results["bare"]
        naive = results.get("naive", {})
        return {
            "n": count, "kind": "scene" if any(":" in p for p in presets) else "marketplace",
            "variants": export["variants"], "threads": export["threads"],
            "export_vps": export["vps"], "bare_vps": bare["vps"],
            "ratio": export["vps"] / bare["vps"], "cached_vps": export["cached_vps"],
            "export_cpu_ms": export["cpu_ms"], "bare_cpu_ms": bare["cpu_ms"],
            "cpu_ratio": export["cpu_ms"] / bare["cpu_ms"],
            "naive_vps": naive.get("vps"), "naive_cpu_ms": naive.get("cpu_ms"),
            "naive_ratio": export["vps"] / naive["vps"] if naive else None,
            "naive_cpu_ratio": export["cpu_ms"] / naive["cpu_ms"] if naive else None,
            "naive_rss_mb": naive.get("rss_mb"),
            "export_rss_mb": export["rss_mb"], "bare_rss_mb": bare["rss_mb"],
            "zip_mb": export["zip_bytes"] / 1e6, "setup_seconds": results["setup"]["seconds"],
            "excluded": export["excluded"], "size": size, "presets": presets,
            "bare_identity": naive.get("identity_resizes", []),
        }

    def _phases(self, env: dict[str, str], count: int, size: int, presets: list[str],
                threads: int) -> dict[str, dict[str, Any]]:
        results: dict[str, dict[str, Any]] = {}
        scene = any(":" in p for p in presets)
        for phase in ("setup", "export", "bare") if scene else ("setup", "export", "bare",
                                                                   "naive"):
            cmd = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"),
                   "export_benchmark", str(count), "--phase", phase, "--size", str(size),
                   "--threads", str(threads)]
            for preset in presets:
                cmd += ["--preset", preset]
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
            if proc.returncode or not lines:
                raise CommandError(f"{phase} failed for N={count}:\n{proc.stderr[-3000:]}")
            results[phase] = json.loads(lines[-1][len(MARK):])
            self.stderr.write(f"N={count} {phase}: {results[phase]}")
        return results

    # --- children (throwaway database) ----------------------------------------------------

    def _setup(self, count: int, size: int, presets: list[str],
               threads: int) -> dict[str, float]:
        from django.core.files.base import ContentFile
        from django.core.files.storage import storages
        from django.core.management import call_command
        from django.utils import timezone

        from catalog.models import AssetStatus, ImageAsset, Product
        from cutouts.models import Cutout, JobStatus, ReviewStatus

        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        now = timezone.now()
        Product.objects.bulk_create(
            [Product(sku=f"BENCH-{i:06d}", brand="Bench") for i in range(count)],
            batch_size=500)
        products = list(Product.objects.order_by("sku").values_list("pk", flat=True))
        ImageAsset.objects.bulk_create([
            ImageAsset(product_id=pk, position="MAIN", original_name=f"originals/{i}.png",
                       sha256=f"{i:064x}", bytes=1, width=size, height=size, format="PNG",
                       colour_mode="RGB", working_name=f"working/{i}.png", working_width=size,
                       working_height=size, status=AssetStatus.APPROVED)
            for i, pk in enumerate(products)], batch_size=500)
        storage = storages["default"]
        bases = []
        for shape in range(min(count, SHAPES)):
            buf = io.BytesIO()
            synthetic_cutout(shape, size).save(buf, "PNG", compress_level=1)
            bases.append(buf.getvalue())
        cutouts = []
        for i, asset_id in enumerate(ImageAsset.objects.order_by("pk").values_list("pk",
                                                                                  flat=True)):
            data = png_with_text(bases[i % len(bases)], "cutroom-bench", str(i))
            name = storage.save(f"cutouts/bench/{i:06d}/cutout.png", ContentFile(data))
            cutouts.append(Cutout(
                asset_id=asset_id, version=1, status=JobStatus.DONE, rgba_name=name,
                width=size, height=size, model_name="u2netp", is_current=True,
                review_status=ReviewStatus.APPROVED, reviewed_at=now))
        Cutout.objects.bulk_create(cutouts, batch_size=500)
        if any(":" in p for p in presets):
            from cutouts.services import scenes

            scenes.background_create(name="Bench room", slug=BENCH_BACKGROUND,
                                     data=bench_background())
        return {"cutouts": count, "seconds": round(time.perf_counter() - started, 1)}

    def _export(self, count: int, size: int, presets: list[str],
                threads: int) -> dict[str, float]:
        from django.core.files.storage import storages

        from cutouts.models import ExportJob
        from cutouts.services import export_jobs, renditions

        if threads:
            settings.CUTROOM_EXPORT_THREADS = threads
        _warm_page_cache()
        timings, cpus = [], []
        for _ in range(2):  # cold: every variant rendered; then warm: all from the cache
            job = export_jobs.export_job_create(presets=presets, enqueue=False)
            token = export_jobs.export_job_claim(job_id=job.pk)
            started, cpu = time.perf_counter(), cpu_seconds()
            status = export_jobs.export_job_run(job_id=job.pk, run_token=token)
            timings.append(time.perf_counter() - started)
            cpus.append(cpu_seconds() - cpu)
            job = ExportJob.objects.get(pk=job.pk)
            if status != "done":
                raise CommandError(f"export {status}: {job.message}")
        variants = job.progress_total
        return {
            "variants": variants, "threads": renditions._threads(),
            "vps": round(variants / timings[0], 3), "cached_vps": round(variants / timings[1], 3),
            "cpu_ms": round(cpus[0] / variants * 1000, 1),
            "excluded": job.failed_count, "rss_mb": round(peak_rss_mb(), 1),
            "zip_bytes": storages["exports"].size(job.zip_name),
        }

    def _bare(self, count: int, size: int, presets: list[str], threads: int) -> dict[str, float]:
        """What a competent script writes to make the export's files with plain Pillow: crop
        to the alpha's box, one Lanczos resize to the preset's fill (Pillow premultiplies
        RGBA itself), paste centred on white, save the same JPEG. No checks, no cache."""

        from cutouts import variants
        from cutouts.variants.operations import Fill
        from cutouts.variants.render import srgb_icc_profile

        if any(":" in p for p in presets):
            return self._bare_scene(presets)
        targets = []
        for name in presets:
            spec = variants.parse_spec(variants.get_preset(name).spec)
            fill = next((op.percent for op in spec.operations if isinstance(op, Fill)), 100)
            targets.append((spec.fixed_canvas() or (size, size), fill / 100))
        icc = srgb_icc_profile()

        def render(image: Image.Image) -> int:
            product = image.crop(image.getchannel("A").getbbox())
            for (cw, ch), fill in targets:
                scale = fill / max(product.width / cw, product.height / ch)
                w, h = round(product.width * scale), round(product.height * scale)
                layer = product.resize((w, h), Image.Resampling.LANCZOS)
                out = Image.new("RGB", (cw, ch), (255, 255, 255))
                out.paste(layer, ((cw - w) // 2, (ch - h) // 2), mask=layer)
                out.save(io.BytesIO(), "JPEG", quality=90, icc_profile=icc)
            return len(targets)

        return _timed_loop(render)

    def _naive(self, count: int, size: int, presets: list[str],
               threads: int) -> dict[str, float | list[str]]:
        """The first bare loop of issue #18: the whole cutout on white, resized to the canvas
        (no trim, no fill; a copy when the sizes match). Kept for comparison with old runs."""

        from cutouts import variants
        from cutouts.variants.render import srgb_icc_profile

        sides = []
        for name in presets:
            canvas = variants.parse_spec(variants.get_preset(name).spec).fixed_canvas()
            sides.append(canvas or (size, size))
        # Same output as the export: each preset's canvas, JPEG quality 90, sRGB ICC embedded.
        icc = srgb_icc_profile()
        identity: set[tuple[int, int]] = set()

        def render(image: Image.Image) -> int:
            for side in sides:
                white = Image.new("RGBA", image.size, (255, 255, 255, 255))
                white.alpha_composite(image)
                # Pillow returns a plain copy when the size does not change: no resampling
                if side == image.size:
                    identity.add(side)
                out = white.convert("RGB").resize(side, Image.Resampling.LANCZOS)
                out.save(io.BytesIO(), "JPEG", quality=90, icc_profile=icc)
            return len(sides)

        return {**_timed_loop(render),
                "identity_resizes": ["x".join(map(str, s)) for s in sorted(identity)]}


    def _bare_scene(self, presets: list[str]) -> dict[str, float]:
        """Paste each cutout (trimmed, scaled to the same height as the scene puts it) on the
        same background resized to the canvas once, and save the same JPEG."""
        from django.core.files.storage import storages

        from cutouts import variants
        from cutouts.models import Background
        from cutouts.variants.render import srgb_icc_profile

        storage = storages["default"]
        canvases: list[tuple[int, int]] = []
        for preset in presets:
            canvas = variants.parse_spec(variants.get_preset(preset.split(":")[0]).spec) \
                .fixed_canvas()
            if canvas is None:
                raise CommandError(f"{preset}: a scene without a fixed canvas has no bare loop")
            canvases.append(canvas)
        row = Background.objects.get(slug=BENCH_BACKGROUND)
        with storage.open(row.image_name, "rb") as fh:
            source = Image.open(fh).convert("RGB")
        icc = srgb_icc_profile()
        backgrounds: list[Image.Image] = []

        def prepare() -> None:  # timed: the export resizes the background too
            backgrounds.extend(source.resize(c, Image.Resampling.LANCZOS) for c in canvases)

        def render(image: Image.Image) -> int:
            product = image.crop(image.getchannel("A").getbbox())
            for canvas, background in zip(canvases, backgrounds, strict=True):
                h = int(canvas[1] * 0.6)
                w = max(1, round(product.width * h / product.height))
                layer = product.resize((w, h), Image.Resampling.LANCZOS)
                out = background.copy()
                out.paste(layer, ((canvas[0] - w) // 2, (canvas[1] - h) // 2), mask=layer)
                out.save(io.BytesIO(), "JPEG", quality=88, icc_profile=icc)
            return len(canvases)

        return _timed_loop(render, prepare)


def _timed_loop(render: Callable[[Image.Image], int],
                prepare: Callable[[], None] | None = None) -> dict[str, float]:
    """The bare loops' shared frame: every stored cutout decoded once, in order, and handed to
    ``render`` (which returns how many variants it made), timed in wall and CPU seconds from a
    warm page cache."""
    from django.core.files.storage import storages

    from cutouts.models import Cutout

    storage = storages["default"]
    names = list(Cutout.objects.order_by("pk").values_list("rgba_name", flat=True))
    _warm_page_cache()
    started, cpu = time.perf_counter(), cpu_seconds()
    if prepare is not None:
        prepare()
    produced = 0
    for name in names:
        with storage.open(name, "rb") as fh:
            image = Image.open(fh)
            image.load()
        produced += render(image)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    return {"variants": produced, "vps": round(produced / seconds, 3),
            "cpu_ms": round(cpu / produced * 1000, 1), "rss_mb": round(peak_rss_mb(), 1)}


BENCH_BACKGROUND = "bench-room"


def bench_background(size: tuple[int, int] = (2400, 1200)) -> bytes:
    """A room photo stand-in: a lit wall above a darker floor, with texture."""
    w, h = size
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    wall = 200 - 40 * xx / w
    rgb = np.where((yy < h * 0.72)[..., None], np.dstack([wall, wall * 0.97, wall * 0.92]),
                   np.dstack([wall * 0.55, wall * 0.5, wall * 0.45]))
    rgb = np.clip(rgb + rng.normal(0, 4, (h, w, 1)), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _warm_page_cache() -> None:
    """Read every cutout file once so neither contender pays for cold disk reads."""
    from django.core.files.storage import storages

    from cutouts.models import Cutout

    storage = storages["default"]
    for name in Cutout.objects.values_list("rgba_name", flat=True).iterator():
        with storage.open(name, "rb") as fh:
            while fh.read(1 << 20):
                pass


def json_dumps(data: object) -> str:
    return json.dumps(data, default=str)
