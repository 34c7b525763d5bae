"""Review queue one row per image, version badges from one definition, the dashboard counting
what the queue counts, titles by SKU and position, and the loupe's bounded tiles."""

import io

import pytest
from django.core.files.storage import storages
from django.urls import reverse
from PIL import Image

from cutouts.models import Cutout, JobStatus, ReviewStatus
from cutouts.selectors import review as selectors
from cutouts.services import review as review_services
from cutouts.services import tiles
from tests.cutouts.reviewdata import done_cutouts
from tests.factories import ImageAssetFactory, ProductFactory, reviewer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
HX = {"HTTP_HX_REQUEST": "true"}


def _version(asset, version, *, status=JobStatus.DONE, review_status=ReviewStatus.PENDING,
             risk=0.5, is_current=False):
    return Cutout.objects.create(asset=asset, version=version, status=status,
                                 review_status=review_status, risk=risk, is_current=is_current,
                                 rgba_name=f"cutouts/x/{asset.pk}-{version}.png")


def _states(asset):
    versions = list(Cutout.objects.filter(asset=asset).order_by("-version"))
    return {v.version: state for v, state in selectors.version_states(versions)}


def test_it_lists_each_image_once_with_its_newest_waiting_version():
    recut = ImageAssetFactory(product=ProductFactory(sku="SHOE-77"))
    v1 = _version(recut, 1, risk=0.9)
    v2 = _version(recut, 2, risk=0.1)
    _version(recut, 3, status=JobStatus.RUNNING)
    single = _version(ImageAssetFactory(), 1, risk=0.5)
    assert list(selectors.review_queue()) == [single, v2]
    assert selectors.review_queue_count() == 2
    page = selectors.review_queue_page(per_page=10)
    assert page.rows == [single, v2] and page.total == 2
    # Neighbours walk the same one-row-per-image order.
    assert selectors.review_neighbours(cutout=single).next_id == v2.pk
    review_services.cutout_approve(cutout=v2, user=reviewer())
    assert list(selectors.review_queue()) == [single]
    assert Cutout.objects.get(pk=v1.pk).review_status == ReviewStatus.SUPERSEDED


def test_it_labels_a_fresh_version_current_and_awaiting_review_without_choose():
    asset = ImageAssetFactory()
    _version(asset, 1)
    state = _states(asset)[1]
    assert (state.key, state.label, state.current, state.can_choose) == (
        "awaiting_review", "awaiting review", True, False)


def test_it_labels_versions_after_choosing_an_older_one():
    asset = ImageAssetFactory()
    v1 = _version(asset, 1)
    _version(asset, 2)
    before = _states(asset)
    assert before[2].current and not before[1].current and before[1].can_choose
    review_services.cutout_choose(cutout=v1, user=reviewer())
    after = _states(asset)
    assert (after[1].key, after[1].current, after[1].can_choose) == ("approved", True, False)
    assert (after[2].key, after[2].current, after[2].can_choose) == ("superseded", False, True)
    assert list(selectors.review_queue()) == []


def test_it_marks_only_the_approved_or_chosen_version_current_and_else_the_newest():
    asset = ImageAssetFactory()
    v1 = _version(asset, 1)
    _version(asset, 2)
    _version(asset, 3, status=JobStatus.RUNNING)
    states = _states(asset)
    # Nothing approved yet: the newest finished version is what the image shows, not current.
    assert [states[v].mark for v in (1, 2, 3)] == ["", "newest", ""]
    assert not any(state.chosen for state in states.values())
    review_services.cutout_choose(cutout=v1, user=reviewer())
    states = _states(asset)
    # "current" is what the API's is_current says: the chosen (approved) version.
    assert [states[v].mark for v in (1, 2, 3)] == ["current", "", ""]
    assert Cutout.objects.get(pk=v1.pk).is_current and states[1].chosen


