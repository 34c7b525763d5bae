"""Shared helpers for the benchmark commands: synthetic product photos and the catalogue rows
that hold them, throwaway environments, peak RSS and a plain-text table. No test or eval data
is involved."""

from __future__ import annotations

import hashlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from catalog.ingest.png import encode_working


def product_photo(width: int = 800, height: int = 600, seed: int = 0) -> Image.Image:
    """A coloured product (rounded box + ellipse) on a light studio sweep with a soft shadow."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    noise = rng.normal(0, 1.5, (height, width, 1)).astype(np.float32)
    sweep = (242 - 18 * y + noise).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(np.repeat(sweep, 3, axis=2), "RGB")
    colour = tuple(int(c) for c in rng.integers(20, 200, 3))
    cx = width // 2 + int(rng.integers(-width // 10, width // 10))
    cy = height // 2
    w, h = width // 4 + int(rng.integers(0, width // 8)), height // 3
    shadow = Image.new("L", (width, height), 0)
    ImageDraw.Draw(shadow).ellipse((cx - w, cy + h - h // 6, cx + w, cy + h + h // 6), fill=110)
    shadow = shadow.filter(ImageFilter.GaussianBlur(max(2, width // 80)))
    image.paste((90, 90, 90), mask=shadow)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((cx - w, cy - h, cx + w, cy + h), radius=w // 4, fill=colour)
    draw.ellipse((cx - w // 2, cy - h // 2, cx + w // 2, cy + h // 4),
                 fill=tuple(255 - c for c in colour))
    return image


def seed_assets(n: int, size: tuple[int, int], prefix: str) -> int:
    """Create ``n`` products, each with one asset whose working copy is ``product_photo`` at
    ``size`` (a PNG, as ingest stores it), in the current database and default storage.
    SKUs are ``PREFIX-00000``…; returns ``n``."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    from catalog.models import ImageAsset, Product

    storage = storages["default"]
    products = Product.objects.bulk_create(
        [Product(sku=f"{prefix.upper()}-{i:05d}", title=f"{prefix.title()} {i}")
         for i in range(n)])
    width, height = size
    assets = []
    for i, product in enumerate(products):
        buf = io.BytesIO()
        encode_working(product_photo(width, height, seed=i), buf)
        data = buf.getvalue()
        sha = hashlib.sha256(data).hexdigest()
        name = storage.save(f"working/{sha[:2]}/{sha}.png", ContentFile(data))
        assets.append(ImageAsset(
            product=product, original_name=name, sha256=sha, bytes=len(data),
            width=width, height=height, format="PNG", colour_mode="RGB",
            working_name=name, working_width=width, working_height=height))
    ImageAsset.objects.bulk_create(assets)
    return n


class QueryCount:
    """Counts statements through an execute wrapper: unlike CaptureQueriesContext it survives
    the reconnect that every request makes (CONN_MAX_AGE = 0 on SQLite)."""

    def __init__(self):
        from django.db import connection

        self.n = 0
        self._cm = connection.execute_wrapper(self._count)

    def _count(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)

    def __enter__(self):
        self._cm.__enter__()
        return self

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def peak_rss_mb(children: bool = False) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def throwaway_env(prefix: str, var: Path | None = None) -> dict[str, str]:
    """Environment for a child process with its own SQLite database, media and broker spool,
    in ``var`` (created if missing) or a new temporary folder."""
    if var is None:
        var = Path(tempfile.mkdtemp(prefix=f"cutroom-{prefix}-"))
    else:
        var.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in {
        "DATABASE_URL", "CELERY_BROKER_URL", "STORAGE_BACKEND", "CUTROOM_TEST_TMP"}}
    env.update(CUTROOM_VAR_DIR=str(var), DATABASE_URL=f"sqlite:///{var / 'bench.sqlite3'}",
               DJANGO_SETTINGS_MODULE="config.settings.dev", DEBUG="false",
               PYTHONUNBUFFERED="1")
    return env


def start_cutout_worker(env: dict[str, str], name: str, *,
                        queues: str = "cutouts") -> subprocess.Popen:
    """A Celery worker on ``queues`` (the cutouts queue unless told) of the throwaway ``env``,
    logging to ``<CUTROOM_VAR_DIR>/<name>.log`` as ``<name>@host``; returns once it is ready.

    Prefork with one pool process, as deployed; no max-tasks-per-child, so one process runs
    every cutout and a leak cannot hide behind process recycling."""
    from django.conf import settings
    from django.core.management.base import CommandError

    log = open(Path(env["CUTROOM_VAR_DIR"]) / f"{name}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues,
         "-c", "1", "--hostname", f"{name}@%h", "-l", "info", "--without-gossip",
         "--without-mingle"], env=env, cwd=settings.BASE_DIR, stdout=log,
        stderr=subprocess.STDOUT)
    path = Path(log.name)
    deadline = time.monotonic() + 90
    while " ready." not in path.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise CommandError(f"worker {name} did not start:\n{path.read_text()}")
        time.sleep(0.2)
    return proc


def process_cpu_s(pid: int) -> dict[str, float] | None:
    """CPU seconds (user + system) of process ``pid`` ("main") and of its live children
    ("children", e.g. a Celery worker's pool), from /proc; None where /proc cannot say."""
    def cpu(p: int) -> float:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return {"main": cpu(pid), "children": sum(cpu(int(c)) for c in children)}
    except (OSError, ValueError, IndexError):
        return None


def print_table(rows: list[dict], columns: list[tuple[str, str, str]], out=None) -> None:
    """columns: (key, header, format spec)."""
    out = out or sys.stdout
    widths = [max(len(h), 12) for _, h, _ in columns]
    out.write("  ".join(h.rjust(w) for (_, h, _), w in zip(columns, widths, strict=True)) + "\n")
    for row in rows:
        cells = []
        for (key, _, fmt), w in zip(columns, widths, strict=True):
            value = row.get(key, "")
            cells.append((format(value, fmt) if value not in ("", None) else "—").rjust(w))
        out.write("  ".join(cells) + "\n")


def write_json(path: str | Path, data) -> None:
    Path(path).write_text(json.dumps(data, indent=2, default=str))
