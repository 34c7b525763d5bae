"""Approved cutouts with real RGBA files in storage, without running the model."""

import io
import re
import urllib.request
import uuid

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from PIL import Image, ImageDraw

from cutouts.imaging.signals import touching_sides
from cutouts.models import Cutout, ExportJob, JobStatus
from cutouts.selectors import export as export_selectors
from cutouts.services import export_jobs, review
from cutouts.tasks import export_job_run_task
from cutouts.variants.compliance import export_signals
from tests.factories import ImageAssetFactory, ProductFactory, reviewer

#: a photo big enough that no marketplace preset enlarges its product more than 2x, so its
#: variants carry no softness warning (the helpers' 800 x 600 default is enlarged over 4x)
MARKET_PHOTO = (2000, 1500)


def rgba_png(size=(800, 600), box=None, colour=(200, 30, 30)) -> bytes:
    """A product ellipse on a transparent background; the hidden RGB is loud green so any
    leak of un-premultiplied colour would show up in the export."""
    w, h = size
    box = box or (w // 4, h // 5, 3 * w // 4, 4 * h // 5)
    image = Image.new("RGBA", size, (0, 255, 0, 0))
    ImageDraw.Draw(image).ellipse(box, fill=(*colour, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def shadow_png(size=(800, 600)) -> bytes:
    w, h = size
    layer = Image.new("L", size, 0)
    ImageDraw.Draw(layer).rectangle((w // 5, 4 * h // 5 - 5, 4 * w // 5, h - 20), fill=140)
    out = io.BytesIO()
    layer.save(out, "PNG")
    return out.getvalue()


def done_cutout(*, asset=None, product=None, position="MAIN", version=1, size=(800, 600),
                model_name="u2netp", shadow=False, colour=(200, 30, 30)) -> Cutout:
    asset = asset or ImageAssetFactory(product=product or ProductFactory(), position=position)
    storage = storages["default"]
    folder = f"cutouts/test/{uuid.uuid4().hex}"
    rgba = storage.save(f"{folder}/cutout.png",
                        ContentFile(rgba_png(size, colour=colour)))
    shadow_name = storage.save(f"{folder}/shadow.png", ContentFile(shadow_png(size))) \
        if shadow else ""
    return Cutout.objects.create(
        asset=asset, version=version, status=JobStatus.DONE, rgba_name=rgba,
        shadow_name=shadow_name, width=size[0], height=size[1], model_name=model_name,
    )


def approved_cutout(**kwargs) -> Cutout:
    cutout = done_cutout(**kwargs)
    return review.cutout_approve(cutout=cutout, user=reviewer())


def served(response) -> bytes:
    """The bytes of a private image, streamed (local disk) or behind a presigned URL (S3)."""
    if response.status_code == 302:
        assert "X-Amz-Signature=" in response["Location"], response["Location"]
        with urllib.request.urlopen(response["Location"], timeout=10) as fetched:  # noqa: S310
            return fetched.read()
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def cut_off_png() -> bytes:
    """A product standing on the photo's bottom edge: the frame cuts its base."""
    rgba = np.zeros((480, 854, 4), np.uint8)
    rgba[100:, 300:700] = (200, 30, 30, 255)
    out = io.BytesIO()
    Image.fromarray(rgba).save(out, "PNG")
    return out.getvalue()


def with_rgba(cutout, data: bytes):
    cutout.rgba_name = storages["default"].save(f"cutouts/test/{uuid.uuid4().hex}.png",
                                                ContentFile(data))
    cutout.save(update_fields=["rgba_name"])
    return cutout


#: a small JPEG preset spec: quick to render, under most marketplaces' minimum size
SMALL = "trim|fill-85|square-400|bg-ffffff|format-jpeg|quality-85|srgb"


def run_job(job: ExportJob) -> ExportJob:
    """Runs an export in the test's process, as a worker would, and reads it back."""
    assert export_job_run_task(job.pk) == "done"
    job.refresh_from_db()
    return job


def run_presets(presets: list[str], **kwargs) -> ExportJob:
    return run_job(export_jobs.export_job_create(presets=presets, enqueue=False, **kwargs))


def run_dry(**kwargs) -> ExportJob:
    return run_job(export_jobs.export_job_create(dry_run=True, enqueue=False, **kwargs))


def measured(cutout: Cutout) -> Cutout:
    """``cutout`` with the signals a finished version stores of its file: the engine's
    ``touching_sides`` (of alpha >= 0.5) and ``compliance.export_signals``, so a dry run
    lays out the product the real run renders."""
    with storages["default"].open(cutout.rgba_name, "rb") as fh:
        alpha = np.array(Image.open(fh).convert("RGBA"))[..., 3]
    cutout.signals = {**(cutout.signals or {}), **export_signals(alpha),
                      "touching_sides": touching_sides(alpha >= 128)}
    cutout.save(update_fields=["signals"])
    return cutout


#: where a rendered file holds a faint mark ("x=1001, y=892 in this file, "): a dry run
#: renders no file, so only the real export's full line (2026-12-06) says it
IN_THIS_FILE = re.compile(r"x=\d+, y=\d+ in this file, ")


def presets_table(job: ExportJob) -> dict:
    """The export page's Presets table: per preset, how many files ship with warnings, and
    the refusals' and the warnings' lines (kind, count, images then each image's own
    sentence where they differ in figures: where they do not, each sentence is the line
    itself), in any order. A dry run's
    and the real export's compare equal where the dry run foresees every finding, word for
    word but for where in the rendered file a mark lies (``IN_THIS_FILE``)."""
    return {row.name: (row.warned, *({(IN_THIS_FILE.sub("", line.reason), line.count,
                                       tuple(line.examples) + tuple(
                                           IN_THIS_FILE.sub("", text)
                                           for _, text in line.sentences
                                           if text != line.reason))
                                      for line in lines}
                                     for lines in (row.reasons, row.warnings)))
            for row in export_selectors.export_job_presets(job=job)}
