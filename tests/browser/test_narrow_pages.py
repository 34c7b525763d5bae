"""Phones and tablets (QA 2026-12-02): the API key, webhook, batch, export and upload pages fit
a 375 px and a 768 px screen with long names in them; a new key is copied with a button;
compliance details open with a tap or the keyboard; touch screens get bigger checkboxes and
buttons while a desktop keeps its density. The review queue (table and grid) fits a 390 x 844
phone with several flagged rows, the header as wide as the screen (QA 2026-12-03: the table
made the document 480 px wide, the grid 422 px); logging out says so on the login page.
Screenshots: test-artifacts/screenshots/."""

import base64

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from catalog import webhooks
from catalog.api_models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from catalog.services.api_keys import api_key_create, scopes_for_user
from cutouts.models import Cutout, CutoutBatch, JobStatus
from cutouts.services.export_jobs import export_job_create
from cutouts.tasks import export_job_run_task
from tests.browser.test_review_layout import OVERFLOW_JS
from tests.browser.test_upload import DROP_JS
from tests.cutouts.export_helpers import MARKET_PHOTO, approved_cutout
from tests.cutouts.reviewdata import done_cutouts
from tests.factories import PASSWORD, ProductFactory, manager, reviewer
from tests.images import product_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE, TABLET = (375, 812), (768, 1024)
QA_PHONE = (390, 844)  # QA's phone (2026-12-03)
LONG_URL = ("https://hooks.example.com/cutroom/receiver/with/a/very/long/path/segment/"
            "1234567890?token=abcdefghijklmnopqrstuvwxyz")
LONG_NAME = "Akeneo sync for the EU storefront catalogue"


