"""Renditions (cutouts/services/renditions.py): Amazon's whole-product rule on the main image only,
a cached verdict re-checked when the image leaves the main position, and ``keepmeta`` carrying
the original photo's EXIF (never its location) as part of the cache key."""

import hashlib
import io
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from PIL import Image

from cutouts import variants
from cutouts.models import Rendition
from cutouts.services import renditions
from tests.factories import ImageAssetFactory, ProductFactory

from .export_helpers import approved_cutout, cut_off_png, with_rgba

pytestmark = pytest.mark.django_db


MAKE, MODEL, DATE, GPS_IFD, EXIF_IFD = 0x010F, 0x0110, 0x9003, 0x8825, 0x8769


@pytest.mark.parametrize(("position", "ok"), [("MAIN", False), ("PT01", True), ("SWCH", True)])
def test_it_holds_only_the_main_image_to_amazons_whole_product_rule(position, ok):
    # a doll's face as PT01 (a close-up, cut by the photo's edge) was excluded from
    # Amazon "(the marketplace requires the whole product in the frame)"
    cutout = with_rgba(approved_cutout(product=ProductFactory(sku="DOLL-1"), position=position),
                       cut_off_png())
    made = renditions.rendition_get_or_create(cutout=cutout, preset="amazon_main")
    assert made.compliance["measurements"]["frame_cut"] == ["bottom"]
    assert made.compliance_ok is ok
    assert any("requires the whole product" in e for e in made.compliance["errors"]) is not ok


def test_it_rechecks_a_cached_rendition_when_the_image_leaves_the_main_position(monkeypatch):
    cutout = with_rgba(approved_cutout(product=ProductFactory(sku="DOLL-2")), cut_off_png())
    made = renditions.rendition_get_or_create(cutout=cutout, preset="amazon_main")
    assert not made.compliance_ok

    def no_render(*args, **kwargs):
        raise AssertionError("only the check depends on the position: nothing to render")

    monkeypatch.setattr(variants, "render_variant", no_render)
    cutout.asset.position = "PT03"
    cutout.asset.save(update_fields=["position"])
    moved = renditions.rendition_get_or_create(cutout=cutout, preset="amazon_main")
    assert moved.compliance_ok and moved.cache_key == made.cache_key
    assert moved.compliance["measurements"]["position"] == "PT03"
    # the rendition's other facts survive the re-check: the next use renders nothing
    assert moved.compliance["renderer"] == variants.RENDERER_VERSION
    assert Rendition.objects.get(cutout=cutout).compliance_ok


def original_jpeg(make: str, gps: bool = True) -> bytes:
    exif = Image.Exif()
    exif[MAKE] = make
    exif[MODEL] = "Model 7"
    exif[EXIF_IFD] = {DATE: "2026:11:30 10:00:00"}
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (52.0, 22.0, 1.0)}
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 90, 90)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def with_original(make: str, **kwargs):
    data = original_jpeg(make)
    name = storages["default"].save(f"originals/test/{uuid.uuid4().hex}.jpg", ContentFile(data))
    asset = ImageAssetFactory(product=ProductFactory(), original_name=name,
                              sha256=hashlib.sha256(data).hexdigest())
    return approved_cutout(asset=asset, **kwargs)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_it_carries_the_originals_exif_with_keepmeta_but_never_its_location(fmt):
    # keepmeta did nothing: the renderer was never given the original's metadata
    cutout = with_original("CameraMaker")
    spec = f"trim|fill-85|square-400|bg-ffffff|format-{fmt}|keepmeta"
    made = renditions.rendition_get_or_create(cutout=cutout, spec=spec)
    with storages["default"].open(made.file_name, "rb") as fh:
        exif = Image.open(io.BytesIO(fh.read())).getexif()
    assert (exif.get(MAKE), exif.get(MODEL)) == ("CameraMaker", "Model 7")
    assert exif.get_ifd(EXIF_IFD).get(DATE) == "2026:11:30 10:00:00"
    assert GPS_IFD not in exif  # a location is private, and compliance fails it
    assert made.compliance_ok, made.compliance["summary"]
    # without keepmeta nothing is carried
    plain = renditions.rendition_get_or_create(cutout=cutout, spec=spec.replace("|keepmeta", ""))
    with storages["default"].open(plain.file_name, "rb") as fh:
        assert len(Image.open(io.BytesIO(fh.read())).getexif()) == 0


def test_it_keys_a_keepmeta_rendition_by_the_original_as_well():
    # two uploads of one photo with other metadata make the same cutout bytes: one file under
    # one key would carry the first one's camera into the second one's export
    first, second = with_original("FirstCam"), with_original("SecondCam")
    second.rgba_name = first.rgba_name
    second.save(update_fields=["rgba_name"])
    spec = "trim|fill-85|square-400|bg-ffffff|format-jpeg|keepmeta"
    one = renditions.rendition_get_or_create(cutout=first, spec=spec)
    two = renditions.rendition_get_or_create(cutout=second, spec=spec)
    assert one.cache_key != two.cache_key
    with storages["default"].open(two.file_name, "rb") as fh:
        assert Image.open(io.BytesIO(fh.read())).getexif().get(MAKE) == "SecondCam"
    # without keepmeta the metadata is no input: one key
    plain = spec.replace("|keepmeta", "")
    assert (renditions.rendition_get_or_create(cutout=first, spec=plain).cache_key
            == renditions.rendition_get_or_create(cutout=second, spec=plain).cache_key)


def test_it_renders_again_a_keepmeta_rendition_cached_before_it_read_the_original():
    cutout = with_original("CameraMaker")
    spec = "trim|fill-85|square-400|bg-ffffff|format-jpeg|keepmeta"
    made = renditions.rendition_get_or_create(cutout=cutout, spec=spec)
    plain = renditions.rendition_get_or_create(cutout=cutout, spec=spec.replace("|keepmeta", ""))
    # as the old code stored it: a file without metadata, and no mark that it read any
    compliance = {k: v for k, v in made.compliance.items() if k != "meta"}
    Rendition.objects.filter(pk=made.pk).update(compliance=compliance,
                                                file_name=plain.file_name)
    again = renditions.rendition_get_or_create(cutout=cutout, spec=spec)
    with storages["default"].open(again.file_name, "rb") as fh:
        assert Image.open(io.BytesIO(fh.read())).getexif().get(MAKE) == "CameraMaker"
