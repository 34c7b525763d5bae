"""The review pages' names for what they show (QA 2026-12-04): every queue, grid and retouch
queue thumbnail has an alt text naming the SKU, image and version; a grid tile's checkbox is
inside the tile's own label; the card's checkerboard switch has a name, not only "▦". A grid
tile sends the card's ``seen`` token, so a bulk approval refuses a tile whose image got a newer
version after the grid was drawn, naming it, and approves the others."""

import re

import pytest
from django.core.files.storage import storages
from django.urls import reverse

from catalog.services.assets import thumbnail_storage_name
from catalog.serving import presigns
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
    assert f"Cutout of {sku} · MAIN v3" in alts

    grid = client.get(reverse("cutouts:review_grid")).content.decode()
    alts = _thumb_alts(grid, "thumb")
    assert len(alts) == len(cutouts) and f"Cutout of {sku} · MAIN v3" in alts
    # each tile's checkbox sits in the tile's own label, named after the version
    tile = next(t for t in grid.split('class="rv-tile"')[1:]
                if f'value="{cutouts[1].pk}"' in t)
    label = tile.split("<label", 1)[1].split("</label>", 1)[0]
    assert f'value="{cutouts[1].pk}"' in label and "<img" in label
    assert f'aria-label="Select {sku} · MAIN v3"' in label

    review_services.cutout_flag(cutout=cutouts[1], user=reviewer(), reasons=["halo"])
    retouch = client.get(reverse("cutouts:retouch_queue")).content.decode()
    assert _thumb_alts(retouch, "rv-thumb") == [f"Cutout of {sku} · MAIN v3"]


def test_it_shows_each_grid_tile_its_original_from_the_ingest_thumbnail(client, cutouts):
    # QA 2026-12-06 (qa38a L14): a tiny or grey cutout alone cannot be judged on the grid
    client.force_login(reviewer())
    grid = client.get(reverse("cutouts:review_grid")).content.decode()
    for cutout in cutouts:
        tile = next(t for t in grid.split('class="rv-tile"')[1:] if f'value="{cutout.pk}"' in t)
        label = tile.split("<label", 1)[1].split("</label>", 1)[0]
        original = re.search(r'<img class="rv-tile-original"[^>]*>', label)
        assert original is not None, label
        src = reverse("cutouts:review_image", args=[cutout.pk, "original"]) + "?size=320"
        assert f'src="{src}"' in original.group(0)
        assert f'alt="Original of {cutout.asset.product.sku} · MAIN"' in original.group(0)
    # the picture is the asset's thumbnail made at ingest: the grid's view of it makes none
    asset = cutouts[0].asset
    name = thumbnail_storage_name(asset.sha256, 320)
    assert storages["default"].exists(name)
    made = storages["default"].get_modified_time(name)
    answer = client.get(reverse("cutouts:review_image", args=[cutouts[0].pk, "original"]),
                        {"size": "320"})
    if presigns(storages["default"]):  # S3 (CI): the view hands out the stored thumbnail
        assert answer.status_code == 302 and name in answer["Location"]
    else:
        assert answer.status_code == 200 and answer["Content-Type"] == "image/webp"
    assert storages["default"].get_modified_time(name) == made


def test_it_names_the_checkerboard_switch(client, cutouts):
    client.force_login(reviewer())
    card = client.get(reverse("cutouts:review_card", args=[cutouts[0].pk])).content.decode()
    button = re.search(r'<button[^>]*data-rv-bg="checker"[^>]*>(.*?)</button>', card)
    assert button is not None
    assert 'aria-label="Checkerboard"' in button.group(0)
    assert 'data-tip="Checkerboard"' in button.group(0)  # the tooltip review.css shows
    assert button.group(1) == '<span aria-hidden="true">▦</span>'


def _grid_form(html: str) -> dict[str, str]:
    """The hidden fields the grid's form sends, as a browser would: every tile's."""
    return dict(re.findall(r'<input type="hidden" name="(seen-\d+)" value="([^"]*)"', html))


def test_it_refuses_a_grid_tile_whose_image_got_a_newer_version_after_the_grid_was_drawn(
        client, cutouts):
    client.force_login(reviewer())
    a, b = cutouts[:2]
    form = _grid_form(client.get(reverse("cutouts:review_grid")).content.decode())
    assert form[f"seen-{a.pk}"] == "pending:0:1" and len(form) == len(cutouts)
    # cut again from the product list while the grid is open: no decision is recorded
    (v2,) = done_cutouts([a.asset])
    assert v2.version == 2 and v2.review_status == "pending"

    page = client.post(reverse("cutouts:review_grid"), {"cutout": [a.pk, b.pk], **form},
                       follow=True).content.decode()
    assert "Approved 1 cutout." in page
    sku = a.asset.product.sku
    assert (f"{sku} · MAIN: v2 (awaiting review) was made after you opened v1, so your "
            "approval was not applied: it would have superseded v2. Look at v2 first, or "
            "use v1 instead from its card.") in page.replace("&#x27;", "'")
    assert "no longer awaiting review" not in page
    a.refresh_from_db(), b.refresh_from_db(), v2.refresh_from_db()
    assert b.review_status == "approved" and b.is_current
    assert a.review_status == v2.review_status == "pending" and not a.is_current
    # the grid drawn again shows v2 in v1's place, and approving it goes through
    form = _grid_form(client.get(reverse("cutouts:review_grid")).content.decode())
    assert form[f"seen-{v2.pk}"] == "pending:0:2" and f"seen-{a.pk}" not in form
    client.post(reverse("cutouts:review_grid"), {"cutout": [v2.pk], **form})
    v2.refresh_from_db()
    assert v2.review_status == "approved"


def test_it_refuses_a_grid_tile_another_reviewer_decided_on_after_the_grid_was_drawn(
        client, cutouts):
    client.force_login(reviewer())
    a, b = cutouts[:2]
    form = _grid_form(client.get(reverse("cutouts:review_grid")).content.decode())
    # another reviewer flags a and takes it back: a awaits review again, but not as drawn
    other = reviewer(username="other")
    flagged = review_services.cutout_flag(cutout=a, user=other, reasons=["halo"])
    flag = flagged.decisions.latest("pk")
    review_services.cutout_decision_undo(cutout=flagged, decision_id=flag.pk, user=other)
    a.refresh_from_db()
    assert a.review_status == "pending"

    page = client.post(reverse("cutouts:review_grid"), {"cutout": [a.pk, b.pk], **form},
                       follow=True).content.decode()
    assert "Approved 1 cutout." in page
    assert "other undid a decision on v1 at " in page  # who decided since, on its tile
    a.refresh_from_db(), b.refresh_from_db()
    assert a.review_status == "pending" and b.review_status == "approved"
    # drawn again, the tile carries the new revision and approving it goes through
    form = _grid_form(client.get(reverse("cutouts:review_grid")).content.decode())
    assert form[f"seen-{a.pk}"] != "pending:0:1"
    client.post(reverse("cutouts:review_grid"), {"cutout": [a.pk], **form})
    a.refresh_from_db()
    assert a.review_status == "approved"


def test_it_refuses_a_grid_approval_whose_tile_state_cannot_be_read(client, cutouts):
    client.force_login(reviewer())
    a = cutouts[0]
    page = client.post(reverse("cutouts:review_grid"),
                       {"cutout": [a.pk], f"seen-{a.pk}": "pending:x"}, follow=True)
    assert "This grid&#x27;s state could not be read: reload it." in page.content.decode()
    a.refresh_from_db()
    assert a.review_status == "pending"
