"""QA 2026-12-04 in Debian's Chromium: review grid tiles stay in their columns with the
checkbox inside its own tile (1366, 1024 and 390 px); the card's pictures end above the
stuck decision bar at 1366 x 900 and its checkerboard switch has a name and a tooltip;
without JavaScript the switches that only script works are hidden; a product page counts
its images up while an upload runs; /favicon.ico answers without a login.
Screenshots: test-artifacts/screenshots/."""

import base64

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cutouts.models import Cutout
from tests.browser.test_narrow_pages import _shot
from tests.browser.test_review_layout import _loaded
from tests.browser.test_upload import DROP_JS
from tests.factories import ProductFactory, manager, reviewer
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# QA's case: three pre-flags on one tile, the longest label among them.
THREE_FLAGS = ["halo_risk", "uncertain_edges", "see_through"]

# Each tile's box, every visible part's box in it, and what a click at the centre of its
# checkbox lands on.
TILES_JS = """() => Array.from(document.querySelectorAll('#review-grid .rv-tile')).map((t) => {
  const box = (e) => { const r = e.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const input = t.querySelector('input[type=checkbox]'), i = input.getBoundingClientRect();
  const hit = document.elementFromPoint(i.left + i.width / 2, i.top + i.height / 2);
  const parts = Array.from(t.querySelectorAll('*')).filter((e) => e.getClientRects().length)
    .map((e) => ({tag: e.tagName.toLowerCase() + '.' + (e.getAttribute('class') || ''),
                  ...box(e)}));
  return {pk: t.dataset.cutout, tile: box(t), input: box(input), parts,
          hitOwn: hit === input, inLabel: input.closest('label') === t.querySelector('label'),
          scrollWidth: t.scrollWidth, clientWidth: t.clientWidth};
})"""


@pytest.fixture
def grid_rows(make_cutouts):
    """Four images waiting; the first two with three pre-flags each."""
    skus = ["CR-004", "CR-005", "ACME-TRAILRUNNER-GTX-2026-BLK-42", "CR-007"]
    cutouts = make_cutouts([(sku, product_jpeg(640, 480, seed=80 + i), f"{sku}.jpg")
                            for i, sku in enumerate(skus)])
    for cutout in cutouts[:2]:
        Cutout.objects.filter(pk=cutout.pk).update(preflags=THREE_FLAGS)
    return cutouts


def _inside(inner: dict, outer: dict) -> bool:
    return (inner["left"] >= outer["left"] - 0.5 and inner["right"] <= outer["right"] + 0.5
            and inner["top"] >= outer["top"] - 0.5 and inner["bottom"] <= outer["bottom"] + 0.5)


def _edges(box: dict) -> dict:
    """Playwright's bounding box as the edges ``_inside`` compares."""
    return {"left": box["x"], "right": box["x"] + box["width"], "top": box["y"],
            "bottom": box["y"] + box["height"]}


def _overlap(a: dict, b: dict) -> bool:
    return (min(a["right"], b["right"]) - max(a["left"], b["left"]) > 0.5
            and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 0.5)


@pytest.mark.parametrize("width", [1366, 1024, 390])
def test_it_keeps_every_grid_tile_in_its_column_with_its_own_checkbox(
        live_server, browser, session_for, grid_rows, width, request):
    context = browser.new_context(viewport={"width": width, "height": 900})
    session_for(context, manager())
    page = context.new_page()
    try:
        page.goto(live_server.url + reverse("cutouts:review_grid"))
        expect(page.locator("#review-grid .rv-tile")).to_have_count(4)
        page.wait_for_load_state("networkidle")
        _shot(page, request, f"grid-{width}")
        tiles = page.evaluate(TILES_JS)
        columns = page.eval_on_selector(
            "#review-grid .rv-grid", "g => getComputedStyle(g).gridTemplateColumns.split(' ')"
            ".map(parseFloat)")
        assert len(tiles) == 4
        for n, tile in enumerate(tiles):
            # no wider than its column: three pre-flags drew a tile 60 px past it before
            assert tile["tile"]["right"] - tile["tile"]["left"] <= max(columns) + 0.5, tile
            assert tile["scrollWidth"] <= tile["clientWidth"], tile
            for part in tile["parts"]:
                assert _inside(part, tile["tile"]), (n, part, tile["tile"])
            # the checkbox is this tile's, in its label, and nothing lies over it
            assert _inside(tile["input"], tile["tile"]) and tile["inLabel"], tile
            assert tile["hitOwn"], tile
            for other in tiles[n + 1:]:
                assert not _overlap(tile["tile"], other["tile"]), (tile["tile"], other["tile"])
        # the label is the tile: a click on the picture of the second tile ticks its box only
        second = page.locator(f"#review-grid .rv-tile[data-cutout='{tiles[1]['pk']}']")
        second.locator("img.thumb").click()
        expect(second.locator("input")).to_be_checked()
        expect(page.locator("#review-grid input[name=cutout]:checked")).to_have_count(1)
        # every thumbnail is named: SKU, image and version
        alts = page.eval_on_selector_all("#review-grid img.thumb", "els => els.map((e) => e.alt)")
        assert alts[0].startswith("Cutout of ") and alts[0].endswith(" · MAIN v1"), alts
        assert all(alt.startswith("Cutout of ") for alt in alts), alts
        # QA 2026-12-06 (qa38a L14): the original inset in the cutout's corner, loaded, a
        # third of the picture, grown over it under the pointer
        inset = second.locator("img.rv-tile-original")
        page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=inset.element_handle())
        thumb = second.locator("img.thumb").bounding_box()
        small = inset.bounding_box()
        assert _inside(_edges(small), _edges(thumb)), (small, thumb)
        assert 0.25 * thumb["width"] < small["width"] < 0.45 * thumb["width"], (small, thumb)
        inset.hover()
        page.wait_for_timeout(250)  # the width's transition
        assert inset.bounding_box()["width"] > 0.9 * thumb["width"]
    finally:
        context.close()


