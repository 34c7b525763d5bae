"""The card's marketplace view follows the export's preset (cutouts/services/previews.py)."""

import pytest
from django.core.files.storage import storages
from PIL import Image

from cutouts.models import Cutout, Preset
from cutouts.services import previews
from tests.cutouts.reviewdata import done_cutouts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


def _corner(name: str) -> tuple:
    with storages["default"].open(name) as fh, Image.open(fh) as im:
        assert im.size == (600, 600)
        return im.convert("RGB").getpixel((2, 2))


def test_it_follows_the_admins_amazon_main_row_in_the_marketplace_view(make_assets, fake_model):
    cutout = Cutout.objects.select_related("asset").get(pk=done_cutouts(make_assets(1))[0].pk)
    row = Preset.objects.get(name="amazon_main")
    before, _ = previews.cutout_image(cutout=cutout, kind="market", size=1024)
    key = previews.market_key()
    assert _corner(before) == (255, 255, 255)  # the seeded spec: white

    row.spec = row.spec.replace("bg-ffffff", "bg-000000")
    row.save()
    assert previews.market_key() != key  # the card's image URL changes with the spec
    after, _ = previews.cutout_image(cutout=cutout, kind="market", size=1024)
    assert after != before  # a new file, not the cached one
    assert _corner(after) == (0, 0, 0)
    assert "bg-000000" in previews.market_spec().canonical()
    assert "square-600" in previews.market_spec().canonical()  # at the card's size


def test_it_shows_the_built_in_placement_while_the_row_is_disabled(make_assets, fake_model):
    cutout = Cutout.objects.select_related("asset").get(pk=done_cutouts(make_assets(1))[0].pk)
    Preset.objects.filter(name="amazon_main").update(
        enabled=False, spec="trim|fill-85|square-2000|bg-000000|format-jpeg"
    )
    name, _ = previews.cutout_image(cutout=cutout, kind="market", size=1024)
    assert _corner(name) == (255, 255, 255)
