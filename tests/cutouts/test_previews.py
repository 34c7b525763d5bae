"""The card's previews (cutouts/services/previews.py): the marketplace view follows the
export's preset; the run of a big photo prepares the shadow layer's."""

import pytest
from django.core.files.storage import storages
from PIL import Image

from cutouts.models import Cutout, Preset
from cutouts.services import batches, previews, runs
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


def test_it_prepares_the_shadow_layers_preview_with_the_run_of_a_big_photo(
    make_assets, fake_model, settings, monkeypatch
):
    settings.CUTROOM_PRERENDER_MIN_PIXELS = 640 * 480
    asset = make_assets(1, size=(640, 480))[0]
    batch = batches.cutout_batch_start(
        assets=[asset], profile_name="fast", overrides={"shadow": "keep"}
    )
    assert runs.cutout_run(cutout_id=batch.cutouts.get().pk) == "done"
    cutout = Cutout.objects.select_related("asset").get(asset=asset)
    assert cutout.shadow_name
    name = previews._preview_name(cutout, "shadow", 1024, "png")
    storage = storages["default"]
    assert storage.exists(name)
    with storage.open(name) as fh, Image.open(fh) as made:
        made.load()
    # what a first view renders from the stored layer, which it now does not have to
    monkeypatch.setattr(previews, "_render_preview", lambda *a: pytest.fail("rendered"))
    assert previews.cutout_image(cutout=cutout, kind="shadow", size=1024)[0] == name
    with storage.open(cutout.shadow_name) as fh, Image.open(fh) as layer:
        layer.load()
        expected = Image.new("RGBA", layer.size, (0, 0, 0, 0))
        expected.putalpha(layer.convert("L"))
    assert made.mode == "RGBA" and made.size == (640, 480)
    assert made.tobytes() == expected.tobytes()
