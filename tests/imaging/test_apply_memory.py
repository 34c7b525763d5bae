"""A retouch Apply's full-size temporaries (issue #12: peak RSS < 1.5 GB at big sizes).

The worker's Apply (``services.retouch._retouch_output``) read the parent cutout through
Pillow (three full-size copies at once), zeroed hidden colours with one boolean-mask
assignment (64-bit indices of every transparent pixel) and labelled the mask's components
32-bit for the signals. The outputs must stay the same bits; the peaks are checked per stage
in a fresh process (docs/review.md, memory).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from PIL import Image

from cutouts.imaging import encode
from cutouts.imaging.encode import decode_cutout, png_bytes, png_spooled
from cutouts.imaging.signals import component_areas, drawn_signals

ROOT = Path(__file__).resolve().parents[2]


def _scene(h: int, w: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(photo, cutout) built in memory: a textured product with a soft edge, a stray speck
    and a few transparent holes on a light sweep; the cutout's colour only where opaque."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[:] = (235 + 15 * y / h).astype(np.uint8)[..., None]
    d = np.hypot((x - 0.5 * w) / (0.3 * w), (y - 0.55 * h) / (0.35 * h))
    a = np.clip((1.05 - d) / 0.08, 0, 1)
    speck = max(10, h // 50)
    a[int(0.1 * h):int(0.1 * h) + speck, int(0.1 * w):int(0.1 * w) + speck] = 1
    a[(np.hypot(x - 0.45 * w, y - 0.5 * h) < 0.04 * h)] = 0  # a hole
    texture = np.stack([90 + 40 * np.sin(x / 7), 60 + 30 * np.cos(y / 5), 50 + 0 * x], -1)
    obj = np.clip(texture + rng.normal(0, 5, texture.shape), 0, 255)
    rgb = np.clip(rgb * (1 - a[..., None]) + obj * a[..., None] + 0.5, 0, 255).astype(np.uint8)
    alpha = np.clip(a * 255 + 0.5, 0, 255).astype(np.uint8)
    rgba = np.dstack([rgb, alpha])
    rgba[..., :3][alpha == 0] = 0
    return rgb, rgba


def _strokes(h: int, w: int) -> list[dict]:
    return [
        {"kind": "keep", "radius": 0.03 * h, "points": [[0.45 * w, 0.5 * h], [0.5 * w, 0.55 * h]]},
        {"kind": "remove", "radius": 0.02 * h, "points": [[0.1 * w + 3, 0.1 * h + 3]]},
        {"kind": "detail", "radius": 0.012 * h,
         "points": [[0.5 * w + 0.3 * w * np.cos(t), 0.55 * h + 0.35 * h * np.sin(t)]
                    for t in np.linspace(0.2, 0.8, 9)]},
    ]


# --- the pieces: each is the old formulation's bits -----------------------------------------

@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "RGB", "RGBA;16"])
def test_it_decodes_a_stored_cutout_to_the_pixels_pillow_gave(mode):
    _, rgba = _scene(37, 53)
    image = Image.fromarray(rgba, "RGBA")
    if mode == "RGBA;16":  # a 16-bit file goes through Pillow, as before
        data = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA).astype(np.uint16)
                            * 257)[1].tobytes()
    else:
        if mode != "RGBA":
            image = image.convert(mode)
        buf = io.BytesIO()
        image.save(buf, "PNG")
        data = buf.getvalue() if mode != "RGBA" else png_bytes(rgba)
    old = np.array(Image.open(io.BytesIO(data)).convert("RGBA"))  # services' old _open_array
    new = decode_cutout(io.BytesIO(data))
    assert new.dtype == np.uint8 and new.shape == (37, 53, 4) and new.flags.writeable
    np.testing.assert_array_equal(new, old)


def test_it_zeroes_hidden_colours_in_strips_as_the_boolean_assignment_did(monkeypatch):
    from cutouts.services import retouch as svc

    monkeypatch.setattr(svc, "STRIP_ROWS", 7)  # several strips and a short last one
    rng = np.random.default_rng(1)
    rgba = rng.integers(0, 256, (40, 31, 4), dtype=np.uint8)
    rgba[..., 3][rng.random((40, 31)) < 0.4] = 0
    old = rgba.copy()
    old[..., :3][old[..., 3] == 0] = 0
    svc._clear_hidden_colours(rgba)
    np.testing.assert_array_equal(rgba, old)


def test_it_counts_the_same_components_with_16_bit_labels():
    rng = np.random.default_rng(2)
    for _ in range(60):
        h, w = (int(v) for v in rng.integers(1, 70, 2))
        obj = rng.random((h, w)) < rng.random()
        _, _, stats, _ = cv2.connectedComponentsWithStats(obj.view(np.uint8), connectivity=8)
        assert sorted(component_areas(obj).tolist()) == sorted(stats[1:, 4].tolist())
    # more row runs than 16-bit labels number: 32-bit labels, the same areas
    obj = np.zeros((300, 600), bool)
    obj[::2, ::2] = True
    areas = component_areas(obj)
    assert len(areas) == 300 * 300 // 2 and set(areas.tolist()) == {1}


def test_it_gives_a_drawn_cutout_the_signals_of_32_bit_labels():
    _, rgba = _scene(300, 420)
    alpha = np.ascontiguousarray(rgba[..., 3])
    obj = alpha >= 128
    _, _, stats, _ = cv2.connectedComponentsWithStats(obj.view(np.uint8), connectivity=8)
    old = int(np.count_nonzero(stats[1:, 4] >= max(4, 0.001 * np.count_nonzero(obj))))
    sig = drawn_signals(rgba[..., 3], rgba[..., :3].copy())
    assert sig["fragment_count"] == old == 2  # the product and the speck


def test_it_encodes_in_place_only_an_array_the_caller_owns():
    _, rgba = _scene(60, 80)
    before = rgba.copy()
    with png_spooled(rgba, owned=True) as fh:
        assert fh.read() == png_bytes(before)
    np.testing.assert_array_equal(rgba, before)  # swapped for libpng, and back
    for lent in (rgba[:30], rgba[..., :4][::2], np.asarray(Image.fromarray(rgba))):
        with pytest.raises(ValueError, match="owns its memory"):
            png_spooled(lent, owned=True)


def test_it_swaps_a_large_owned_array_without_a_copy(monkeypatch):
    # the contract's point: no second array of the cutout's size while libpng writes it
    import tracemalloc

    monkeypatch.setattr(encode, "SPOOL_MAX_BYTES", 1024)
    _, rgba = _scene(600, 800)
    tracemalloc.start()
    try:
        for owned, most in ((True, rgba.nbytes // 8), (False, rgba.nbytes)):
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            with png_spooled(rgba, owned=owned):
                pass
            rise = tracemalloc.get_traced_memory()[1] - base
            assert (rise < most) if owned else (rise >= most)
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("size, side, rows", [
    ((1400, 900), 1024, 256), ((1400, 900), 300, 7), ((2001, 1333), 512, 256),
    ((37, 1999), 64, 5), ((1999, 37), 100, 3), ((900, 1400), 600, 256)])
def test_it_downsizes_a_cutout_in_strips_to_pillows_bits(monkeypatch, size, side, rows):
    monkeypatch.setattr(encode, "_DOWNSIZE_ROWS", rows)
    w, h = size
    rng = np.random.default_rng(w + h)
    rgba = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    rgba[..., 3][rng.random((h, w)) < 0.3] = 0
    image = Image.fromarray(rgba, "RGBA")
    scale = side / max(w, h)
    target = (max(1, round(w * scale)), max(1, round(h * scale)))
    old = image.convert("RGBa").resize(target, Image.Resampling.LANCZOS,
                                       reducing_gap=encode.PREVIEW_REDUCING_GAP).convert("RGBA")
    new = encode.downsized(image, side)
    assert new.size == target and new.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(new), np.asarray(old))


_SCREEN_COPY = textwrap.dedent("""
    import sys
    import numpy as np
    from PIL import Image
    from cutouts.imaging.encode import downsized
    h, w = int(sys.argv[1]), int(sys.argv[2])
    rgba = np.full((h, w, 4), 200, np.uint8)
    rgba[: h // 3, :, 3] = 0
    image = Image.fromarray(rgba, "RGBA")  # shares the array's memory
    downsized(image.crop((0, 0, 64, 64)), 32)  # Pillow's lazy setup, not measured
    def status(key):
        with open("/proc/self/status") as fh:
            return next(int(l.split()[1]) * 1024 for l in fh if l.startswith(key + ":"))
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    before = status("VmRSS")
    downsized(image, 1024)
    print(status("VmHWM") - before)
""")


def test_it_makes_the_screen_copy_without_a_full_size_premultiplied_copy():
    """Fresh process, 12 MP cutout: the whole ``convert("RGBa")`` and its reduce raised peak
    RSS by 1.25x the cutout's size; in strips 0.58x (the reduced image is a quarter of it
    at this size, a sixteenth at 45 MP)."""
    h, w = 2800, 4200
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT),
                                                       os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", _SCREEN_COPY, str(h), str(w)],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert int(out.stdout.strip().splitlines()[-1]) < 0.8 * h * w * 4


# --- the Apply: the same files, lower peaks --------------------------------------------------

_APPLY = textwrap.dedent("""
    import hashlib, json, os, sys
    from types import SimpleNamespace
    import django
    django.setup()
    import numpy as np
    from PIL import Image
    from django.core.files.storage import storages
    from cutouts.imaging import retouch as _engine_imports  # noqa: F401 (loaded, not measured)
    from cutouts import engine as _more_imports  # noqa: F401
    from cutouts.imaging.signals import drawn_signals  # noqa: F401
    from cutouts.imaging import pipeline as _shadow_imports  # noqa: F401
    from cutouts.services import retouch as svc
    sys.path.insert(0, sys.argv[1])
    from test_apply_memory import _scene, _strokes

    h, w = int(sys.argv[2]), int(sys.argv[3])
    rgb, rgba = _scene(h, w)
    storage = storages["default"]
    os.makedirs(storage.path("p"), exist_ok=True)
    Image.fromarray(rgba).save(storage.path("p/parent.png"), compress_level=1)
    del rgba

    def status(key):
        with open("/proc/self/status") as fh:
            return next(int(l.split()[1]) * 1024 for l in fh if l.startswith(key + ":"))

    rows, at = [], {"stage": "", "rss": status("VmRSS")}
    def on_progress(stage, fraction):
        if stage != at["stage"]:
            rows.append([at["stage"], status("VmHWM") - at["rss"]])
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            at["stage"], at["rss"] = stage, status("VmRSS")

    upload = sys.argv[4] == "upload"  # the same file as an uploaded PNG instead of strokes
    cutout = SimpleNamespace(upload_name="p/parent.png" if upload else "",
                             strokes=[] if upload else _strokes(h, w), model_name="m",
                             model_version="1")
    parent = SimpleNamespace(rgba_name="p/parent.png", shadow_name="", version=1)
    if sys.argv[4] == "synthetic":  # the parent's synthetic shadow, redrawn from the result
        Image.fromarray(np.zeros((h, w), np.uint8)).save(storage.path("p/shadow.png"))
        parent = SimpleNamespace(rgba_name="p/parent.png", shadow_name="p/shadow.png",
                                 version=1, settings={"shadow": "synthetic"})
    out = svc._retouch_output(cutout, parent, rgb, 1024, on_progress)
    digest = {k: hashlib.sha256(getattr(out, k).read()).hexdigest() for k in ("rgba", "mask")}
    print(json.dumps({"rise": rows[1:], "digest": digest, "signals": out.signals}))
