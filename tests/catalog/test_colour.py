"""Working copies are sRGB: embedded profiles are honoured, untagged CMYK is flagged.

Profiles are built in memory (tests/catalog/imagegen.py): Adobe RGB (1998) from its
published primaries and gamma, and a synthetic CMYK press profile (lut16, Lab PCS). No ICC
file from the system or a package is needed.
"""

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from catalog import selectors
from catalog.ingest import images
from catalog.services.assets import asset_ingest
from tests.catalog.imagegen import (
    adobe_rgb_1998_icc,
    cmyk_press_icc,
    delta_e_2000,
    gradient_array,
    srgb_to_lab,
)
from tests.factories import ProductFactory

SRGB = ImageCms.createProfile("sRGB")

# Sharma, Wu & Dalal (2005) test pairs: the helper must reproduce them to 4 decimals.
SHARMA = [
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082),
]


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA)
def test_it_computes_ciede2000_like_the_published_test_data(lab1, lab2, expected):
    assert float(delta_e_2000(np.array(lab1), np.array(lab2))) == pytest.approx(expected,
                                                                                  abs=1e-4)


def _saturated_rgb(size=(900, 600)) -> Image.Image:
    return Image.fromarray(gradient_array(*size, seed=3), "RGB")


def _cmyk_image(size=(900, 600)) -> Image.Image:
    rgb = gradient_array(*size, seed=5).astype(np.float32) / 255
    k = 1 - rgb.max(axis=-1)
    cmy = (1 - rgb - k[..., None]) / np.maximum(1 - k[..., None], 1e-6)
    cmyk = np.concatenate([cmy, k[..., None] * 0.8], axis=-1)
    return Image.fromarray((cmyk * 255).astype(np.uint8), "CMYK")


def _jpeg(img: Image.Image, icc: bytes | None) -> bytes:
    out = io.BytesIO()
    kwargs = {"icc_profile": icc} if icc else {}
    img.save(out, "JPEG", quality=95, **kwargs)
    return out.getvalue()


def _ingest_working(data: bytes, name: str):
    result = asset_ingest(product=ProductFactory(), fileobj=io.BytesIO(data),
                          filename=name)
    assert result.status == "stored", result.reason
    with selectors.asset_working_open(asset=result.asset) as handle:
        working = np.asarray(Image.open(handle).convert("RGB"))
    return result.asset, working


def _reference(data: bytes) -> np.ndarray:
    """LittleCMS conversion of the same decoded pixels with the embedded profile."""
    src = Image.open(io.BytesIO(data))
    profile = ImageCms.ImageCmsProfile(io.BytesIO(src.info["icc_profile"]))
    intent = (ImageCms.Intent.PERCEPTUAL
              if ImageCms.isIntentSupported(profile, ImageCms.Intent.PERCEPTUAL,
                                            ImageCms.Direction.INPUT) == 1
              else ImageCms.Intent.RELATIVE_COLORIMETRIC)
    return np.asarray(ImageCms.profileToProfile(src, profile, SRGB, renderingIntent=intent,
                                                outputMode="RGB"))


def _max_delta_e(a: np.ndarray, b: np.ndarray) -> float:
    return float(delta_e_2000(srgb_to_lab(a), srgb_to_lab(b)).max())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make", "icc", "profile_name"),
    [
        (_saturated_rgb, adobe_rgb_1998_icc, "Adobe RGB (1998) test build"),
        (_cmyk_image, cmyk_press_icc, "Cutroom test press CMYK"),
    ],
    ids=["adobe-rgb", "cmyk"],
)
def test_it_converts_embedded_profiles_to_srgb_like_littlecms(storage, make, icc, profile_name):
    data = _jpeg(make(), icc())
    asset, working = _ingest_working(data, "tagged.jpg")
    reference = _reference(data)
    assert _max_delta_e(working, reference) < 2
    # The check has teeth: ignoring the profile (reading the numbers as sRGB) is far off.
    ignored = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert _max_delta_e(ignored, reference) > 5
    assert asset.icc_profile_name == profile_name
    assert asset.colour_flagged is False and asset.colour_note == ""


@pytest.mark.django_db
def test_it_converts_untagged_cmyk_with_the_stated_default_and_flags_it(storage):
    data = _jpeg(_cmyk_image(), None)
    asset, working = _ingest_working(data, "untagged.jpg")
    naive = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert _max_delta_e(working, naive) < 2
    assert asset.colour_mode == "CMYK" and asset.icc_profile_name == ""
    assert asset.colour_flagged is True
    assert asset.colour_note == images.UNTAGGED_CMYK_NOTE


@pytest.mark.django_db
def test_it_ignores_and_flags_a_profile_that_does_not_match_the_pixels(storage):
    data = _jpeg(_saturated_rgb(), cmyk_press_icc())
    asset, working = _ingest_working(data, "mismatch.jpg")
    assert asset.colour_flagged is True
    assert "does not match the RGB pixels" in asset.colour_note
    assert _max_delta_e(working, np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))) < 2


@pytest.mark.django_db
def test_it_keeps_an_untagged_srgb_photo_pixel_for_pixel_in_the_working_copy(storage):
    # The working copy's encoding is lossless: an sRGB photo comes back exactly as decoded.
    data = _jpeg(_saturated_rgb(), None)
    asset, working = _ingest_working(data, "srgb.jpg")
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert asset.working_name.endswith(".png")
    assert np.array_equal(working, decoded)
    assert _max_delta_e(working, decoded) == 0
