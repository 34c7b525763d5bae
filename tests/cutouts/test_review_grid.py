"""The review pages' names for what they show (QA 2026-12-04): every queue, grid and retouch
queue thumbnail has an alt text naming the SKU, image and version; a grid tile's checkbox is
inside the tile's own label; the card's checkerboard switch has a name, not only "▦"."""

import re

import pytest
from django.urls import reverse

from cutouts.models import Cutout
from cutouts.services import review as review_services
from tests.cutouts.reviewdata import done_cutouts
from tests.factories import reviewer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


@pytest.fixture
def cutouts(make_assets, fake_model):
    return done_cutouts(make_assets(3))


def _thumb_alts(html: str, cls: str) -> list[str]:
    return re.findall(rf'<img class="{cls}[^"]*"[^>]*\balt="([^"]*)"', html)


def test_it_names_every_thumbnail_of_the_queue_the_grid_and_the_retouch_queue(client,
                                                                              cutouts):
    client.force_login(reviewer())
    Cutout.objects.filter(pk=cutouts[1].pk).update(version=3)
    sku = cutouts[1].asset.product.sku
    queue = client.get(reverse("cutouts:review_queue")).content.decode()
    alts = _thumb_alts(queue, "rv-thumb")
    assert len(alts) == len(cutouts) and "" not in alts
    assert f"Cutout of {sku} · main v3" in alts

    grid = client.get(reverse("cutouts:review_grid")).content.decode()
    alts = _thumb_alts(grid, "thumb")
    assert len(alts) == len(cutouts) and f"Cutout of {sku} · main v3" in alts
    # each tile's checkbox sits in the tile's own label, named after the version
    tile = next(t for t in grid.split('class="rv-tile"')[1:]
                if f'value="{cutouts[1].pk}"' in t)
    label = tile.split("<label", 1)[1].split("</label>", 1)[0]
    assert f'value="{cutouts[1].pk}"' in label and "<img" in label
    assert f'aria-label="Select {sku} · main v3"' in label

    review_services.cutout_flag(cutout=cutouts[1], user=reviewer(), reasons=["halo"])
    retouch = client.get(reverse("cutouts:retouch_queue")).content.decode()
    assert _thumb_alts(retouch, "rv-thumb") == [f"Cutout of {sku} · main v3"]


def test_it_names_the_checkerboard_switch(client, cutouts):
    client.force_login(reviewer())
    card = client.get(reverse("cutouts:review_card", args=[cutouts[0].pk])).content.decode()
    button = re.search(r'<button[^>]*data-rv-bg="checker"[^>]*>(.*?)</button>', card)
    assert button is not None
    assert 'aria-label="Checkerboard"' in button.group(0)
    assert 'data-tip="Checkerboard"' in button.group(0)  # the tooltip review.css shows
    assert button.group(1) == '<span aria-hidden="true">▦</span>'
