"""Measure lossless working-copy encodings: CPU to encode, CPU to decode, size.

    python -m catalog.ingest.working_bench [--images DIR] [--limit 12] [--json PATH]

Photos are generated in memory (a grainy 4 MP gradient like ``import_benchmark``'s ZIP, and a
4 MP studio shot: white sweep, a textured product, its shadow, mild sensor noise), each saved
as a JPEG and decoded again so the pixels carry real JPEG structure. ``--images`` adds real
photos read from a folder, for the measurement only. Each candidate encodes every photo, the
result is decoded with Pillow (as the worker reads it) and must give back the identical pixels
(lossless, so ΔE2000 = 0); times are the fastest of ``--repeat`` runs in process CPU time, so
other processes on the machine do not inflate them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PIL import Image

from . import images, png

# libwebp's lossless presets (cwebp -z 0..5) as (method, quality): quality is effort there.
_WEBP_PRESETS = ((0, 0), (1, 20), (2, 25), (3, 30), (3, 50), (4, 50))

Encoder = Callable[[Image.Image, io.BytesIO], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Candidate:
    name: str
    encode: Encoder
    browser: bool  # read by every current browser as an <img>
    max_side: int = 2**31 - 1
    chosen: bool = False


def _pillow_png(level: int, strategy: int | None = None) -> Encoder:
    def encode(image: Image.Image, out: io.BytesIO) -> None:
        kwargs = {"compress_type": strategy} if strategy is not None else {}
        image.save(out, "PNG", compress_level=level, **kwargs)
    return encode


def _writer_png(level: int, row_filter: str, strategy: int = zlib.Z_DEFAULT_STRATEGY) -> Encoder:
    def encode(image: Image.Image, out: io.BytesIO) -> None:
        png.png_write(image, out, level=level, row_filter=row_filter, strategy=strategy)
    return encode


def _webp(method: int, quality: int) -> Encoder:
    def encode(image: Image.Image, out: io.BytesIO) -> None:
        image.save(out, "WEBP", lossless=True, method=method, quality=quality, exact=True)
    return encode


def _tiff(compression: str) -> Encoder:
    def encode(image: Image.Image, out: io.BytesIO) -> None:
        image.save(out, "TIFF", compression=compression)
    return encode


def candidates(*, quick: bool = False) -> list[Candidate]:
    found = [Candidate("working copy (encode_working)", images.encode_working, True,
                       chosen=True)]
    levels = (0, 1, 3, 6, 9) if quick else range(10)
    found += [Candidate(f"Pillow PNG level {lv}", _pillow_png(lv), True) for lv in levels]
    found.append(Candidate("Pillow PNG level 1 RLE", _pillow_png(1, zlib.Z_RLE), True))
    for row_filter in ("none", "sub", "up"):
        found.append(Candidate(f"PNG {row_filter} filter level 1",
                               _writer_png(1, row_filter), True))
    found += [Candidate(f"PNG up filter level {lv}", _writer_png(lv, "up"), True)
              for lv in (2, 3, 6)]
    found += [Candidate(f"PNG {f} filter level 1 RLE", _writer_png(1, f, zlib.Z_RLE), True)
              for f in ("sub", "up")]
    presets = _WEBP_PRESETS[:2] if quick else _WEBP_PRESETS
    found += [Candidate(f"WebP lossless method {m} q{q}", _webp(m, q), True, max_side=16383)
              for m, q in presets]
    found += [Candidate("TIFF uncompressed", _tiff("raw"), False),
              Candidate("TIFF deflate", _tiff("tiff_adobe_deflate"), False)]
    return found


def _as_jpeg_decoded(arr: np.ndarray) -> Image.Image:
    buffer = io.BytesIO()
    Image.fromarray(arr, "RGB").save(buffer, "JPEG", quality=90)
    buffer.seek(0)
    decoded = Image.open(buffer)
    decoded.load()
    return decoded


def generated_photos(side: int = 2048, seed: int = 0) -> list[tuple[str, Image.Image]]:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    # The import benchmark's photo: a tinted gradient with heavy sensor-like grain.
    grainy = np.stack([x / side * 255, y / side * 255, (x + y) / (2 * side) * 255], axis=-1)
    grainy = grainy * rng.uniform(0.6, 1.0, size=3) + rng.normal(0, 9, size=(side, side, 3))
    # A studio shot: a white sweep, a soft shadow, a textured product, mild noise.
    sweep = 250 - 18 * (y / side) ** 2
    cx, cy, r = side * 0.5, side * 0.45, side * 0.28
    dist = np.hypot((x - cx) / r, (y - cy) / (r * 1.3))
    shadow = 1 - 0.35 * np.exp(-(((x - cx) / (r * 1.2)) ** 2 + ((y - side * 0.8) / (r * 0.2)) ** 2))
    studio = np.repeat((sweep * shadow)[..., None], 3, axis=-1)
    weave = 30 * np.sin(x / 3.1) * np.sin(y / 2.7) + 20 * np.sin((x + y) / 11.0)
    product = np.stack([120 + weave, 60 + 0.6 * weave, 40 + 0.4 * weave], axis=-1)
    inside = (dist < 1)[..., None]
    studio = np.where(inside, product * (1.1 - 0.4 * dist[..., None]), studio)
    studio += rng.normal(0, 2.5, size=(side, side, 3))
    return [(name, _as_jpeg_decoded(np.clip(arr, 0, 255).astype(np.uint8)))
            for name, arr in (("generated grainy 4 MP", grainy),
                              ("generated studio 4 MP", studio))]


def folder_photos(folder: Path, limit: int) -> list[tuple[str, Image.Image]]:
    found = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in images.IMAGE_EXTENSIONS:
            continue
        with Image.open(path) as opened:
            found.append((path.name, opened.convert("RGB")))
        if len(found) >= limit:
            break
    return found


def _fastest(function: Callable[[], T], repeat: int) -> tuple[float, T]:
    best = float("inf")
    for _ in range(max(1, repeat)):
        started = time.process_time()
        result = function()
        best = min(best, time.process_time() - started)
    return best, result


def _encoded(candidate: Candidate, image: Image.Image) -> bytes:
    out = io.BytesIO()
    candidate.encode(image, out)
    return out.getvalue()


def _decoded(data: bytes) -> np.ndarray:
    """As the worker reads a working copy: open, decode, RGB array."""
    with Image.open(io.BytesIO(data)) as opened:
        opened.load()
        return np.asarray(opened.convert("RGB"))


def measure(photos: list[tuple[str, Image.Image]], found: list[Candidate],
            repeat: int = 3) -> list[dict[str, Any]]:
    megapixels = sum(image.width * image.height for _, image in photos) / 1e6
    rows = []
    for candidate in found:
        encode_s = decode_s = 0.0
        size = 0
        identical = True
        for _, image in photos:
            if max(image.size) > candidate.max_side:
                continue
            seconds, data = _fastest(partial(_encoded, candidate, image), repeat)
            read_seconds, pixels = _fastest(partial(_decoded, data), repeat)
            identical = identical and np.array_equal(pixels, np.asarray(image))
            encode_s += seconds
            decode_s += read_seconds
            size += len(data)
        rows.append({
            "candidate": candidate.name, "chosen": candidate.chosen,
            "encode_ms_per_mp": round(1000 * encode_s / megapixels, 1),
            "decode_ms_per_mp": round(1000 * decode_s / megapixels, 1),
            "mb_per_mp": round(size / 1e6 / megapixels, 3),
            "identical_pixels": identical, "browser": candidate.browser,
            "max_side": candidate.max_side if candidate.max_side < 2**31 - 1 else None,
        })
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'candidate':<34}{'enc ms/MP':>10}{'dec ms/MP':>10}{'MB/MP':>8}"
             f"{'lossless':>9}{'browser':>8}"]
    for row in rows:
        mark = " *" if row["chosen"] else ""
        lines.append(f"{row['candidate'] + mark:<34}{row['encode_ms_per_mp']:>10.1f}"
                     f"{row['decode_ms_per_mp']:>10.1f}{row['mb_per_mp']:>8.2f}"
                     f"{'yes' if row['identical_pixels'] else 'NO':>9}"
                     f"{'yes' if row['browser'] else 'no':>8}")
    return "\n".join(lines)


def _load() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m catalog.ingest.working_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=Path, help="Also measure real photos from a folder.")
    parser.add_argument("--limit", type=int, default=12, help="Photos read from --images.")
    parser.add_argument("--side", type=int, default=2048, help="Side of generated photos.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="Fewer PNG levels and WebP presets (for a smoke test).")
    parser.add_argument("--json", dest="json_path", type=Path,
                        default=Path("var/benchmarks/working_bench.json"))
    args = parser.parse_args(argv)
    sets = [("generated", generated_photos(args.side))]
    if args.images:
        sets.append((f"{args.images} ({args.limit} photos)",
                     folder_photos(args.images, args.limit)))
    found = candidates(quick=args.quick)
    report: dict[str, Any] = {"repeat": args.repeat, "sets": [],
                              "load_average_start": _load()}
    for label, photos in sets:
        megapixels = sum(image.width * image.height for _, image in photos) / 1e6
        rows = measure(photos, found, repeat=args.repeat)
        print(f"\n{label}: {len(photos)} photos, {megapixels:.1f} MP "
              "(CPU ms per megapixel, fastest of each; * = the working copy today)")
        print(table(rows))
        report["sets"].append({"label": label, "photos": [n for n, _ in photos],
                               "megapixels": round(megapixels, 2), "rows": rows})
    report["load_average_end"] = _load()
    print(f"\nload average at start {report['load_average_start']}, "
          f"at end {report['load_average_end']}")
    args.json_path.parent.mkdir(parents=True, exist_ok=True)
    args.json_path.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.json_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