def test_it_badges_the_newest_and_the_current_version_apart_on_the_card(client):
    asset = ImageAssetFactory(product=ProductFactory(sku="SHOE-78"))
    v1 = _version(asset, 1)
    v2 = _version(asset, 2)
    client.force_login(reviewer())
    card = client.get(reverse("cutouts:review_card", args=[v2.pk]), **HX).content.decode()
    assert 'data-version="2" data-state="awaiting_review" data-mark="newest">' in card
    assert 'data-status="newest">newest</span>' in card and 'data-status="current"' not in card
    review_services.cutout_choose(cutout=v1, user=reviewer())
    card = client.get(reverse("cutouts:review_card", args=[v1.pk]), **HX).content.decode()
    assert 'data-version="1" data-state="approved" data-mark="current">' in card
    assert 'data-status="current">current</span>' in card and 'data-status="newest"' not in card
    history = client.get(reverse("cutouts:review_history", args=[asset.pk])).content.decode()
    assert 'data-status="current">current</span>' in history


def test_it_never_labels_the_current_version_superseded_and_running_ones_not_choosable():
    asset = ImageAssetFactory()
    _version(asset, 1, review_status=ReviewStatus.SUPERSEDED, is_current=True)
    _version(asset, 2, review_status=ReviewStatus.FLAGGED)
    _version(asset, 3, status=JobStatus.RUNNING)
    states = _states(asset)
    assert (states[1].key, states[1].current) == ("approved", True)
    assert (states[2].key, states[2].label, states[2].can_choose) == (
        "needs_retouch", "needs retouch", True)
    assert (states[3].key, states[3].can_choose, states[3].chip) == (
        "running", False, "version-running")


def test_it_says_a_retouch_that_changed_nothing_was_not_kept_not_failed_or_cancelled(client):
    """QA 2026-12-05 L1: the version a no-op Apply made ends cancelled by its run; its card
    and badge say it changed nothing, and one cancelled by hand still reads cancelled."""
    from cutouts.services.retouch import NOTHING_CHANGED

    asset = ImageAssetFactory()
    v1 = _version(asset, 1)
    v2 = Cutout.objects.create(asset=asset, version=2, parent=v1, status=JobStatus.CANCELLED,
                               source=Cutout.Source.RETOUCH, is_unchanged=True,
                               error=NOTHING_CHANGED.format(v=1))
    v3 = Cutout.objects.create(asset=asset, version=3, status=JobStatus.CANCELLED,
                               error="Cancelled")
    states = _states(asset)
    assert (states[2].key, states[2].label, states[2].can_choose) == (
        "unchanged", "unchanged, not kept", False)
    assert states[3].key == "cancelled"
    client.force_login(reviewer())
    card = client.get(reverse("cutouts:review_card", args=[v2.pk]), **HX).content.decode()
    assert ("Version 2 was not kept: Nothing changed: the result of these strokes is v1 pixel "
            "for pixel") in card
    assert "Version 2 cancelled" not in card and 'data-state="unchanged"' in card
    card = client.get(reverse("cutouts:review_card", args=[v3.pk]), **HX).content.decode()
    assert "Version 3 cancelled: Cancelled." in card


