"""Finished cutouts for the review tests, made by the real pipeline with the fake model."""

import io

import numpy as np
from PIL import Image

from cutouts.models import Cutout
from cutouts.services import batches, runs


def done_cutouts(assets, *, profile_name: str = "fast") -> list[Cutout]:
    # recut: tests make further versions of one image with the same settings on purpose
    batch = batches.cutout_batch_start(assets=assets, profile_name=profile_name, recut=True)
    rows = list(batch.cutouts.order_by("pk"))
    for row in rows:
        assert runs.cutout_run(cutout_id=row.pk) == "done"
    return list(Cutout.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk"))


def rgba_png(width: int, height: int, *, opaque: bool = False, mode: str = "RGBA") -> bytes:
    """A retouched cutout: a centred box kept, the rest transparent."""
    arr = np.zeros((height, width, 4), np.uint8)
    arr[..., :3] = (180, 60, 40)
    arr[..., 3] = 255 if opaque else 0
    arr[height // 4: -height // 4, width // 4: -width // 4, 3] = 255
    image = Image.fromarray(arr, "RGBA")
    if mode != "RGBA":
        image = image.convert(mode)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