def _context(browser, session_for, user, size, *, touch):
    """A logged-in page; touch=True is a phone or tablet (coarse pointer, touch events)."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]},
                                  has_touch=touch, is_mobile=touch)
    session_for(context, user)
    return context


def _fits(page, name: str) -> None:
    overflow = page.evaluate(OVERFLOW_JS)
    assert overflow["scrollWidth"] <= overflow["width"], f"{name}: {overflow}"
    assert overflow["out"] == [], f"{name}: {overflow}"


def _shot(page, request, name: str) -> None:
    from tests.conftest import ARTIFACTS

    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{request.node.name}-{name}.png"), full_page=True)


@pytest.fixture
def pages_data():
    """What made the pages too wide: long names and URLs, a delivery log, a batch, an export
    with a failed compliance check."""
    boss = manager()
    colleague = reviewer()
    api_key_create(user=colleague, name="Nightly PIM sync for the storefront",
                   scope=scopes_for_user(user=colleague)[0])
    sub = WebhookSubscription.objects.create(
        url=LONG_URL, events=["cutout.approved", "export.finished", "image.stored"],
        secret=webhooks.secret_generate(), description="PIM")
    error = "The host 'hooks.example.com' cannot be resolved (Name or service not known)."
    WebhookDelivery.objects.create(
        subscription=sub, msg_id=webhooks.msg_id_new(), event_type="image.stored", payload={},
        status=DeliveryStatus.FAILED, attempts=2, last_error=error,
        attempts_log=[{"at": "2026-12-02T15:41:50", "code": None, "error": error}] * 2)
    CutoutBatch.objects.create(label="Selection: 2 products, 4 images", created_by=boss,
                               total=4, status=JobStatus.DONE)
    approved_cutout(product=ProductFactory(sku="SHEET-1"), size=MARKET_PHOTO)
    job = export_job_create(user=boss, presets=["walmart"], enqueue=False)  # no GTIN: fails
    assert export_job_run_task(job.pk) == "done"
    return {"user": boss, "sub": sub, "job": job}


def test_it_fits_the_listed_pages_on_a_phone_and_a_tablet(live_server, browser, session_for,
                                                          pages_data, request):
    sub, job = pages_data["sub"], pages_data["job"]
    paths = {
        "webhooks": reverse("api_webhooks"),
        "webhook-detail": reverse("api_webhook_detail", args=[sub.pk]),
        "webhook-edit": reverse("api_webhook_edit", args=[sub.pk]),
        "batches": reverse("cutouts:batch_list"),
        "export-form": reverse("cutouts:export_list"),
        "export-detail": reverse("cutouts:export_detail", args=[job.pk]),
    }
    for size in (PHONE, TABLET):
        context = _context(browser, session_for, pages_data["user"], size, touch=True)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
        page = context.new_page()
        width = size[0]

        # a new key: shown whole, wrapped, with a Copy button that copies it
        page.goto(live_server.url + reverse("api_keys"))
        page.fill("input[name=name]", LONG_NAME)
        page.get_by_role("button", name="Create key").click()
        token = page.locator("#new-token")
        expect(token).to_be_visible()
        copy = page.get_by_role("button", name="Copy")
        expect(copy).to_be_visible()
        copy.click()
        expect(page.locator("[data-copy-status]")).to_have_text("Copied.")
        assert page.evaluate("navigator.clipboard.readText()") == token.inner_text().strip()
        expect(page.locator("#other-keys")).to_contain_text("Nightly PIM sync")
        _shot(page, request, f"api-keys-{width}")
        _fits(page, f"API keys at {width} px")
        if width == PHONE[0]:
            # stacked: one cell per line, so "Revoke" is one word on one line
            revoke = page.locator("#keys").get_by_role("button", name="Revoke").first
            box = revoke.bounding_box()
            assert box["height"] >= 32 and box["width"] > box["height"], box  # touch size

        for name, path in paths.items():
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            _shot(page, request, f"{name}-{width}")
            _fits(page, f"{name} at {width} px")
        context.close()


def test_it_shows_each_files_status_on_a_phone_while_it_uploads(live_server, browser, session_for,
                                                                request):
    ProductFactory(sku="PHONE-1")
    context = _context(browser, session_for, manager(), PHONE, touch=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/catalog/upload/")
    names = ["PHONE-1_MAIN.jpg", "PHONE-1_PT01.jpg",
             "a-rather-long-camera-file-name-from-the-studio-PHONE-1_PT02.jpg"]
    payload = [{"name": name, "type": "image/jpeg",
                "b64": base64.b64encode(product_jpeg(640, 600, seed=n)).decode()}
               for n, name in enumerate(names)]
    page.evaluate(DROP_JS, ["#bulk-uploader [data-dropzone]", payload])
    rows = page.locator("#bulk-uploader [data-file-list] li")
    expect(rows).to_have_count(3)
    _fits(page, "upload at 375 px")
    # name, bar and status of every row inside the list's own box: nothing to scroll to
    outside = page.evaluate("""() => {
      const box = document.querySelector('#bulk-uploader [data-file-list]');
      const list = box.getBoundingClientRect();
      const out = [];
      for (const li of box.querySelectorAll('li')) {
        for (const part of li.querySelectorAll('.name, progress, .outcome')) {
          const r = part.getBoundingClientRect();
          if (r.width === 0 || r.right > list.right + 0.5) {
            out.push(`${li.dataset.filename} ${part.tagName} ${part.className}`);
          }
        }
      }
      return out;
    }""")
    assert outside == [], outside
    _shot(page, request, "upload-rows-375")
    context.close()


def test_it_opens_compliance_details_by_tap_and_keyboard(live_server, browser, session_for,
                                                         pages_data, request):
    job = pages_data["job"]
    context = _context(browser, session_for, pages_data["user"], PHONE, touch=True)
    page = context.new_page()
    page.goto(live_server.url + reverse("cutouts:export_detail", args=[job.pk]))
    expect(page.locator("main")).to_contain_text("Tap or click a chip for the details")
    details = page.locator("#results .sheet-compliance").first
    text = details.locator("p")
    expect(text).to_be_hidden()
    details.locator("summary").tap()
    expect(text).to_be_visible()
    expect(text).to_contain_text("GTIN")  # the reason, readable on a phone
    _shot(page, request, "compliance-open-375")
    details.locator("summary").tap()
    expect(text).to_be_hidden()
    details.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(text).to_be_visible()
    context.close()


def test_it_keeps_desktop_density_and_grows_targets_on_touch(live_server, browser, session_for):
    ProductFactory(sku="DENSE-1")
    user = manager()
    sizes = {}
    for touch in (False, True):
        context = _context(browser, session_for, user, TABLET, touch=touch)
        page = context.new_page()
        page.goto(live_server.url + reverse("api_webhooks"))
        box = page.locator("input[name=events]").first.bounding_box()
        url = page.locator("input[name=url]").bounding_box()
        page.goto(live_server.url + reverse("catalog:product_list"))
        select = page.locator("input[data-select-item]").first.bounding_box()
        sizes[touch] = (box["width"], box["height"], select["width"])
        # the URL field is styled like the other inputs: the form's width, not 177 px
        assert url["width"] > 500, url
        context.close()
    assert sizes[False][0] < 20 and sizes[False][1] < 20, sizes  # a mouse: as before
    assert min(sizes[True]) >= 20, sizes


# A phone zooms a too-wide page out, and window.innerWidth then reports the zoomed-out width:
# the checks below compare with the screen's own 390 px instead.
FIT_JS = """(width) => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > width + 0.5 || r.left < -0.5) {
      out.push(`${el.tagName.toLowerCase()}.${String(el.className).trim()} ` +
               `[${Math.round(r.left)}..${Math.round(r.right)}]`);
    }
  }
  const bar = document.querySelector('header.topbar').getBoundingClientRect();
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          header: [bar.left, bar.right], out: out.slice(0, 15)};
}"""


def _fits_phone(page, name: str) -> None:
    width = QA_PHONE[0]
    fit = page.evaluate(FIT_JS, width)
    assert fit["scrollWidth"] <= width, f"{name}: {fit}"
    assert fit["innerWidth"] == width, f"{name} zoomed out: {fit}"
    assert fit["header"] == [0, width], f"{name}: the header does not span the screen: {fit}"
    assert fit["out"] == [], f"{name}: {fit}"


def _inside(box, left: float = 0, right: float = QA_PHONE[0]) -> bool:
    return (box is not None and box["width"] > 0 and box["x"] >= left - 0.5
            and box["x"] + box["width"] <= right + 0.5)


@pytest.fixture
def flagged_queue(make_cutouts):
    """Six images waiting, as a studio's queue looks: long SKUs, several pre-flags each (the
    longest label too), a second version, a retouched one, risks from 0.91 down."""
    skus = ["CR-004", "ACME-TRAILRUNNER-GTX-2026-BLK-42", "CR-007", "HB-LEATHER-TOTE-XL",
            "CR-003", "KITCHEN-KETTLE-1.7L"]
    cutouts = make_cutouts([(sku, product_jpeg(640, 480, seed=70 + i), f"{sku}_PT01.jpg")
                            for i, sku in enumerate(skus)])
    cutouts[0] = done_cutouts([cutouts[0].asset])[0]  # v2
    flags = [["halo_risk", "low_confidence", "uncertain_edges", "see_through"],
             ["halo_risk", "fragments", "touches_frame", "uncertain_edges", "see_through"],
             ["halo_risk", "fragments", "low_confidence", "uncertain_edges", "see_through",
              "too_small_for_export"],
             ["tiny_subject"], [], ["touches_frame", "see_through"]]
    for n, (cutout, preflags) in enumerate(zip(cutouts, flags, strict=True)):
        Cutout.objects.filter(pk=cutout.pk).update(preflags=preflags, risk=0.91 - n * 0.07)
    Cutout.objects.filter(pk=cutouts[5].pk).update(source="retouch")
    return cutouts


def test_it_fits_the_review_queue_and_grid_on_a_phone(live_server, browser, session_for,
                                                      flagged_queue, request):
    context = _context(browser, session_for, manager(), QA_PHONE, touch=True)
    page = context.new_page()

    page.goto(live_server.url + reverse("cutouts:review_queue"))
    rows = page.locator("#review-queue tbody tr")
    expect(rows).to_have_count(6)
    page.wait_for_load_state("networkidle")
    _shot(page, request, "queue-390")
    _fits_phone(page, "review queue")
    # every row keeps its thumbnail, SKU, risk and links to its card, all on the screen
    for n, cutout in enumerate(flagged_queue):
        row = page.locator(f"#review-queue tr[data-cutout='{cutout.pk}']")
        thumb, title = row.locator("img.rv-thumb"), row.locator("a.rv-image-title")
        risk = row.locator(".rv-col-risk")
        expect(title).to_contain_text(cutout.asset.product.sku)
        expect(row.locator(".rv-col-model")).to_be_hidden()  # not essential on a phone
        expect(risk).to_contain_text(f"{0.91 - n * 0.07:.2f}")
        for part in (thumb, title, risk):
            expect(part).to_be_visible()
            assert _inside(part.bounding_box()), (cutout.asset.product.sku, part.bounding_box())
        card = reverse("cutouts:review_card", args=[cutout.pk])
        assert title.get_attribute("href").startswith(card)
    # the preflags wrap inside the row, the longest label included
    longest = page.locator("#review-queue [data-preflag=see_through]").first
    assert _inside(longest.bounding_box())
    title = page.locator(f"tr[data-cutout='{flagged_queue[0].pk}'] a.rv-image-title")
    title.tap()
    expect(page).to_have_url(live_server.url + reverse("cutouts:review_card",
                                                       args=[flagged_queue[0].pk]))

    page.goto(live_server.url + reverse("cutouts:review_grid"))
    tiles = page.locator("#review-grid .rv-tile")
    expect(tiles).to_have_count(6)
    page.wait_for_load_state("networkidle")
    _shot(page, request, "grid-390")
    _fits_phone(page, "review grid")
    for n in range(6):
        tile = tiles.nth(n)
        box = tile.bounding_box()
        assert _inside(box), box
        for part in tile.locator("input, img, .rv-preflag, a").all():
            inner = part.bounding_box()
            assert _inside(inner, box["x"], box["x"] + box["width"]), (n, inner, box)
    tiles.nth(0).locator("input").tap()
    expect(tiles.nth(0).locator("input")).to_be_checked()
    context.close()

    # a desktop keeps the table: its header row and columns side by side
    context = _context(browser, session_for, manager(), (1280, 900), touch=False)
    page = context.new_page()
    page.goto(live_server.url + reverse("cutouts:review_queue"))
    expect(page.locator("#review-queue thead")).to_be_visible()
    first = page.locator("#review-queue tbody tr").first
    assert abs(first.locator("td").nth(0).bounding_box()["y"]
               - first.locator(".rv-col-risk").bounding_box()["y"]) < 40
    context.close()


def test_it_says_you_are_logged_out_on_the_login_page(live_server, browser, session_for):
    user = manager()
    context = _context(browser, session_for, user, QA_PHONE, touch=True)
    page = context.new_page()
    page.goto(live_server.url + reverse("dashboard"))
    page.locator("[data-nav-toggle]").tap()
    page.get_by_role("button", name="Log out").tap()
    expect(page).to_have_url(live_server.url + reverse("login"))
    expect(page.locator(".messages")).to_have_text("You are logged out.")
    _fits_phone(page, "login page")
    # said once: a reload, or logging in again, does not repeat it
    page.reload()
    expect(page.locator(".messages")).to_have_count(0)
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator(".messages")).to_have_count(0)
    context.close()


def test_it_wraps_the_review_cards_long_pre_flags_on_a_phone(live_server, browser, session_for,
                                                             make_cutouts, request):
    """verify43 (2026-12-07): the card's pre-flag labels did not wrap, so at 360 px the
    longest ("Shadow off the product: re-run with Shadow none (a retouch keeps it)") made the
    card 606 px wide and its Confirm / Dismiss buttons were off the screen."""
    cutout = make_cutouts([("PF-1", product_jpeg(640, 480, seed=90), "PF-1_MAIN.jpg")])[0]
    Cutout.objects.filter(pk=cutout.pk).update(
        preflags=["halo_risk", "see_through", "faint_marks", "shadow_off_body"])
    width = 360
    context = _context(browser, session_for, reviewer(), (width, 800), touch=True)
    page = context.new_page()
    page.goto(live_server.url + reverse("cutouts:review_card", args=[cutout.pk]))
    expect(page.locator("[data-preflag=shadow_off_body]")).to_contain_text("Shadow off")
    _shot(page, request, "card-preflags-360")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for part in page.locator(".rv-preflag-item .badge, .rv-preflag-item button").all():
        assert _inside(part.bounding_box(), 0, width), (part.text_content(), part.bounding_box())
    context.close()