""")


def _apply_in_fresh_process(tmp_path, h: int, w: int, mode: str = "strokes") -> dict:
    # local media whatever the suite runs on (CI: S3): the child measures the Apply's own
    # memory and writes its parent cutout by path
    env = dict(os.environ, CUTROOM_VAR_DIR=str(tmp_path), STORAGE_BACKEND="local",
               DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE",
                                                     "config.settings.test"),
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", _APPLY, str(Path(__file__).parent), str(h),
                          str(w), mode], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result: dict = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_it_applies_strokes_to_the_same_files_as_the_old_path(tmp_path, settings):
    """The whole worker path on a photo the graph cut reduces (1.3 MP), against the old
    formulation of each changed step on the same arrays."""
    from cutouts.imaging.retouch import retouch
    from cutouts.imaging.strokes import strokes_from_json
    from cutouts.services import retouch as svc
    from cutouts.variants.compliance import export_signals

    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)}}}
    h, w = 900, 1400
    rgb, rgba = _scene(h, w)
    Image.fromarray(rgba).save(tmp_path / "parent.png")
    cutout = SimpleNamespace(upload_name="", strokes=_strokes(h, w), model_name="m",
                             model_version="1")
    parent = SimpleNamespace(rgba_name="parent.png", shadow_name="", version=1)
    out = svc._retouch_output(cutout, parent, rgb, 1024)

    previous = np.array(Image.open(tmp_path / "parent.png").convert("RGBA"))
    old = retouch(rgb, np.ascontiguousarray(previous[..., 3]), strokes_from_json(_strokes(h, w)),
                  previous_rgba=previous).rgba
    old[..., :3][old[..., 3] == 0] = 0
    assert out.rgba.read() == png_bytes(old)
    assert out.mask.read() == png_bytes(np.ascontiguousarray(old[..., 3]))
    # ... (no contact_off_body since shadow44: the export's own measure is in export_signals)
    assert out.signals == {
        **drawn_signals(np.ascontiguousarray(old[..., 3]), rgb,
                        reduced=(out.retouch_base[1][..., 3], out.retouch_base[0])),
        **export_signals(np.ascontiguousarray(old[..., 3]))}
    assert np.array_equal(np.asarray(out.preview), np.asarray(
        encode.downsized(Image.fromarray(old, "RGBA"), 1024)))


def test_it_reads_the_cutout_and_checks_the_result_without_full_size_copies(tmp_path):
    """Fresh process, 12 MP: the rise of peak RSS within each stage, in cutouts' bytes. The
    old path: reading the cutout 4.0x (the file, Pillow's decode, its convert, np.array),
    checking the result 2.6x (64-bit indices of the transparent pixels, then 32-bit labels);
    now 2.5x (the file, OpenCV's decode and its copy to numpy) and 0.3-0.5x."""
    h, w = 2800, 4200
    result = _apply_in_fresh_process(tmp_path, h, w)
    cutout_bytes = h * w * 4
    rise = dict(result["rise"])  # each stage once, in order
    assert rise["Reading the cutout"] < 3.2 * cutout_bytes, rise
    assert rise["Checking the result"] < 1.2 * cutout_bytes, rise
    assert result["signals"]["fragment_count"] >= 1
    assert len(result["digest"]["rgba"]) == len(hashlib.sha256().hexdigest())


def test_it_redraws_a_synthetic_shadow_within_the_checks_memory(tmp_path):
    """Fresh process, 12 MP, the parent with a synthetic shadow: the retouch draws its layer
    from the result (2026-12-07, reshadow43), at the run's working size then scaled back;
    "Checking the result" rose 0.38x -> 1.07x the cutout's bytes, the Apply's peak (refining
    edges, 6x) unchanged."""
    h, w = 2800, 4200
    result = _apply_in_fresh_process(tmp_path, h, w, "synthetic")
    rise = dict(result["rise"])
    assert rise["Checking the result"] < 1.2 * h * w * 4, rise
    assert rise["Checking the result"] < rise["Refining edges"], rise
    assert result["signals"]["shadow_off_body"] >= 0


def test_it_reads_an_uploaded_png_without_pillows_full_size_copies(tmp_path):
    """Fresh process, 12 MP upload at the photo's size: with Pillow's load, ``convert`` and
    ``np.array`` the stage raised the peak by 3.2x the cutout's bytes; decoded as a stored
    cutout is (``decode_cutout``), 2.5x."""
    h, w = 2800, 4200
    result = _apply_in_fresh_process(tmp_path, h, w, "upload")
    rise = dict(result["rise"])
    assert rise["Applying the upload"] < 2.8 * h * w * 4, rise
    assert len(result["digest"]["rgba"]) == len(hashlib.sha256().hexdigest())