def test_it_offers_retouching_the_parent_again_and_says_unchanged_in_history(client):
    """QA33 L5: an unchanged retouch's card said "paint … and apply again" but offered only
    Re-run, and History listed its strokes as if they made a kept version."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from cutouts.models import ReviewDecision
    from cutouts.services.retouch import NOTHING_CHANGED

    asset = ImageAssetFactory()
    _version(asset, 1)
    v2 = _version(asset, 2)
    v3 = Cutout.objects.create(asset=asset, version=3, parent=v2, status=JobStatus.CANCELLED,
                               source=Cutout.Source.RETOUCH, is_unchanged=True,
                               error=NOTHING_CHANGED.format(v=2))
    kept = Cutout.objects.create(asset=asset, version=4, parent=v2, status=JobStatus.DONE,
                                 source=Cutout.Source.RETOUCH,
                                 rgba_name=f"cutouts/x/{asset.pk}-4.png")
    for version in (v3, kept):
        ReviewDecision.objects.create(cutout=version, asset=asset, user=reviewer(),
                                      action=ReviewDecision.Action.STROKES,
                                      comment=f"v{version.version} from v2: 1 keep stroke.")
    again = (f'<a href="{reverse("cutouts:retouch_card", args=[v2.pk])}" id="rv-parent-again" '
             'data-rv-parent-again>Retouch v2 again</a>, choose another version below or re-run.')
    client.force_login(reviewer())
    card = client.get(reverse("cutouts:review_card", args=[v3.pk]), **HX).content.decode()
    assert again in card
    unchanged = '<span class="badge warn" data-outcome="unchanged">ended unchanged, not kept</span>'
    # the card's own history and the History page: the no-op's row, not the kept one's
    assert card.count(unchanged) == 1
    assert f"<b>Refined with strokes</b> v3 · {unchanged}" in card
    history = client.get(reverse("cutouts:review_history", args=[asset.pk])).content.decode()
    assert history.count(unchanged) == 1 and f"v3 · {unchanged}" in history
    # as on the retouch page, only who may apply a retouch is offered it
    viewer = get_user_model().objects.create_user("viewer", password="x")
    viewer.user_permissions.add(Permission.objects.get(codename="view_catalog"))
    client.force_login(viewer)
    card = client.get(reverse("cutouts:review_card", args=[v3.pk]), **HX).content.decode()
    assert "data-rv-parent-again" not in card and "Choose another version below" in card


def test_it_shows_the_queue_count_as_to_review_on_the_dashboard(client):
    recut = ImageAssetFactory()
    _version(recut, 1)
    _version(recut, 2)
    _version(ImageAssetFactory(), 1)
    _version(ImageAssetFactory(), 1, review_status=ReviewStatus.APPROVED, is_current=True)
    client.force_login(reviewer())
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert 'id="dashboard-in-review" data-status="in_review">To review <b>2</b>' in dashboard
    queue = client.get(reverse("cutouts:review_queue"), **HX).content.decode()
    assert '<span id="rv-queue-count">2</span> awaiting review' in queue
    assert queue.count('<tr data-cutout=') == 2
    summary = client.get(reverse("catalog:dashboard_summary")).content.decode()
    # every status in the product list's words: none of these is "in review" (nobody acted)
    assert 'data-status="in_review">In review <b>0</b>' in summary
    assert 'data-status="cut_out">Cut out <b>0</b>' in summary


@pytest.fixture
def cutout(make_assets, fake_model):
    return done_cutouts(make_assets(1, sku="SHOE-77", size=(640, 480)))[0]


def test_it_titles_the_card_and_history_by_sku_and_position(client, cutout):
    client.force_login(reviewer())
    history = client.get(reverse("cutouts:review_history", args=[cutout.asset_id]))
    assert "Review history of SHOE-77 · MAIN" in history.content.decode()
    assert "Review history of image" not in history.content.decode()
    card = client.get(reverse("cutouts:review_card", args=[cutout.pk])).content.decode()
    assert "SHOE-77 · MAIN" in card
    # A fresh v1: the newest (not yet current: nothing approved) and awaiting review,
    # approvable, nothing to choose.
    assert 'data-status="newest">newest</span>' in card
    assert 'data-status="current"' not in card
    assert 'id="rv-review-status" data-status="awaiting_review"' in card
    assert 'id="rv-approve"' in card and ">Choose<" not in card
    # Slider handle on the image, full-screen button, loupe reading tiles.
    assert 'role="slider" tabindex="0" data-rv-split' in card
    assert "data-rv-fullscreen" in card
    assert reverse("cutouts:review_tile", args=[cutout.pk, "cutout"]) in card
    assert "size=0" not in card


def _tile(client, cutout, kind, **box):
    return client.get(reverse("cutouts:review_tile", args=[cutout.pk, kind]), box)


def test_it_cuts_bounded_tiles_of_the_full_size_files(client, cutout):
    client.force_login(reviewer())
    response = _tile(client, cutout, "cutout", x=100, y=50, w=64, h=32)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Tile-Box"] == "100,50,64,32"
    tile = Image.open(io.BytesIO(response.content))
    with storages["default"].open(cutout.rgba_name, "rb") as fh:
        full = Image.open(fh).convert("RGBA")
        full.load()
    assert tile.size == (64, 32)
    assert tile.convert("RGBA").tobytes() == full.crop((100, 50, 164, 82)).tobytes()
    # Clamped to 512 px a side and into the image (640 x 480).
    big = _tile(client, cutout, "original", x=600, y=400, w=5000, h=5000)
    assert big["X-Tile-Box"] == "128,0,512,480"
    assert Image.open(io.BytesIO(big.content)).size == (512, 480)
    odd = _tile(client, cutout, "cutout", x="-5", y="abc", w="0")
    assert odd.status_code == 200 and odd["X-Tile-Box"] == "0,0,1,480"
    assert _tile(client, cutout, "mask").status_code == 404
    assert client.get(reverse("cutouts:review_tile", args=[cutout.pk + 999, "cutout"])
                      ).status_code == 404


def test_it_guards_tiles_like_the_other_review_images(client, cutout):
    url = reverse("cutouts:review_tile", args=[cutout.pk, "cutout"])
    assert client.get(url).status_code == 302  # to the login page
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("norole", password="x" * 12))
    assert client.get(url).status_code == 403


def test_it_clamps_tile_boxes_into_the_image():
    assert tiles.tile_box(x=0, y=0, w=9999, h=10, size=(300, 200)) == (0, 0, 300, 10)
    assert tiles.tile_box(x=290, y=195, w=64, h=64, size=(300, 200)) == (236, 136, 64, 64)
    assert tiles.tile_box(x=10, y=10, w=0, h=0, size=(300, 200)) == (10, 10, 1, 1)


@pytest.fixture
def tile_storage(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media"), "base_url": None}}}
    for cache in (tiles._cache, tiles._indexes, tiles._bands):
        cache.clear()
    yield storages["default"]
    for cache in (tiles._cache, tiles._indexes, tiles._bands):
        cache.clear()


def _stored_png(storage, name, mode, row_filter, size=(700, 900)):
    """A photo-like gradient with noise (and a disc of alpha): rows whose best filter varies,
    so the adaptive writer uses sub, up, average and Paeth rows."""
    import numpy as np

    from catalog.ingest import png

    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    channels = len(mode)
    rng = np.random.default_rng(7)
    arr = np.repeat(((xx * 3 + yy * 5) % 256).astype(np.uint8)[..., None], channels, axis=2)
    arr += rng.integers(0, 40, arr.shape, dtype=np.uint8) * (rng.random((h, w, 1)) < 0.5)
    if mode == "RGBA":
        arr[..., 3] = np.where((xx - w / 2) ** 2 + (yy - h / 2) ** 2 < (h / 3) ** 2, 255, 0)
    image = Image.fromarray(arr[..., 0] if mode == "L" else arr, mode)
    out = io.BytesIO()
    if row_filter == "pillow":
        image.convert("P").save(out, "PNG")  # palette: not a file the band reader reads
    else:
        png.png_write(image, out, row_filter=row_filter)
    return storage.save(name, io.BytesIO(out.getvalue()))


def _whole_decode_tile(storage, name, box) -> bytes:
    """What the tile view answered before the band reader: the whole file decoded, cropped."""
    from catalog.ingest import png

    x, y, w, h = box
    with storage.open(name, "rb") as fh, Image.open(fh) as image:
        tile = image.crop((x, y, x + w, y + h))
        if tile.mode not in ("L", "RGB", "RGBA"):
            tile = tile.convert("RGBA")
        out = io.BytesIO()
        png.png_write(tile, out, level=png.WORKING_PNG_COMPRESS_LEVEL,
                      row_filter=png.WORKING_PNG_FILTER)
        return out.getvalue()


def test_it_cuts_a_tile_reading_bands_down_to_its_last_row_only(tile_storage, monkeypatch):
    monkeypatch.setattr(tiles, "BAND_BYTES", 700 * 4 * 50)  # 50-row bands of the RGBA file
    heights = []
    frombytes = Image.frombytes

    def counted(mode, size, *args, **kwargs):
        heights.append(size[1])
        return frombytes(mode, size, *args, **kwargs)

    monkeypatch.setattr(tiles.Image, "frombytes", counted)
    files = [_stored_png(tile_storage, "cut.png", "RGBA", "adaptive"),
             _stored_png(tile_storage, "photo.png", "RGB", "up"),
             _stored_png(tile_storage, "grey.png", "L", "adaptive")]
    boxes = [(0, 0, 64, 30), (188, 388, 512, 512), (100, 333, 64, 32), (0, 449, 700, 52),
             (300, 0, 512, 512), (188, 388, 512, 512)]
    for name in files:
        for x, y, w, h in boxes:
            heights.clear()
            tile = tiles.file_tile(name=name, x=x, y=y, w=w, h=h)
            assert tile.png == _whole_decode_tile(tile_storage, name, tile.box), (name, tile.box)
            assert max(heights, default=0) <= tiles._indexes.get(name, dict).band_rows + 1
            if (name, (x, y, w, h)) == (files[0], (0, 0, 64, 30)):
                assert heights == [50]  # the first band only: nothing below the tile is read
    assert len(tiles._cache) == 0  # no file was decoded whole
    # a tile read again starts at the mark above it, not at the top
    tiles._bands.clear()
    heights.clear()
    tiles.file_tile(name=files[0], x=0, y=850, w=64, h=50)
    assert heights == [51]  # the last band, behind the row above it
    # any other PNG (here a palette one) is still decoded whole, as before
    other = _stored_png(tile_storage, "palette.png", "RGB", "pillow")
    tile = tiles.file_tile(name=other, x=10, y=20, w=100, h=100)
    assert tile.png == _whole_decode_tile(tile_storage, other, (10, 20, 100, 100))
    assert other in tiles._cache


def test_it_decodes_each_band_once_for_concurrent_tiles_of_one_file(tile_storage, monkeypatch):
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(tiles, "BAND_BYTES", 700 * 4 * 50)  # 18 bands of 50 rows
    name = _stored_png(tile_storage, "cut.png", "RGBA", "adaptive")
    decoded = []
    band = tiles._Reader.band

    def counted(self, n):
        decoded.append(self.row)
        time.sleep(0.002)  # long enough for the other threads to ask for the same bands
        return band(self, n)

    monkeypatch.setattr(tiles._Reader, "band", counted)
    start = threading.Barrier(8)

    def cut(_):
        start.wait()
        return tiles.file_tile(name=name, x=188, y=388, w=512, h=512).png

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(cut, range(8)))
    # bands 0-17 read once (0-6 on the way down, 7-17 kept), by one request; the rest waited
    assert sorted(decoded) == list(range(0, 900, 50))
    assert set(answers) == {_whole_decode_tile(tile_storage, name, (188, 388, 512, 512))}
    assert tiles._file_locks == {}  # a file's lock goes with its last request


def test_it_reads_tile_bands_from_s3_with_ranged_gets_not_whole_downloads(
        s3_default_storage, monkeypatch):
    from storages.backends.s3 import S3File

    storage = s3_default_storage("cutroom-tiles")
    for cache in (tiles._cache, tiles._indexes, tiles._bands):
        cache.clear()
    monkeypatch.setattr(tiles, "BAND_BYTES", 700 * 4 * 50)
    name = _stored_png(storage, "cutouts/cut.png", "RGBA", "adaptive")
    boxes = [(0, 0, 64, 30), (188, 388, 512, 512), (100, 850, 512, 50)]
    expected = [_whole_decode_tile(storage, name, box) for box in boxes]

    def downloaded(self):
        raise AssertionError("the whole object was downloaded")

    monkeypatch.setattr(S3File, "_get_file", downloaded)
    for box, want in zip(boxes, expected, strict=True):
        assert tiles.file_tile(name=name, x=box[0], y=box[1], w=box[2], h=box[3]).png == want
    for cache in (tiles._cache, tiles._indexes, tiles._bands):
        cache.clear()