# The visible pictures of the card's shown stage against the decision bar, on the screen.
BAR_JS = """() => {
  const bar = document.querySelector('.rv-actions').getBoundingClientRect();
  return Array.from(document.querySelectorAll(
      '.rv-stage:not([hidden]) .rv-frame img, .rv-stage:not([hidden]) .rv-compare > img'))
    .filter((i) => i.offsetParent).map((i) => { const r = i.getBoundingClientRect();
      return {cls: i.className, top: r.top, bottom: r.bottom, height: r.height,
              barTop: bar.top, vh: window.innerHeight}; });
}"""


@pytest.fixture
def card_photos(make_cutouts):
    """QA's compare (a 640 x 480 photo: its bottom 22-24 px under the bar at 1366 x 900),
    a landscape and a portrait."""
    sizes = [("SMALL-1", 640, 480), ("WIDE-1", 1600, 1200), ("TALL-1", 1200, 1600)]
    return make_cutouts([(sku, product_jpeg(w, h, seed=90 + i), f"{sku}.jpg")
                         for i, (sku, w, h) in enumerate(sizes)])


def test_it_shows_the_card_pictures_above_the_stuck_bar_at_1366_x_900(
        live_server, page, session_for, card_photos, screenshot):
    page.set_viewport_size({"width": 1366, "height": 900})
    session_for(page, reviewer())
    Cutout.objects.filter(pk=card_photos[0].pk).update(preflags=["halo_risk"])
    for cutout in card_photos:
        for mode in ("slider", "side"):
            page.goto(f"{live_server.url}/cutouts/review/card/{cutout.pk}/")
            page.click(f"[data-rv-mode={mode}]")
            _loaded(page, f".rv-stage-{mode} img.rv-original")
            page.wait_for_timeout(100)  # review-fit.js measures on the next frame
            boxes = page.evaluate(BAR_JS)
            assert boxes, mode
            for box in boxes:
                # on arrival, nothing of a picture under the bar (was 9-24 px; a portrait
                # 174 px) and the picture still a good size
                assert box["bottom"] <= box["barTop"] + 0.5, (cutout.asset.product.sku, mode, box)
                assert box["height"] >= 0.4 * box["vh"] - 1, (cutout.asset.product.sku, box)
    screenshot("card-fits-1366x900")

    # the checkerboard switch is named for a screen reader and shows its name on hover
    checker = page.get_by_role("button", name="Checkerboard")
    expect(checker).to_have_count(1)
    checker.hover()
    tip = checker.evaluate("b => getComputedStyle(b, '::after').content")
    assert tip == '"Checkerboard"', tip
    page.mouse.move(0, 0)
    assert checker.evaluate("b => getComputedStyle(b, '::after').content") == "none"


