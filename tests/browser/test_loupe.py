"""The loupe in Debian's Chromium: a mouse sweep keeps one tile request in flight and ends on
the tile of where the mouse stopped (static/js/review.js; the server side: test_review_versions)."""

import pytest
from playwright.sync_api import expect

from cutouts.services import tiles
from tests.factories import reviewer
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TILE, SNAP = 512, 128  # review.js's tile side and step


@pytest.fixture
def big_cutout(make_cutouts, monkeypatch):
    """One finished cutout of a 2400 x 1600 photo: ~120 tile positions for the loupe."""
    (cutout,) = make_cutouts([("LOUPE-1", product_jpeg(2400, 1600, seed=3), "loupe.jpg")])
    monkeypatch.undo()
    return cutout


def _wanted(fx: float, fy: float, width: int, height: int) -> str:
    """review.js's wantedTile: the tile box, snapped, around a full-size point."""
    w, h = min(TILE, width), min(TILE, height)
    x = max(0, min(round((fx - w / 2) / SNAP) * SNAP, width - w))
    y = max(0, min(round((fy - h / 2) / SNAP) * SNAP, height - h))
    return f"{x},{y},{w},{h}"


def test_it_keeps_one_tile_request_in_flight_over_a_sweep_and_ends_on_the_last_position(
    live_server, page, screenshot, big_cutout, slow_server, log_in
):
    # A slow server, as a big file on S3 is: every tile takes 80 ms to cut.
    slow_server(tiles, "cutout_image_tile", 0.08)
    log_in(page, reviewer())
    page.goto(f"{live_server.url}/cutouts/review/card/{big_cutout.pk}/")
    image = page.locator(".rv-stage-side .rv-cutout")
    expect(image).to_be_visible()
    page.wait_for_function("() => document.querySelector('.rv-stage-side .rv-cutout').complete")

    in_flight, most, asked = set(), [0], []

    def started(request):
        if "/tile" in request.url:
            in_flight.add(request)
            asked.append(request.url)
            # by address: the loupe showing a loaded tile may read it again from the cache
            most[0] = max(most[0], len({r.url for r in in_flight}))

    def ended(request):
        in_flight.discard(request)

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)

    box = image.bounding_box()
    start = (box["x"] + 5, box["y"] + 5)
    # (the card's sticky decision bar may cover the image's lower part on this screen)
    end = (box["x"] + box["width"] * 0.85, box["y"] + box["height"] * 0.45)
    assert page.evaluate(
        "([x, y]) => !!document.elementFromPoint(x, y).closest('.rv-zoomable')", list(end)
    )
    page.mouse.move(*start)
    page.keyboard.press("z")
    expect(page.locator(".rv-viewer")).to_have_attribute("data-zoom", "on")
    page.mouse.move(*start)
    page.mouse.move(*end, steps=120)  # corner to corner: dozens of tile steps

    width, height = big_cutout.width, big_cutout.height
    want = _wanted(
        (end[0] - box["x"]) / box["width"] * width,
        (end[1] - box["y"]) / box["height"] * height,
        width,
        height,
    )
    loupe = page.locator(".rv-stage-side .rv-loupe-img")
    expect(loupe).to_have_attribute("data-box", want, timeout=10_000)
    page.wait_for_function("() => !document.querySelector('.rv-loupe-img').dataset.pending")
    screenshot("swept")
    x, y, w, h = want.split(",")
    assert loupe.get_attribute("src").endswith(f"?x={x}&y={y}&w={w}&h={h}")
    assert asked[-1].endswith(f"?x={x}&y={y}&w={w}&h={h}")  # the last request: the last place
    assert most[0] == 1, f"{most[0]} tile requests in flight at once"
    # fewer requests than tile steps crossed: the ones passed over while waiting were skipped
    steps = len(
        {
            _wanted(
                (start[0] - box["x"] + (end[0] - start[0]) * i / 120) / box["width"] * width,
                (start[1] - box["y"] + (end[1] - start[1]) * i / 120) / box["height"] * height,
                width,
                height,
            )
            for i in range(121)
        }
    )
    assert len(set(asked)) < steps, (len(set(asked)), steps)