def test_it_hides_what_only_script_works_without_javascript(live_server, browser, session_for,
                                                            grid_rows):
    context = browser.new_context(java_script_enabled=False,
                                  viewport={"width": 1366, "height": 900})
    session_for(context, manager())
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/cutouts/review/card/{grid_rows[0].pk}/")
        expect(page.locator(".rv-stage-side .rv-cutout")).to_be_visible()
        for selector in ("[data-rv-mode=slider]", "[data-rv-bg=white]", "[data-rv-zoom]",
                         "[data-rv-fullscreen]", "[data-rv-shadow]"):
            expect(page.locator(selector)).to_be_hidden()
        expect(page.locator("#rv-approve")).to_be_visible()  # a plain form: it works

        page.goto(live_server.url + reverse("cutouts:review_grid"))
        expect(page.locator("[data-rv-select=all]")).to_be_hidden()
        expect(page.locator("[data-rv-select=none]")).to_be_hidden()
        # ticked one by one and posted, the grid approves without script
        page.locator(f".rv-tile[data-cutout='{grid_rows[0].pk}'] img.thumb").click()
        page.click("#bulk-approve")
        expect(page.locator(".messages")).to_contain_text("Approved 1 cutout")

        product = grid_rows[0].asset.product
        page.goto(live_server.url + reverse("catalog:product_detail", args=[product.pk]))
        expect(page.locator("[data-thumb-toggle]")).to_be_hidden()
        expect(page.locator("[data-dropzone]")).to_be_hidden()
        expect(page.locator("[data-select-page]")).to_be_hidden()
        expect(page.locator("[data-uploader] input[type=file][name=file]")).to_be_visible()

        # a narrow screen: the menu button opens nothing, so the links are shown
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        expect(page.locator("[data-nav-toggle]")).to_be_hidden()
        expect(page.locator(".nav a", has_text="Review")).to_be_visible()
    finally:
        context.close()


def test_it_counts_the_images_up_as_each_file_is_stored(live_server, page, session_for):
    product = ProductFactory(sku="COUNT-1")
    session_for(page, manager())
    page.goto(live_server.url + reverse("catalog:product_detail", args=[product.pk]))
    count = page.locator("#asset-grid [data-asset-count]")
    expect(count).to_have_text("0")
    # every value the page's count takes, and whether the upload was still running then;
    # the grid's refresh at the end replaces this element, so only the rows' counting shows
    page.evaluate("""() => { window.seen = [];
      const el = document.querySelector('#asset-grid [data-asset-count]');
      const root = document.querySelector('[data-uploader]');
      new MutationObserver(() => window.seen.push([el.textContent, root.dataset.state]))
        .observe(el, {childList: true, characterData: true, subtree: true}); }""")
    payload = [{"name": f"shot-{n}.jpg", "type": "image/jpeg",
                "b64": base64.b64encode(product_jpeg(700, 600, seed=n)).decode()}
               for n in range(3)]
    page.evaluate(DROP_JS, ["[data-uploader] [data-dropzone]", payload])
    expect(page.locator("#asset-grid figure.asset")).to_have_count(3, timeout=30_000)
    assert page.evaluate("window.seen") == [["1", "running"], ["2", "running"],
                                            ["3", "running"]]
    expect(count).to_have_text("3")  # the refreshed grid says the same


def test_it_does_not_say_no_images_yet_once_a_file_is_stored(live_server, page, session_for):
    """QA 2026-12-06: "Images (5)" over "No images yet." while the sixth file was sent."""
    product = ProductFactory(sku="COUNT-2")
    session_for(page, manager())
    page.goto(live_server.url + reverse("catalog:product_detail", args=[product.pk]))
    expect(page.locator("#asset-grid .empty")).to_have_text("No images yet.")
    # what the grid's empty note said at each count, while the upload was still running
    page.evaluate("""() => { window.seen = [];
      const el = document.querySelector('#asset-grid [data-asset-count]');
      const root = document.querySelector('[data-uploader]');
      new MutationObserver(() => window.seen.push([el.textContent, root.dataset.state,
          document.querySelector('#asset-grid .empty').textContent]))
        .observe(el, {childList: true, characterData: true, subtree: true}); }""")
    payload = [{"name": f"shot-{n}.jpg", "type": "image/jpeg",
                "b64": base64.b64encode(product_jpeg(700, 600, seed=n)).decode()}
               for n in range(2)]
    page.evaluate(DROP_JS, ["[data-uploader] [data-dropzone]", payload])
    expect(page.locator("#asset-grid figure.asset")).to_have_count(2, timeout=30_000)
    seen = page.evaluate("window.seen")
    assert [(count, state) for count, state, _ in seen] == [("1", "running"), ("2", "running")]
    for count, _, empty in seen:
        assert "No images yet" not in empty and empty.startswith(f"{count} stored"), empty
    expect(page.locator("#asset-grid .empty")).to_have_count(0)  # the refreshed grid


def test_it_serves_the_favicon_without_a_login(live_server, browser):
    context = browser.new_context()  # no session
    try:
        response = context.request.get(f"{live_server.url}/favicon.ico")
        assert response.status == 200, response.url
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert b"<svg" in response.body()
    finally:
        context.close()
