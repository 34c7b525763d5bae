import html
import io
import json
import re

import numpy as np
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image, ImageDraw

from cutouts.benchmarking import product_photo
from cutouts.models import Cutout, FlagReason, JobStatus, ReviewDecision, ReviewStatus
from cutouts.selectors import review as review_selectors
from cutouts.services import review
from tests.cutouts.reviewdata import done_cutouts, rgba_png
from tests.factories import PASSWORD, ImageAssetFactory, ProductFactory, manager, reviewer
from tests.images import jpeg

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def cutouts(make_assets, fake_model):
    return done_cutouts(make_assets(3))


def _queue_order():
    return list(Cutout.objects.filter(status="done", review_status="pending")
                .order_by("-risk", "pk"))


def _login(client, role):
    if role == "anonymous":
        return None
    user = {"manager": manager, "reviewer": reviewer}.get(role, lambda: get_user_model()
                                                           .objects.create_user("norole",
                                                                                password=PASSWORD))()
    client.force_login(user)
    return user


def _gets(c):
    return [
        reverse("cutouts:review_queue"), reverse("cutouts:review_grid"),
        reverse("cutouts:review_card", args=[c.pk]),
        reverse("cutouts:review_image", args=[c.pk, "cutout"]) + "?size=320",
        reverse("cutouts:retouch_queue"), reverse("cutouts:retouch_card", args=[c.pk]),
        reverse("cutouts:review_history", args=[c.asset_id]),
    ]


@pytest.mark.parametrize("role, expected", [
    ("manager", 200), ("reviewer", 200), ("norole", 403), ("anonymous", 302)])
def test_it_guards_every_read_by_role(client, cutouts, role, expected):
    _login(client, role)
    for url in _gets(cutouts[0]):
        response = client.get(url)
        if expected == 200 and response.status_code == 302 and "/image/" in url:
            # On S3, images are handed out as short-lived signed URLs instead of streamed.
            assert "X-Amz-Signature=" in response["Location"], url
            continue
        assert response.status_code == expected, url
        if role == "anonymous":
            assert response["Location"].startswith("/accounts/login/")


def _posts(c):
    png = io.BytesIO(rgba_png(640, 480))
    png.name = "fixed.png"
    return [
        (reverse("cutouts:review_card", args=[c.pk]), {"action": "approve"}),
        (reverse("cutouts:review_grid"), {"cutout": [c.pk]}),
        (reverse("cutouts:retouch_card", args=[c.pk]), {"action": "upload", "png": png}),
    ]


@pytest.mark.parametrize("role, expected", [
    ("manager", 302), ("reviewer", 302), ("norole", 403), ("anonymous", 302)])
def test_it_guards_every_action_by_role(client, cutouts, role, expected):
    _login(client, role)
    for url, data in _posts(cutouts[0]):
        response = client.post(url, data)
        assert response.status_code == expected, url
        if role == "anonymous":
            assert response["Location"].startswith("/accounts/login/")
    changed = ReviewDecision.objects.exists()
    assert changed == (role in ("manager", "reviewer"))


def test_it_refuses_actions_to_a_viewer_without_the_review_capability(client, cutouts):
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("viewer", password=PASSWORD)
    user.user_permissions.add(Permission.objects.get(codename="view_catalog"))
    client.force_login(user)
    card = reverse("cutouts:review_card", args=[cutouts[0].pk])
    assert client.get(card).status_code == 200
    assert client.post(card, {"action": "approve"}).status_code == 403
    assert not ReviewDecision.objects.exists()


def test_it_gives_reviewers_no_delete_or_export_capability():
    user = reviewer()
    assert user.has_perm("catalog.review_cutouts")
    assert not user.has_perm("catalog.delete_images")
    assert not user.has_perm("catalog.export_images")
    assert manager().has_perm("catalog.export_images")


def test_it_approves_over_htmx_and_answers_with_the_next_card(client, cutouts):
    client.force_login(reviewer())
    first, second = _queue_order()[:2]
    response = client.post(reverse("cutouts:review_card", args=[first.pk]),
                           {"action": "approve", "comment": "ok"}, **HX)
    assert response.status_code == 200
    assert response["HX-Push-Url"] == reverse("cutouts:review_card", args=[second.pk])
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="review-card"')
    assert f'data-cutout="{second.pk}"' in html and "<html" not in html
    first.refresh_from_db()
    assert first.review_status == ReviewStatus.APPROVED and first.is_current


def test_it_redirects_a_plain_post_to_the_next_card_keeping_the_filters(client, cutouts):
    client.force_login(reviewer())
    first, second = _queue_order()[:2]
    response = client.post(reverse("cutouts:review_card", args=[first.pk]) + "?model=u2netp",
                           {"action": "approve"})
    assert response.status_code == 302
    assert response["Location"] == reverse("cutouts:review_card", args=[second.pk]) + \
        "?model=u2netp"


def test_it_shows_the_empty_queue_only_when_nothing_else_waits(client, cutouts):
    client.force_login(reviewer())
    first, second, last = _queue_order()
    response = client.post(reverse("cutouts:review_card", args=[first.pk]),
                           {"action": "approve"}, **HX)
    assert f'data-cutout="{second.pk}"'.encode() in response.content
    response = client.post(reverse("cutouts:review_card", args=[second.pk]),
                           {"action": "flag", "reason": ["halo"]}, **HX)
    assert f'data-cutout="{last.pk}"'.encode() in response.content
    response = client.post(reverse("cutouts:review_card", args=[last.pk]),
                           {"action": "approve"}, **HX)
    assert b"Queue empty" in response.content
    assert response["HX-Push-Url"] == reverse("cutouts:review_queue")


def test_it_wraps_to_the_first_waiting_card_after_the_last_one(client, cutouts):
    # A card that sorts last (opened from the queue's end, or the card the retouch page
    # opens) has the others before it: a decision moves on to the first of them.
    client.force_login(reviewer())
    first, second, last = _queue_order()
    response = client.post(reverse("cutouts:review_card", args=[last.pk]),
                           {"action": "approve"}, **HX)
    assert b"Queue empty" not in response.content
    assert f'data-cutout="{first.pk}"'.encode() in response.content
    assert response["HX-Push-Url"] == reverse("cutouts:review_card", args=[first.pk])
    # flag too, and without htmx: a redirect to the first waiting card, filters kept
    response = client.post(reverse("cutouts:review_card", args=[second.pk]) + "?model=u2netp",
                           {"action": "flag", "reason": ["halo"]})
    assert response["Location"] == reverse("cutouts:review_card", args=[first.pk]) + \
        "?model=u2netp"


def test_it_flags_with_reasons_and_shows_errors_in_the_card(client, cutouts):
    client.force_login(reviewer())
    first = _queue_order()[0]
    url = reverse("cutouts:review_card", args=[first.pk])
    response = client.post(url, {"action": "flag", "reason": ["other"]}, **HX)
    assert response.status_code == 200 and b"rv-error" in response.content
    assert b"comment" in response.content
    client.post(url, {"action": "flag", "reason": ["halo", "edges_soft"],
                      "comment": "left strap"}, **HX)
    first.refresh_from_db()
    assert first.flag_reasons == ["halo", "edges_soft"]
    decision = ReviewDecision.objects.get(cutout=first)
    assert decision.comment == "left strap"


def test_it_reruns_and_the_new_card_polls_until_done(client, cutouts):
    client.force_login(reviewer())
    first = cutouts[0]
    response = client.post(reverse("cutouts:review_card", args=[first.pk]),
                           {"action": "rerun", "model": "u2netp", "tta": "on",
                            "shadow": "keep", "strength": "soft"}, **HX)
    new = Cutout.objects.get(asset=first.asset, version=2)
    html = response.content.decode()
    assert f'data-cutout="{new.pk}"' in html
    assert 'hx-trigger="every 1s"' in html and "queued" in html
    from cutouts.services import runs

    outcome = runs.cutout_run(cutout_id=new.pk)
    new.refresh_from_db()
    # what the run left, said when it is not done (CI once found the card still pending)
    assert (outcome, new.status) == ("done", JobStatus.DONE), (new.error, new.stage)
    html = client.get(reverse("cutouts:review_card", args=[new.pk]), **HX).content.decode()
    assert "every 1s" not in html and 'class="rv-cutout"' in html
    # shadow=keep stored a shadow layer: the card offers it as a toggleable black layer.
    new.refresh_from_db()
    assert new.shadow_name and 'class="rv-shadow-layer"' in html
    if settings.STORAGE_BACKEND != "s3":
        response = client.get(reverse("cutouts:review_image", args=[new.pk, "shadow"]))
        with Image.open(io.BytesIO(b"".join(response.streaming_content))) as layer:
            assert layer.mode == "RGBA" and layer.getpixel((0, 0))[:3] == (0, 0, 0)


def test_it_chooses_a_version_and_resolves_preflags(client, cutouts):
    client.force_login(reviewer())
    c = cutouts[0]
    Cutout.objects.filter(pk=c.pk).update(preflags=["halo_risk", "fragments"])
    url = reverse("cutouts:review_card", args=[c.pk])
    client.post(url, {"action": "preflag_dismiss", "preflag": "halo_risk"}, **HX)
    html = client.post(url, {"action": "preflag_confirm", "preflag": "fragments"},
                       **HX).content.decode()
    assert "✓ confirmed" in html
    client.post(url, {"action": "choose"}, **HX)
    c.refresh_from_db()
    assert c.is_current and c.preflags == ["fragments"]
    assert list(ReviewDecision.objects.filter(cutout=c).order_by("pk")
                .values_list("action", flat=True)) == [
        "preflag_dismiss", "preflag_confirm", "choose"]


def test_it_loads_the_next_card_in_a_constant_number_of_queries(client, make_assets,
                                                                  fake_model):
    client.force_login(reviewer())
    rows = done_cutouts(make_assets(2))
    url = reverse("cutouts:review_card", args=[rows[0].pk])
    client.get(url, **HX)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, **HX).status_code == 200
    for _ in range(3):
        asset = ImageAssetFactory(product=ProductFactory())
        for v in (1, 2, 3):
            Cutout.objects.create(asset=asset, version=v, status="done", risk=0.01)
    with CaptureQueriesContext(connection) as large:
        client.get(url, **HX)
    assert len(large.captured_queries) == len(small.captured_queries) <= 12


def test_it_serves_private_images_with_sizes(client, cutouts):
    client.force_login(reviewer())
    c = cutouts[0]
    for kind, size, expected in [("original", 320, (320, 240)), ("cutout", 1024, (640, 480)),
                                 ("cutout", 0, (640, 480)), ("mask", 320, (320, 240)),
                                 ("market", 1024, (600, 600))]:
        response = client.get(reverse("cutouts:review_image", args=[c.pk, kind]),
                              {"size": size})
        if settings.STORAGE_BACKEND == "s3":
            # The bucket is private: a short-lived signed URL, never a public one.
            assert response.status_code == 302 and "Signature" in response["Location"]
            continue
        assert response.status_code == 200, kind
        assert "private" in response["Cache-Control"]
        with Image.open(io.BytesIO(b"".join(response.streaming_content))) as im:
            assert im.size == expected, kind
    assert client.get(reverse("cutouts:review_image", args=[c.pk, "shadow"])).status_code == 404
    assert client.get(reverse("cutouts:review_image", args=[c.pk, "bogus"])).status_code == 404
    assert client.get(reverse("cutouts:review_image", args=[c.pk, "cutout"]),
                      {"size": "13"}).status_code == 404
    html = client.get(reverse("cutouts:review_card", args=[c.pk])).content.decode()
    assert "media/" not in html and c.rgba_name not in html


def test_it_serves_a_just_finished_versions_picture_whole_while_its_first_view_stores_it(
        client, storage, cutouts, monkeypatch):
    """qa39b F4: after Apply the page opened the new version, whose 1024 px picture its first
    request renders and stores; a second request for it meanwhile (the editor's decode of the
    same URL) found the file begun but empty and was served that: a broken picture. On local
    disk (``storage``, before the cutouts are stored), where a file is visible as it is
    written; an S3 object appears whole."""
    from django.core.files import File

    client.force_login(reviewer())
    url = reverse("cutouts:review_image", args=[cutouts[0].pk, "cutout"]) + "?size=1024"
    real, during, asked = File.chunks, [], []

    def chunks(self, *args, **kwargs):
        if not asked and self.name.endswith(".png"):
            asked.append(True)  # once: the second request's own write goes on as it would
            response = client.get(url)  # another request, as the first one's bytes go in
            during.append((response.status_code, b"".join(response.streaming_content)))
        yield from real(self, *args, **kwargs)

    monkeypatch.setattr(File, "chunks", chunks)
    first = client.get(url)
    assert first.status_code == 200 and [status for status, _ in during] == [200]
    for data in (during[0][1], b"".join(first.streaming_content)):
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            assert im.size == (640, 480)


def test_it_queues_an_uploaded_retouch_and_rejects_a_wrong_aspect(client, cutouts):
    client.force_login(reviewer())
    c = cutouts[0]
    url = reverse("cutouts:retouch_card", args=[c.pk])
    bad = io.BytesIO(rgba_png(640, 300))
    bad.name = "bad.png"
    response = client.post(url, {"action": "upload", "png": bad}, follow=True)
    assert b"aspect ratio" in response.content
    good = io.BytesIO(rgba_png(640, 480))
    good.name = "good.png"
    response = client.post(url, {"action": "upload", "png": good})
    new = Cutout.objects.get(asset=c.asset, version=2)
    assert response["Location"] == reverse("cutouts:review_card", args=[new.pk])
    assert (new.status, new.queue, new.parent_id) == (JobStatus.QUEUED, "cutouts-interactive",
                                                      c.pk)
    html = client.get(response["Location"], **HX).content.decode()
    assert 'hx-trigger="every 1s"' in html  # the card polls until a worker has made it


def test_it_says_a_refused_upload_beside_the_upload_form_and_keeps_the_comment(client,
                                                                               cutouts):
    """QA 2026-12-06 (session 38): a wrong-size PNG came back as a message at the page's top,
    above the editor the page scrolls to, and the comment typed was gone."""
    client.force_login(reviewer())
    c = cutouts[0]
    bad = io.BytesIO(rgba_png(800, 800))
    bad.name = "square.png"
    response = client.post(reverse("cutouts:retouch_card", args=[c.pk]),
                           {"action": "upload", "png": bad, "comment": "cleaned the strap"})
    assert response.status_code == 422  # the page again, not a redirect to it
    page = response.content.decode()
    form = page.split('id="retouch-upload"', 1)[1].split("</form>", 1)[0]
    error = re.search(r'<p class="msg msg-error" id="retouch-upload-error" role="alert" '
                      r'tabindex="-1" data-rt-upload-error>([^<]*)</p>', form)
    assert error and html.unescape(error.group(1)).startswith(
        "The PNG is 800×800; it must have the photo's aspect ratio")
    assert 'value="cleaned the strap"' in form
    assert 'aria-describedby="retouch-upload-error"' in form
    assert 'class="messages"' not in page  # said once, where the upload is
    assert not Cutout.objects.filter(asset=c.asset, version=2).exists()


def _json_post(client, url, body, **extra):
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


def test_it_previews_strokes_and_explains_bad_ones(client, cutouts):
    client.force_login(reviewer())
    c = cutouts[0]
    url = reverse("cutouts:retouch_preview", args=[c.pk])
    response = _json_post(client, url, {"strokes": [
        {"kind": "remove", "radius": 8, "points": [[200, 150], [440, 150]]},
        {"kind": "keep", "radius": 5, "points": [[320, 240]]}]})
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert int(response["X-Retouch-Ms"]) >= 0 and "retouch;dur=" in response["Server-Timing"]
    with Image.open(io.BytesIO(response.content)) as im:
        assert im.mode == "RGBA" and im.size == (640, 480)
        assert im.getchannel("A").getpixel((320, 150)) == 0
    for body, message in [
        ({"strokes": [{"kind": "erase", "radius": 8, "points": [[1, 1]]}]},
         "stroke 1: kind must be one of keep, remove, detail"),
        ({"strokes": [{"kind": "keep", "radius": 8, "points": [[1, "a"]]}]},
         "stroke 1: point 1 y must be a number"),
        ({"strokes": "keep"}, "strokes must be a JSON list"),
        ([1, 2], "Send the strokes as JSON"),
    ]:
        response = _json_post(client, url, body)
        assert response.status_code == 400
        assert message in response.json()["error"], response.json()
    response = client.post(url, data="{", content_type="application/json")
    assert response.status_code == 400 and "Send the strokes as JSON" in response.json()["error"]


def _mesh_jpeg(width: int, height: int, seed: int = 0) -> bytes:
    """A product photo whose right half is a wire mesh (grey wires every 10 px)."""
    rgb = np.array(product_photo(width, height, seed))
    yy, xx = np.mgrid[:height, :width]
    wire = ((xx + yy) % 10 < 2) | ((xx - yy) % 10 < 2)
    rgb[(xx >= width // 2) & wire] = (170, 170, 176)
    rgb[(xx >= width // 2) & ~wire] = (104, 100, 110)
    return jpeg(Image.fromarray(rgb))


def test_it_tells_the_editor_when_the_last_stroke_is_a_detail_stroke_over_a_mesh(
        client, make_assets, fake_model):
    """QA M6 (2026-12-05): retouch.js names the mesh instead of "paint across the edge"."""
    client.force_login(reviewer())
    (meshed,) = done_cutouts(make_assets(1, photo=_mesh_jpeg))
    (plain,) = done_cutouts(make_assets(1, sku="SKU-2"))
    detail = {"kind": "detail", "radius": 12, "points": [[480, 100], [480, 380]]}
    keep = {"kind": "keep", "radius": 12, "points": [[480, 240]]}
    for cutout, strokes, said in [(meshed, [detail], "1"), (meshed, [detail, keep], None),
                                  (plain, [detail], None)]:
        response = _json_post(client, reverse("cutouts:retouch_preview", args=[cutout.pk]),
                              {"strokes": strokes})
        assert response.status_code == 200
        assert response.get("X-Retouch-Mesh") == said, strokes


def _corner_piece_jpeg(width: int, height: int, seed: int = 0) -> bytes:
    """A product photo with a dark red disk in its top left corner, far from the centred box
    the fake model cuts."""
    image = product_photo(width, height, seed)
    ImageDraw.Draw(image).ellipse((12, 12, 68, 68), fill=(150, 20, 30))
    return jpeg(image)


def test_it_tells_the_editor_what_a_keep_click_far_from_the_cutout_added(
        client, make_assets, fake_model):
    """QA31 M3 (hint38): retouch.js says a far keep click added a piece, or only its spot."""
    client.force_login(reviewer())
    (cutout,) = done_cutouts(make_assets(1, photo=_corner_piece_jpeg))
    url = reverse("cutouts:retouch_preview", args=[cutout.pk])
    inside = {"kind": "keep", "radius": 8, "points": [[320, 240]]}
    for clicked, said in [((36, 36), "piece"), ((604, 36), "spot"), ((320, 240), None)]:
        keep = {"kind": "keep", "radius": 8, "points": [list(clicked)]}
        for strokes in ([keep], [inside, keep]):
            response = _json_post(client, url, {"strokes": strokes})
            assert response.status_code == 200
            assert response.get("X-Retouch-Far-Keep") == said, strokes
    # the last stroke only: a remove stroke after the far click is told as before
    response = _json_post(client, url, {"strokes": [
        {"kind": "keep", "radius": 8, "points": [[36, 36]]},
        {"kind": "remove", "radius": 12, "points": [[200, 150], [440, 150]]}]})
    assert response.get("X-Retouch-Far-Keep") is None


def test_it_tells_the_editor_what_a_click_gave_back_of_earlier_strokes_changes(
        client, make_assets, fake_model, monkeypatch):
    """signal46 (verify45 M2): retouch.js says "gave back N px the earlier remove stroke took
    beyond its brush" from the engine's count, which the preview sends as X-Retouch-Given-Back.
    The count itself is the engine's (tests/imaging/test_cut_click_undoes.py, and the preview's
    words in test_retouch_service.py); here the engine's word is set on the real result, as
    the fake model's box gives no stroke a take beyond its brush to give back."""
    from dataclasses import replace

    from cutouts.services import previews

    client.force_login(reviewer())
    (cutout,) = done_cutouts(make_assets(1))
    url = reverse("cutouts:retouch_preview", args=[cutout.pk])
    keep = {"kind": "keep", "radius": 8, "points": [[330, 250]]}
    response = _json_post(client, url, {"strokes": [keep]})
    assert response.status_code == 200 and response.get("X-Retouch-Given-Back") is None
    real = previews.retouch_apply
    monkeypatch.setattr(previews, "retouch_apply", lambda *a, **k: replace(
        real(*a, **k), given_back="remove:1026"))
    response = _json_post(client, url, {"strokes": [keep]})
    assert response.status_code == 200
    assert response.get("X-Retouch-Given-Back") == "remove:1026"


def test_it_tells_the_editor_what_a_subject_click_cleared(client, make_assets, fake_model):
    """qa40b U: retouch.js says how many other parts a subject click cleared, or that it
    found nothing held under it (the fake model holds one centred box)."""
    client.force_login(reviewer())
    (cutout,) = done_cutouts(make_assets(1))
    url = reverse("cutouts:retouch_preview", args=[cutout.pk])
    subject = {"kind": "subject", "radius": 8, "points": [[320, 240]]}
    keep = {"kind": "keep", "radius": 8, "points": [[330, 250]]}
    for strokes, said in [([subject], "parts:0"),
                          ([{**subject, "points": [[20, 20]]}], "none"),
                          ([subject, keep], None)]:  # the last stroke only
        response = _json_post(client, url, {"strokes": strokes})
        assert response.status_code == 200
        assert response.get("X-Retouch-Subject") == said, strokes
    response = _json_post(client, url, {"strokes": [subject, keep, subject]})
    assert response.status_code == 400
    assert "stroke 3: only one subject click per list" in response.json()["error"]


def test_it_applies_strokes_from_the_card_as_a_polling_interactive_version(
        client, cutouts, monkeypatch, django_capture_on_commit_callbacks):
    from cutouts.services import runs
    from cutouts.tasks import cutout_run_task

    sent = []
    monkeypatch.setattr(cutout_run_task, "apply_async", lambda *a, **k: sent.append(k["queue"]))
    client.force_login(reviewer())
    c = cutouts[0]
    card = reverse("cutouts:review_card", args=[c.pk])
    html = client.get(card, **HX).content.decode()
    # The card carries the tools: full-size photo dimensions for the stroke coordinates.
    assert 'data-retouch' in html and 'data-full-width="640"' in html
    assert reverse("cutouts:retouch_preview", args=[c.pk]) in html
    # The remove stroke crosses the fake model's solid box, so the run changes pixels whatever
    # this run's photo (make_assets seeds it per run): at the backdrop corner alone, some
    # photos left nothing to change and the run ended "unchanged" (CI, stop 51).
    strokes = [{"kind": "remove", "radius": 8, "points": [[300, 240], [340, 240]]},
               {"kind": "detail", "radius": 10, "points": [[300, 120], [340, 120]]}]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(card, {"action": "strokes", "strokes": json.dumps(strokes),
                                      "comment": "strap"}, **HX)
    new = Cutout.objects.get(asset=c.asset, version=2)
    assert sent == ["cutouts-interactive"]
    html = response.content.decode()
    assert f'data-cutout="{new.pk}"' in html and 'hx-trigger="every 1s"' in html
    assert "Retouching as version 2" in html
    assert new.strokes == strokes and new.status == JobStatus.QUEUED
    outcome = runs.cutout_run(cutout_id=new.pk)
    new.refresh_from_db()
    # what the run left, said when it is not done (CI once found the card still pending)
    assert (outcome, new.status) == ("done", JobStatus.DONE), (new.error, new.stage)
    html = client.get(reverse("cutouts:review_card", args=[new.pk]), **HX).content.decode()
    assert "every 1s" not in html and 'class="rv-cutout"' in html and "rv-approve" in html
    decision = ReviewDecision.objects.get(cutout=new)
    assert decision.action == "strokes" and decision.comment.endswith("strap")


def test_it_shows_stroke_errors_on_the_card_and_the_retouch_page(client, cutouts):
    client.force_login(reviewer())
    c = cutouts[0]
    html = client.post(reverse("cutouts:review_card", args=[c.pk]),
                       {"action": "strokes", "strokes": "[]"}, **HX).content.decode()
    assert "Draw at least one keep, remove or detail stroke" in html
    response = client.post(reverse("cutouts:retouch_card", args=[c.pk]),
                           {"action": "strokes", "strokes": "[{]"}, follow=True)
    assert b"The strokes are not valid JSON" in response.content
    assert Cutout.objects.filter(asset=c.asset).count() == 1


@pytest.mark.parametrize("role, expected", [
    ("manager", 200), ("reviewer", 200), ("norole", 403), ("anonymous", 302)])
def test_it_lets_reviewers_and_managers_retouch_and_nobody_else(client, cutouts, role,
                                                                  expected):
    _login(client, role)
    c = cutouts[0]
    strokes = [{"kind": "keep", "radius": 4, "points": [[320, 240]]}]
    preview = _json_post(client, reverse("cutouts:retouch_preview", args=[c.pk]),
                         {"strokes": strokes})
    assert preview.status_code == expected
    apply = client.post(reverse("cutouts:retouch_card", args=[c.pk]),
                        {"action": "strokes", "strokes": json.dumps(strokes)})
    assert apply.status_code == (302 if expected != 403 else 403)
    if role == "anonymous":
        assert preview["Location"].startswith("/accounts/login/")
        assert apply["Location"].startswith("/accounts/login/")
    made = Cutout.objects.filter(asset=c.asset, version=2).exists()
    assert made == (role in ("manager", "reviewer"))


def test_it_refuses_retouch_to_a_viewer_without_the_review_capability(client, cutouts):
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("viewer", password=PASSWORD)
    user.user_permissions.add(Permission.objects.get(codename="view_catalog"))
    client.force_login(user)
    c = cutouts[0]
    html = client.get(reverse("cutouts:review_card", args=[c.pk])).content.decode()
    assert "data-retouch" not in html  # no tools for a viewer
    response = _json_post(client, reverse("cutouts:retouch_preview", args=[c.pk]),
                          {"strokes": []})
    assert response.status_code == 403


def test_it_bulk_approves_from_the_grid(client, cutouts):
    client.force_login(reviewer())
    ids = [c.pk for c in cutouts[:2]]
    response = client.post(reverse("cutouts:review_grid"), {"cutout": ids}, follow=True)
    assert b"Approved 2 cutouts" in response.content
    assert Cutout.objects.filter(review_status="approved").count() == 2


def test_it_lists_the_retouch_queue_and_the_history(client, cutouts):
    user = reviewer()
    client.force_login(user)
    c = cutouts[0]
    client.post(reverse("cutouts:review_card", args=[c.pk]),
                {"action": "flag", "reason": ["halo"], "comment": "fringe"})
    html = client.get(reverse("cutouts:retouch_queue")).content.decode()
    assert "Halo / white fringe" in html and c.asset.product.sku in html
    html = client.get(reverse("cutouts:review_history", args=[c.asset_id])).content.decode()
    assert "Flagged for retouch" in html and "fringe" in html and user.username in html


def test_it_filters_the_queue_page_over_htmx(client, cutouts):
    client.force_login(reviewer())
    sku = cutouts[1].asset.product.sku
    html = client.get(reverse("cutouts:review_queue"), {"product": sku}, **HX).content.decode()
    assert html.lstrip().startswith('<section id="review-queue"')
    assert sku in html and cutouts[0].asset.product.sku not in html


def test_it_sends_start_reviewing_for_the_filtered_queue_with_the_filtered_table(
        client, cutouts):
    """A filter change swaps only #review-queue: "Start reviewing" comes with it out of band,
    on the filtered queue's first row (it kept the unfiltered one until a reload)."""
    client.force_login(reviewer())
    url = reverse("cutouts:review_queue")
    page = client.get(url).content.decode()
    first = _queue_order()[0]
    assert f'id="start-review" href="{reverse("cutouts:review_card", args=[first.pk])}"' in page
    other = next(c for c in cutouts if c.pk != first.pk)
    sku = other.asset.product.sku
    html = client.get(url, {"product": sku}, **HX,
                      HTTP_HX_TARGET="review-queue").content.decode()
    card = reverse("cutouts:review_card", args=[other.pk])
    start = re.search(r'<div id="rv-queue-start" hx-swap-oob="true">.*?</div>', html, re.S)
    assert start, html
    # the filtered card, its filter kept (the card's Next walks the filtered queue)
    assert f'id="start-review" href="{card}?product={sku}"' in start[0]
    # a filter that leaves no row takes the link away (it led into a queue of none)
    html = client.get(url, {"product": "NO-SUCH-SKU"}, **HX,
                      HTTP_HX_TARGET="review-queue").content.decode()
    assert '<div id="rv-queue-start" hx-swap-oob="true"></div>' in html
    assert "start-review" not in html


def test_it_names_each_batch_of_the_filter_with_its_number_and_start(client, cutouts):
    # "Selection: 1 product, 1 image" twice in the list told two batches apart by nothing
    from django.utils import timezone
    from django.utils.dateformat import format as date_format

    from cutouts.models import CutoutBatch

    client.force_login(reviewer())
    html = client.get(reverse("cutouts:review_queue")).content.decode()
    batch = CutoutBatch.objects.get(pk=cutouts[0].batch_id)
    started = date_format(timezone.localtime(batch.created_at), "M j, H:i")
    assert f'<option value="{batch.pk}" >#{batch.pk} {batch} · {started}</option>' in html


def test_it_keeps_a_refused_flag_open_with_its_reasons_ticked_and_the_comment_focused(
        client, cutouts):
    client.force_login(reviewer())
    first = _queue_order()[0]
    html = client.post(reverse("cutouts:review_card", args=[first.pk]),
                       {"action": "flag", "reason": ["halo", "other"]}, **HX).content.decode()
    assert 'data-rv-panel="flag">' in html  # not hidden
    assert 'value="halo" data-rv-key="1" checked' in html
    assert 'value="other" data-rv-key="0" checked' in html
    assert 'value="edges_hard" data-rv-key="2">' in html
    assert "autofocus data-rv-focus" in html
    assert "data-rv-other-hint>" in html  # the hint shows
    first.refresh_from_db()
    assert first.review_status == ReviewStatus.PENDING
    # A card that was not refused opens with the panel closed and nothing ticked.
    html = client.get(reverse("cutouts:review_card", args=[first.pk]), **HX).content.decode()
    assert 'data-rv-panel="flag" hidden>' in html and 'data-rv-key="1" checked' not in html
    assert "data-rv-focus" not in html


def test_it_focuses_the_comment_only_when_other_waits_for_one(client, cutouts):
    """QA 2026-12-06: a flag refused with "Other" ticked focused the comment even when it
    had one, so the next reason keys typed digits into it."""
    client.force_login(reviewer())
    first = _queue_order()[0]
    html = client.post(reverse("cutouts:review_card", args=[first.pk]),
                       {"action": "flag", "reason": ["other", "nope"], "comment": "strap"},
                       **HX).content.decode()
    assert "Unknown flag reason(s): nope" in html
    assert 'value="halo" data-rv-key="1" autofocus data-rv-focus>' in html
    assert html.count("data-rv-focus") == 1
    assert "data-rv-other-hint hidden>" in html


def test_it_gives_each_flag_reason_its_own_digit_key(client, cutouts):
    client.force_login(reviewer())
    first = _queue_order()[0]
    html = client.get(reverse("cutouts:review_card", args=[first.pk]), **HX).content.decode()
    keys = dict(re.findall(r'name="reason" value="(\w+)" data-rv-key="(\d)"', html))
    assert set(keys) == set(FlagReason.values)
    assert sorted(keys.values()) == sorted(str(n % 10) for n in range(1, len(keys) + 1))
    assert keys["part_missing"] == "8" and keys["extra_kept"] == "9" and keys["other"] == "0"
    assert "Part of the product missing" in html and "Background or another object kept" in html
    # a reason a team counts on is stored as itself, not as "Other" with a comment
    client.post(reverse("cutouts:review_card", args=[first.pk]),
                {"action": "flag", "reason": ["part_missing"], "seen": _seen_on(html)}, **HX)
    first.refresh_from_db()
    assert first.review_status == ReviewStatus.FLAGGED
    assert first.flag_reasons == ["part_missing"]


def test_it_keeps_a_refused_flag_open_with_its_ticks_and_comment_without_javascript(
        client, cutouts):
    client.force_login(reviewer())
    first = _queue_order()[0]
    url = reverse("cutouts:review_card", args=[first.pk]) + "?model=u2netp"
    response = client.post(url, {"action": "flag", "reason": ["halo", "other"]})
    # The page again, not a redirect: the form as sent, and 422 for the bad input.
    assert response.status_code == 422
    html = response.content.decode()
    assert html.lstrip().lower().startswith("<!doctype html>") and 'id="review-card"' in html
    assert "Say what is wrong in the comment when the reason is &#x27;Other&#x27;." in html
    assert 'data-rv-panel="flag">' in html  # not hidden
    assert 'value="halo" data-rv-key="1" checked' in html
    assert 'value="other" data-rv-key="0" checked' in html
    assert 'value="edges_hard" data-rv-key="2">' in html
    assert "data-rv-other-hint>" in html and "autofocus data-rv-focus" in html
    assert "model=u2netp" in html  # the queue filters stay on the card's forms
    # No reason ticked: the comment comes back (escaped), the card still open.
    response = client.post(url, {"action": "flag", "comment": "strap <b>halo</b>"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Pick at least one reason to flag a cutout." in html
    assert ">strap &lt;b&gt;halo&lt;/b&gt;</textarea>" in html
    assert 'data-rv-panel="flag">' in html and 'data-rv-key="1" checked' not in html
    first.refresh_from_db()
    assert first.review_status == ReviewStatus.PENDING
    assert not ReviewDecision.objects.filter(cutout=first).exists()
    # Sent right, the plain POST still redirects to the next card.
    response = client.post(url, {"action": "flag", "reason": ["halo", "other"],
                                 "comment": "strap"})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.review_status == ReviewStatus.FLAGGED


def test_it_preselects_the_versions_own_refinement_in_the_rerun_panel(client, cutouts):
    client.force_login(reviewer())
    first = cutouts[0]
    client.post(reverse("cutouts:review_card", args=[first.pk]),
                {"action": "rerun", "model": "u2netp", "shadow": "none", "strength": "strong"},
                **HX)
    new = Cutout.objects.get(asset=first.asset, version=2)
    html = client.get(reverse("cutouts:review_card", args=[new.pk]), **HX).content.decode()
    assert "<option selected>strong</option>" in html
    assert "<option >normal</option>" in html


def test_it_answers_back_and_forward_with_the_whole_page(client, cutouts):
    """htmx restores a card's history entry from the server (the card is hx-history="false"),
    and swaps the answer into the body: it must be the page, not the card alone."""
    client.force_login(reviewer())
    url = reverse("cutouts:review_card", args=[cutouts[0].pk])
    html = client.get(url, HTTP_HX_REQUEST="true",
                      HTTP_HX_HISTORY_RESTORE_REQUEST="true").content.decode()
    assert "<html" in html and 'hx-history="false"' in html
    html = client.get(reverse("cutouts:review_queue"), HTTP_HX_REQUEST="true",
                      HTTP_HX_HISTORY_RESTORE_REQUEST="true").content.decode()
    assert "<html" in html


def test_it_names_flag_reasons_and_preflags_by_their_labels(client, cutouts):
    client.force_login(reviewer())
    c = cutouts[0]
    Cutout.objects.filter(pk=c.pk).update(preflags=["uncertain_edges"])
    url = reverse("cutouts:review_card", args=[c.pk])
    client.post(url, {"action": "preflag_confirm", "preflag": "uncertain_edges"}, **HX)
    client.post(url, {"action": "flag", "reason": ["halo", "edges_hard"], "comment": "x"}, **HX)
    html = client.get(reverse("cutouts:retouch_card", args=[c.pk])).content.decode()
    assert "Flagged: Halo / white fringe, Edges too hard." in html
    assert "edges_hard" not in html
    html = client.get(url).content.decode()  # the card's own history list
    assert "Halo / white fringe, Edges too hard" in html and "uncertain_edges ✓" not in html
    assert "edges_hard" not in html.split('class="rv-audit"')[1]
    html = client.get(reverse("cutouts:review_history", args=[c.asset_id])).content.decode()
    assert "Halo / white fringe, Edges too hard" in html and "Uncertain edges" in html
    assert "uncertain_edges" not in html and "edges_hard" not in html


def test_it_shows_the_flag_comment_and_pages_the_retouch_queue(client, cutouts, monkeypatch):
    from cutouts.views import review as views

    monkeypatch.setattr(views, "PER_PAGE", 2)
    client.force_login(reviewer())
    for i, c in enumerate(cutouts):
        client.post(reverse("cutouts:review_card", args=[c.pk]),
                    {"action": "flag", "reason": ["halo"], "comment": f"fringe at the strap {i}"})
    html = client.get(reverse("cutouts:retouch_queue")).content.decode()
    assert '<span id="rt-queue-count">3</span> flagged for retouch' in html
    assert "fringe at the strap 0" in html and "fringe at the strap 1" in html
    assert "fringe at the strap 2" not in html and "page=2" in html
    html = client.get(reverse("cutouts:retouch_queue"), {"page": "2"}).content.decode()
    assert "fringe at the strap 2" in html and "page=1" in html


def test_it_asks_for_a_tick_before_bulk_approving(client, cutouts):
    client.force_login(reviewer())
    response = client.post(reverse("cutouts:review_grid"), {}, follow=True)
    assert b"Tick at least one cutout to approve." in response.content
    assert b"Approved 0" not in response.content


def test_it_tells_a_user_without_a_role_to_ask_for_one(client, cutouts):
    _login(client, "norole")
    response = client.get(reverse("cutouts:review_queue"))
    assert response.status_code == 403
    html = response.content.decode()
    assert html.count("Your account has no role yet: ask an administrator to give you the "
                      "catalog manager or reviewer role.") == 1
    assert "view_catalog" not in html
    # Said once: no second "ask", and no way back to a dashboard that refuses them too.
    assert "Ask a catalog manager" not in html and "Back to the dashboard" not in html


def test_it_sends_a_user_whose_role_does_not_allow_a_page_back_to_the_dashboard(client):
    client.force_login(reviewer())
    response = client.get(reverse("cutouts:export_list"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "Only catalog managers can export images." in html
    assert "Your account has no role yet" not in html
    assert "Ask a catalog manager if you need this." in html
    assert f'<a href="{reverse("dashboard")}">Back to the dashboard</a>' in html


def test_it_ends_a_failed_versions_error_with_one_full_stop(client, cutouts):
    client.force_login(reviewer())
    c = cutouts[0]
    Cutout.objects.filter(pk=c.pk).update(
        status=JobStatus.FAILED,
        error="The PNG is fully opaque; a cutout needs a transparent background.")
    html = client.get(reverse("cutouts:review_card", args=[c.pk])).content.decode()
    assert "transparent background. Choose another version" in html
    Cutout.objects.filter(pk=c.pk).update(error="worker lost")
    html = client.get(reverse("cutouts:review_card", args=[c.pk])).content.decode()
    assert "worker lost. Choose another version" in html


def test_it_reruns_from_the_card_with_another_profile(client, cutouts):
    client.force_login(reviewer())
    first = cutouts[0]
    url = reverse("cutouts:review_card", args=[first.pk])
    html = client.get(url, **HX).content.decode()
    assert ('<select name="profile" data-rv-profile data-rv-own="fast"><option value=""'
            in html)
    assert '<option value="soft" data-tta="1" data-strength="normal">' in html
    client.post(url, {"action": "rerun", "model": "u2netp", "shadow": "none",
                      "strength": "normal", "profile": "soft"}, **HX)
    new = Cutout.objects.get(asset=first.asset, version=2)
    assert (new.profile, new.settings["band"]) == ("soft", True)


def test_it_focuses_the_reasons_of_a_flag_refused_for_having_none(client, cutouts):
    client.force_login(reviewer())
    first = _queue_order()[0]
    html = client.post(reverse("cutouts:review_card", args=[first.pk]),
                       {"action": "flag", "comment": "edge"}, **HX).content.decode()
    # the first reason takes the focus, not the comment (the reason keys would type digits there)
    assert 'value="halo" data-rv-key="1" autofocus data-rv-focus>' in html
    assert html.count("data-rv-focus") == 1
    # the error sits in the open panel, next to the reasons it is about
    panel = html[html.index('data-rv-panel="flag"'):html.index('data-rv-panel="rerun"')]
    assert "Pick at least one reason" in panel and 'class="msg msg-error rv-error"' in panel


def test_it_gives_the_marketplace_view_an_address_per_preset_spec(client, cutouts):
    from cutouts.models import Preset

    client.force_login(reviewer())
    url = reverse("cutouts:review_card", args=[cutouts[0].pk])
    first = client.get(url, **HX).content.decode()
    Preset.objects.filter(name="amazon_main").update(
        spec="trim|fill-70|square-2000|bg-ffffff|format-jpeg")
    second = client.get(url, **HX).content.decode()
    market = reverse("cutouts:review_image", args=[cutouts[0].pk, "market"])

    def src(html):
        start = html.index(market)
        return html[start:html.index('"', start)]

    assert "?spec=" in src(first) and src(first) != src(second)


def test_it_names_images_one_way_and_stacks_the_retouch_queue_on_phones(client, cutouts):
    user = reviewer()
    client.force_login(user)
    from cutouts.services import review as review_services

    cutout = cutouts[0]
    review_services.cutout_flag(cutout=cutout, user=user, reasons=["halo"])
    html = client.get(reverse("cutouts:retouch_queue")).content.decode()
    assert 'class="table stack' in html and 'data-label="Reasons"' in html
    sku = cutout.asset.product.sku
    assert f"{sku} · MAIN" in html and "· main" not in html
    html = client.get(reverse("cutouts:retouch_card", args=[cutout.pk])).content.decode()
    assert f"Retouch {sku} · MAIN" in html


def test_it_marks_the_queued_retouch_message_for_the_card_to_replace(client, cutouts):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(reviewer())
    cutout = cutouts[0]
    png = SimpleUploadedFile("fixed.png", rgba_png(640, 480), content_type="image/png")
    response = client.post(reverse("cutouts:retouch_card", args=[cutout.pk]),
                           {"action": "upload", "png": png}, follow=True)
    html = response.content.decode()
    # review.js finds it by this class once the card polls the version done
    assert 'class="msg msg-rv-queued msg-success success">Version 2 is queued' in html


def test_it_labels_retouch_versions_and_batches_for_the_admin():
    from cutouts.models import CutoutBatch

    # strokes and uploads both make a retouch version: the label claims neither alone
    assert Cutout.Source.RETOUCH.label == "Retouch (strokes or upload)"
    assert CutoutBatch._meta.verbose_name_plural == "cutout batches"


def test_it_tells_retouch_strokes_from_an_uploaded_retouch_in_the_admin_list():
    from django.contrib import admin as django_admin

    from cutouts.admin import CutoutAdmin

    made_by = CutoutAdmin(Cutout, django_admin.site).made_by
    assert made_by(Cutout(source=Cutout.Source.RETOUCH, upload_name="fixed.png")) == (
        "uploaded retouch")
    assert made_by(Cutout(source=Cutout.Source.RETOUCH)) == "retouch strokes"
    assert made_by(Cutout(source=Cutout.Source.MODEL)) == "Model"


def test_it_says_an_approval_answers_the_rerun_still_running(client, cutouts):
    client.force_login(reviewer())
    v1 = _queue_order()[0]
    url = reverse("cutouts:review_card", args=[v1.pk])
    client.post(url, {"action": "rerun", "tta": "on", "shadow": "none", "strength": "normal"},
                **HX)
    v2 = Cutout.objects.get(asset=v1.asset, version=2)
    html = client.post(url, {"action": "approve"}, **HX).content.decode()
    title = f"{v1.asset.product.sku} · MAIN"
    assert (f"Approved {title} v1. v2 (not finished yet) will finish superseded, so it will "
            "not come back for review; choose it from v1&#x27;s version list") in html
    from cutouts.services import runs

    assert runs.cutout_run(cutout_id=v2.pk) == "done"
    v1.refresh_from_db(), v2.refresh_from_db()
    assert v1.is_current and v2.review_status == ReviewStatus.SUPERSEDED
    queue = client.get(reverse("cutouts:review_queue")).content.decode()
    assert f'data-cutout="{v2.pk}"' not in queue
    # without JavaScript the same words come as a message on the next card
    client.post(url, {"action": "rerun", "shadow": "keep", "strength": "normal"})
    assert Cutout.objects.get(asset=v1.asset, version=3).status == JobStatus.QUEUED
    page = client.post(url, {"action": "approve"}, follow=True).content.decode()
    assert f"Approved {title} v1. v3 (not finished yet) will finish superseded" in page


def test_it_bulk_approves_one_version_per_image_and_says_why(client, make_assets, fake_model):
    [v1] = done_cutouts(make_assets(1))
    [v2] = done_cutouts([v1.asset])
    client.force_login(reviewer())
    page = client.post(reverse("cutouts:review_grid"), {"cutout": [v1.pk, v2.pk]},
                       follow=True).content.decode()
    assert "Approved 1 cutout." in page
    assert ("1 older version not approved: a newer selected version of the same image was "
            "approved (one approval per image).") in page
    assert list(Cutout.objects.filter(review_status="approved")) == [v2]


def test_it_says_apart_which_bulk_selections_were_decided_and_which_deleted(
        client, make_assets, fake_model):
    from django.utils import timezone

    from catalog.models import ImageAsset

    a, b, c = done_cutouts(make_assets(3))
    client.force_login(reviewer())
    client.post(reverse("cutouts:review_card", args=[b.pk]), {"action": "approve"})
    ImageAsset.objects.filter(pk=c.asset_id).update(deleted_at=timezone.now())
    page = client.post(reverse("cutouts:review_grid"), {"cutout": [a.pk, b.pk, c.pk]},
                       follow=True).content.decode()
    assert "Approved 1 cutout." in page
    assert "1 not approved: no longer awaiting review." in page
    assert "1 not approved: its image or product was deleted." in page


def test_it_shows_key_hints_only_on_the_card_where_the_keys_work(client, cutouts):
    client.force_login(reviewer())
    queue = client.get(reverse("cutouts:review_queue")).content.decode()
    assert 'id="start-review"' in queue and "Keys:" not in queue and "<kbd>" not in queue
    card = client.get(reverse("cutouts:review_card", args=[cutouts[0].pk])).content.decode()
    assert "<kbd>A</kbd> Approve" in card


def test_it_warns_on_the_card_and_grid_that_export_will_leave_a_small_product_out(
        client, cutouts):
    # a 112x107 px product of an 854x480 photo, no pre-flag, bulk-approved, then left out
    # of amazon_main, shopify, google_shopping and walmart for an enlargement over 8x
    client.force_login(reviewer())
    small, old, dismissed = cutouts
    # the product's two boxes, as export measures them (compliance.export_signals)
    size = {"product_px": [112, 107], "product_fill_px": [112, 107]}
    for c, signals, flags in (
            (small, {**small.signals, **size}, ["too_small_for_export"]),
            # computed before the signal: its stored box (full size) tells
            (old, {k: v for k, v in old.signals.items() if k not in size}, []),
            # the reviewer dismissed the pre-flag: the card stops telling
            (dismissed, {**dismissed.signals, **size}, [])):
        Cutout.objects.filter(pk=c.pk).update(signals=signals, preflags=flags,
                                              bbox=[300, 200, 412, 307])
    html = client.get(reverse("cutouts:review_card", args=[small.pk])).content.decode()
    warning = html.split('class="msg msg-warning rv-export-size"')[1].split("</p>")[0]
    assert "the product is 112 px wide" in warning and "Walmart 233 px" in warning
    # which marketplace needs what, the least need first (QA qa41a)
    assert "Google Shopping needs at least " in warning and "marketplace images need" not in warning
    assert "8× enlargement limit" in warning
    for label in ("Amazon main image", "Walmart", "Shopify", "Google Shopping"):
        assert label in warning
    html = client.get(reverse("cutouts:review_card", args=[old.pk])).content.decode()
    assert "rv-export-size" in html and "the product is 112 px wide" in html
    html = client.get(reverse("cutouts:review_card", args=[dismissed.pk])).content.decode()
    assert "rv-export-size" not in html
    # a product export takes (the fake model keeps half of a 640x480 photo) is not warned about
    Cutout.objects.filter(pk=old.pk).update(bbox=[160, 120, 480, 360])
    html = client.get(reverse("cutouts:review_card", args=[old.pk])).content.decode()
    assert "rv-export-size" not in html
    # the grid, where bulk approval happens, says it on the tile
    html = client.get(reverse("cutouts:review_grid")).content.decode()
    tiles = html.split('class="rv-tile"')[1:]
    assert sum("Export will leave it out" in t for t in tiles) == 1
    assert "Export will leave it out" in next(t for t in tiles if f'value="{small.pk}"' in t)


def test_it_names_only_the_marketplace_a_small_product_falls_short_of(client, cutouts):
    """QA qa41a (2026-12-06): a 240 px product read "marketplace images need at least 263 px"
    although only Etsy needs that; Walmart's need (233 px) passes it."""
    from cutouts.variants.compliance import export_size

    client.force_login(reviewer())
    small = cutouts[0]
    size = {"product_px": [240, 120], "product_fill_px": [240, 120]}
    short = export_size(240, 120)
    assert short is not None and short.refused_labels == ("Etsy",)
    Cutout.objects.filter(pk=small.pk).update(signals={**small.signals, **size},
                                              preflags=["too_small_for_export"])
    html = client.get(reverse("cutouts:review_card", args=[small.pk])).content.decode()
    warning = html.split('class="msg msg-warning rv-export-size"')[1].split("</p>")[0]
    assert (f"the product is 240 px wide; Etsy needs at least {short.needed_px} px (8× "
            "enlargement limit). Export will leave it out of Etsy.") in warning, warning
    assert "Walmart" not in warning and "marketplace images" not in warning


def test_it_keeps_an_htmx_apply_on_the_retouch_page_and_polls_the_new_version(client, cutouts):
    client.force_login(reviewer())
    c = cutouts[0]
    strokes = [{"kind": "remove", "radius": 4, "points": [[20, 20]]}]
    response = client.post(reverse("cutouts:retouch_card", args=[c.pk]) + "?brand=x",
                           {"action": "strokes", "strokes": json.dumps(strokes)}, **HX)
    new = Cutout.objects.get(asset=c.asset, version=2)
    assert response.status_code == 200
    # The page's body for the new version (no base template), at its own address, which
    # replaces v1's as the card's Apply does: Back does not add a step back to v1
    assert response["HX-Replace-Url"] == (reverse("cutouts:retouch_card", args=[new.pk])
                                          + "?brand=x")
    assert "HX-Push-Url" not in response
    html = response.content.decode()
    assert "<html" not in html and 'id="retouch-main"' in html
    assert f'data-cutout="{new.pk}"' in html and "data-rt-applying" in html
    assert "Applying 1 stroke as version 2" in html
    # It polls itself until the worker is done, and undo is a link to the version before.
    assert 'hx-trigger="every 1s"' in html
    assert f'href="{reverse("cutouts:retouch_card", args=[c.pk])}?brand=x"' in html

    new.status = JobStatus.DONE
    new.rgba_name = c.rgba_name
    new.save(update_fields=["status", "rgba_name"])
    html = client.get(reverse("cutouts:retouch_card", args=[new.pk]), **HX).content.decode()
    assert 'hx-trigger="every 1s"' not in html and "data-rt-applying" not in html
    assert "data-retouch" in html and 'hx-target="#retouch-main"' in html
    assert "Back to v1" in html and "data-rt-parent-link" in html


def test_it_redirects_a_retouch_page_apply_without_htmx_and_refuses_bad_strokes_in_place(
        client, cutouts):
    client.force_login(reviewer())
    c = cutouts[0]
    url = reverse("cutouts:retouch_card", args=[c.pk])
    strokes = json.dumps([{"kind": "keep", "radius": 4, "points": [[320, 240]]}])
    response = client.post(url, {"action": "strokes", "strokes": strokes})
    new = Cutout.objects.get(asset=c.asset, version=2)
    assert response.status_code == 302
    assert response["Location"] == reverse("cutouts:review_card", args=[new.pk])
    # htmx: refused with the reason and nothing swapped (retouch.js shows it, strokes kept).
    response = client.post(url, {"action": "strokes", "strokes": "[{]"}, **HX)
    assert response.status_code == 422
    assert "The strokes are not valid JSON" in response.content.decode()
    assert Cutout.objects.filter(asset=c.asset).count() == 2


def test_it_warns_of_inexact_colours_on_the_card_where_the_approval_is_made(client, cutouts):
    client.force_login(reviewer())
    cutout = cutouts[0]
    url = reverse("cutouts:review_card", args=[cutout.pk])
    assert "data-colour-note" not in client.get(url).content.decode()
    note = "Untagged CMYK: converted with a generic profile; colours are approximate."
    asset = cutout.asset
    asset.colour_note, asset.colour_flagged = note, True
    asset.save(update_fields=["colour_note", "colour_flagged"])
    html = client.get(url).content.decode()
    assert "data-colour-note" in html and "Check the colours:</b> " + note in html
    # a note that is only informative (nothing to check) stays on the product page
    asset.colour_flagged = False
    asset.save(update_fields=["colour_flagged"])
    assert "data-colour-note" not in client.get(url).content.decode()


def test_it_says_on_the_next_card_what_was_decided_on_the_last(client, cutouts):
    client.force_login(reviewer())
    first, second = _queue_order()[:2]
    html = client.post(reverse("cutouts:review_card", args=[first.pk]),
                       {"action": "approve"}, **HX).content.decode()
    assert f'data-cutout="{second.pk}"' in html  # the next card...
    said = f"Approved {first.asset.product.sku} · MAIN v1."
    assert 'class="msg msg-success rv-note" role="status">' + said in html  # ...says so
    html = client.post(reverse("cutouts:review_card", args=[second.pk]),
                       {"action": "flag", "reason": "halo"}, **HX).content.decode()
    assert f"Flagged for retouch: {second.asset.product.sku} · MAIN v1." in html
    # without JavaScript, as a message on the card the redirect opens
    third = _queue_order()[0]
    page = client.post(reverse("cutouts:review_card", args=[third.pk]), {"action": "approve"},
                       follow=True).content.decode()
    assert f"Approved {third.asset.product.sku} · MAIN v1." in page


def test_it_says_how_long_a_pending_version_has_waited_and_run(client, cutouts):
    """A 40-60 s Apply on a big photo showed only a spinner."""
    from datetime import timedelta

    from django.utils import timezone

    from cutouts.templatetags.review_tags import waited

    client.force_login(reviewer())
    c = cutouts[0]
    strokes = [{"kind": "remove", "radius": 6, "points": [[20, 20]]}]
    client.post(reverse("cutouts:review_card", args=[c.pk]),
                {"action": "strokes", "strokes": json.dumps(strokes)}, **HX)
    new = Cutout.objects.get(asset=c.asset, version=2)
    seven_ago = timezone.now() - timedelta(seconds=7)
    Cutout.objects.filter(pk=new.pk).update(created_at=seven_ago, enqueued_at=seven_ago)
    card = client.get(reverse("cutouts:review_card", args=[new.pk]), **HX).content.decode()
    assert "<span data-rv-waited>7 s</span>" in card or "<span data-rv-waited>8 s</span>" in card
    Cutout.objects.filter(pk=new.pk).update(
        status=JobStatus.RUNNING, started_at=timezone.now() - timedelta(seconds=75))
    page = client.get(reverse("cutouts:retouch_card", args=[new.pk])).content.decode()
    assert "<span data-rt-waited>1 min 15 s</span>" in page or \
        "<span data-rt-waited>1 min 16 s</span>" in page, page[:3000]
    new.refresh_from_db()
    new.started_at = None
    assert waited(new) == waited(Cutout(created_at=new.created_at, status="queued"))
    # a retry re-queues the row: its wait counts from then, not from its creation
    new.enqueued_at = timezone.now() - timedelta(seconds=3)
    assert waited(new) in ("3 s", "4 s")


def test_it_answers_the_pending_notes_poll_with_the_note_then_swaps_the_whole_page_once(
        client, cutouts):
    """While a version runs only its pending note polls (hx-select of the note) and the stage
    and percent sit in one live region outside it; the poll that finds it finished is told
    to swap the whole card (or retouch page) instead. Other GETs are answered as before."""
    import re

    from cutouts.imaging import progress
    from cutouts.services import runs

    client.force_login(reviewer())
    first = cutouts[0]
    # a setting changed: the card refuses a re-run that changes nothing (QA40 L3)
    client.post(reverse("cutouts:review_card", args=[first.pk]),
                {"action": "rerun", "strength": "strong"}, **HX)
    new = Cutout.objects.get(asset=first.asset, version=2)
    token = runs._claim(new.pk, "w1:1")
    runs.RunProgress(new.pk, token)(progress.REFINING, 0.52)
    pages = [(reverse("cutouts:review_card", args=[new.pk]), "rv", "#review-card"),
             (reverse("cutouts:retouch_card", args=[new.pk]), "rt", "#retouch-main")]
    for url, p, _whole in pages:
        poll = {**HX, "HTTP_HX_TARGET": f"{p}-pending-note"}
        response = client.get(url, **poll)
        html = response.content.decode()
        assert "HX-Retarget" not in response and "HX-Reswap" not in response
        note = re.search(rf'<span id="{p}-pending-note"[^>]*>', html)
        assert note, html[:3000]
        for attr in ('hx-trigger="every 1s"', f'hx-select="#{p}-pending-note"',
                     'hx-swap="outerHTML"', 'data-said="Refining edges, 52 %"'):
            assert attr in note.group(0), note.group(0)
        # The whole page no longer polls: only the note does.
        assert html.count("every 1s") == 1
        assert 'aria-valuetext="Refining edges, 52 %"' in html
        # One live region, with only the stage and percent (not the ticking seconds).
        assert '<span role="status" data-pending-said>Refining edges, 52 %</span>' in html
        assert html.count('role="status"') == 1 + html.count('rv-note" role="status"')

    assert runs._cutout_execute(new.pk, token) == "done"
    for url, p, whole in pages:
        response = client.get(url, **{**HX, "HTTP_HX_TARGET": f"{p}-pending-note"})
        assert response["HX-Retarget"] == whole and response["HX-Reswap"] == "outerHTML"
        assert response["HX-Reselect"] == whole
        assert f'id="{whole[1:]}"' in response.content.decode()
        assert "pending-note" not in response.content.decode()
        # Not the note's poll (a version link, Apply's answer): no retargeting.
        plain = client.get(url, **HX)
        assert "HX-Retarget" not in plain and "HX-Reselect" not in plain


def test_it_calls_the_parent_of_a_queued_rerun_the_newest_finished_once(
        client, make_assets, fake_model):
    [v1] = done_cutouts(make_assets(1))
    v2 = review.cutout_review_rerun(cutout=v1, user=reviewer())
    client.force_login(reviewer())
    card = client.get(reverse("cutouts:review_card", args=[v1.pk])).content.decode()
    versions = card.split('class="rv-versions')[1].split("</ul>")[0]
    row1 = versions.split('data-version="1"')[1].split("</li>")[0]
    row2 = versions.split(f'data-version="{v2.version}"')[1].split("</li>")[0]
    # it used to read "replaced by a newer run" and "newest" at once while v2 was queued
    assert "replaced by a newer run" not in row1
    assert row1.count("newest") == 1 and ">newest finished<" in row1
    assert ">queued<" in row2 and "newest" not in row2


def _seen_on(html: str) -> str:
    """The state the card's Approve sends (the first `seen` of the card: all say the same)."""
    return re.search(r'data-rv-form="approve">.*?name="seen" value="([^"]+)"', html,
                     re.S).group(1)


def test_it_sends_the_state_the_card_was_drawn_with_in_every_decision_form(client, cutouts):
    client.force_login(reviewer())
    c = cutouts[0]
    Cutout.objects.filter(pk=c.pk).update(preflags=["halo_risk"])
    html = client.get(reverse("cutouts:review_card", args=[c.pk])).content.decode()
    # status : review revision : the image's newest version
    assert _seen_on(html) == "pending:0:1"
    # approve, flag, re-run, the pre-flag's answers (one form), the retouch tools (hx-vals)
    assert html.count('name="seen" value="pending:0:1"') == 4
    assert "hx-vals='{\"seen\": \"pending:0:1\"}'" in html


def test_it_refuses_a_stale_htmx_approval_and_shows_the_card_as_it_is_now(client, cutouts):
    first = _queue_order()[0]
    url = reverse("cutouts:review_card", args=[first.pk])
    rev1, rev2 = reviewer(username="rev1"), reviewer(username="rev2")
    client.force_login(rev2)
    seen = _seen_on(client.get(url).content.decode())  # rev2 opens the card
    client.force_login(rev1)
    client.post(url, {"action": "flag", "reason": "wrong_subject", "seen": seen}, **HX)
    client.force_login(rev2)
    response = client.post(url, {"action": "approve", "seen": seen}, **HX)
    assert response.status_code == 200
    assert response["HX-Push-Url"] == url
    html = response.content.decode()
    assert html.lstrip().startswith(f'<section id="review-card" class="card rv-card" '
                                    f'hx-history="false" data-cutout="{first.pk}"')
    assert 'data-review-status="flagged"' in html
    assert 'class="msg msg-error rv-error" role="alert">rev1 flagged v1 for retouch at ' in html
    assert "(Wrong subject) after you opened it, so your approval was not applied." in html
    first.refresh_from_db()
    assert first.review_status == ReviewStatus.FLAGGED and not first.is_current
    assert not ReviewDecision.objects.filter(action="approve").exists()
    # a stale flag (after rev1's approval of another card) does not reopen the flag panel
    other = _queue_order()[0]
    other_url = reverse("cutouts:review_card", args=[other.pk])
    seen = _seen_on(client.get(other_url).content.decode())
    review.cutout_approve(cutout=other, user=rev1)
    html = client.post(other_url, {"action": "flag", "reason": "halo", "seen": seen},
                       **HX).content.decode()
    assert "rev1 approved v1 at" in html and "so your flag was not applied" in html
    assert 'data-rv-panel="flag" hidden' in html


def test_it_redirects_a_stale_plain_approval_to_the_card_with_the_refusal(client, cutouts):
    first = _queue_order()[0]
    url = reverse("cutouts:review_card", args=[first.pk]) + "?model=u2netp"
    client.force_login(reviewer())
    seen = _seen_on(client.get(url).content.decode())
    review.cutout_flag(cutout=first, user=reviewer(username="rev1"), reasons=["halo"])
    response = client.post(url, {"action": "approve", "seen": seen})
    assert response.status_code == 302 and response["Location"] == url
    page = client.get(url).content.decode()
    assert "rev1 flagged v1 for retouch at" in page and "your approval was not applied" in page
    first.refresh_from_db()
    assert first.review_status == ReviewStatus.FLAGGED


def test_it_offers_undo_after_a_decision_and_undoes_it_over_htmx(client, cutouts):
    user = reviewer()
    client.force_login(user)
    first, second = _queue_order()[:2]
    url = reverse("cutouts:review_card", args=[first.pk])
    html = client.post(url, {"action": "approve", "seen": "pending:0"}, **HX).content.decode()
    assert f'data-cutout="{second.pk}"' in html
    approval = ReviewDecision.objects.get(action="approve")
    assert 'id="rv-undo"' in html and 'form="rv-undo-form"' in html
    assert f'name="decision" value="{approval.pk}"' in html and f'hx-post="{url}"' in html
    response = client.post(url, {"action": "undo", "decision": approval.pk}, **HX)
    assert response["HX-Push-Url"] == url
    html = response.content.decode()
    assert f'data-cutout="{first.pk}"' in html
    assert f"Undone: {first.asset.product.sku} · MAIN v1 is awaiting review again." in html
    assert f"<title>Review {first.asset.product.sku} · MAIN v1 · Cutroom</title>" in html
    first.refresh_from_db()
    assert first.review_status == ReviewStatus.PENDING and not first.is_current
    assert list(ReviewDecision.objects.order_by("pk").values_list("action", flat=True)) == [
        "approve", "undo"]
    # the Undo of the queue's last decision sits on the empty queue too
    for c in _queue_order()[:-1]:
        client.post(reverse("cutouts:review_card", args=[c.pk]), {"action": "approve"}, **HX)
    last = _queue_order()[0]
    html = client.post(reverse("cutouts:review_card", args=[last.pk]), {"action": "flag",
                       "reason": "halo"}, **HX).content.decode()
    assert "Queue empty" in html and 'id="rv-undo"' in html
    assert "<title>Review · Cutroom</title>" in html


def test_it_refuses_an_undo_after_someone_decided_since(client, cutouts):
    first = _queue_order()[0]
    url = reverse("cutouts:review_card", args=[first.pk])
    client.force_login(reviewer())
    client.post(url, {"action": "approve"}, **HX)
    approval = ReviewDecision.objects.get(action="approve")
    review.cutout_flag(cutout=first, user=reviewer(username="rev1"), reasons=["halo"])
    html = client.post(url, {"action": "undo", "decision": approval.pk}, **HX).content.decode()
    assert "rev1 flagged v1 for retouch at" in html and "your undo was not applied" in html
    first.refresh_from_db()
    assert first.review_status == ReviewStatus.FLAGGED
    # without htmx: a redirect to the card, the refusal as a message
    response = client.post(url, {"action": "undo", "decision": approval.pk})
    assert response.status_code == 302 and response["Location"] == url


def test_it_names_the_card_shown_in_the_title_of_an_htmx_swap(client, cutouts):
    client.force_login(reviewer())
    first, second = _queue_order()[:2]
    page = client.get(reverse("cutouts:review_card", args=[first.pk])).content.decode()
    sku = first.asset.product.sku
    assert page.count("<title>") == 1 and f"<title>Review {sku} · MAIN v1 · Cutroom</title>" in page
    html = client.post(reverse("cutouts:review_card", args=[first.pk]), {"action": "approve"},
                       **HX).content.decode()
    assert html.rstrip().endswith(
        f"<title>Review {second.asset.product.sku} · MAIN v1 · Cutroom</title>")
    # Next / Previous swaps too
    html = client.get(reverse("cutouts:review_card", args=[first.pk]), **HX).content.decode()
    assert html.count("<title>") == 1 and f"<title>Review {sku} · MAIN v1" in html


def test_it_replaces_the_address_with_the_new_version_after_an_apply_on_the_card(client,
                                                                                 cutouts):
    client.force_login(reviewer())
    c = cutouts[0]
    url = reverse("cutouts:review_card", args=[c.pk])
    strokes = [{"kind": "remove", "radius": 4, "points": [[20, 20]]}]
    response = client.post(url, {"action": "strokes", "strokes": json.dumps(strokes),
                                 "seen": _seen_on(client.get(url).content.decode())}, **HX)
    new = Cutout.objects.get(asset=c.asset, version=2)
    # replaced, not pushed: Back and Reload never bring v1's card back in its place
    assert response["HX-Replace-Url"] == reverse("cutouts:review_card", args=[new.pk])
    assert "HX-Push-Url" not in response
    assert f'data-cutout="{new.pk}"' in response.content.decode()


def test_it_offers_an_older_version_only_the_explicit_choice_naming_the_current_one(
        client, cutouts):
    client.force_login(reviewer())
    v1 = cutouts[0]
    strokes = [{"kind": "remove", "radius": 4, "points": [[20, 20]]}]
    client.post(reverse("cutouts:review_card", args=[v1.pk]),
                {"action": "strokes", "strokes": json.dumps(strokes)}, **HX)
    v2 = Cutout.objects.get(asset=v1.asset, version=2)
    Cutout.objects.filter(pk=v2.pk).update(status=JobStatus.DONE)  # the worker's part
    url = reverse("cutouts:review_card", args=[v1.pk])
    html = client.get(url).content.decode()
    assert "v2 is the current version (awaiting review)." in html
    assert f'href="{reverse("cutouts:review_card", args=[v2.pk])}"' in html
    assert 'id="rv-approve"' not in html and 'value="approve"' not in html
    form = html.split('data-rv-form="approve"')[1].split("</form>")[0]
    assert 'value="choose"' in form and "Use this version instead of v2" in form
    assert 'data-confirm="Use v1 instead of v2? ' in html
    response = client.post(url, {"action": "choose", "seen": _seen_on(html)}, **HX)
    assert "Version 1 is current." in response.content.decode()
    v1.refresh_from_db(), v2.refresh_from_db()
    assert v1.is_current and v2.review_status == ReviewStatus.SUPERSEDED
    # v2's card, now the older one, says v1 is the current version
    html = client.get(reverse("cutouts:review_card", args=[v2.pk])).content.decode()
    assert "v1 is the current version (approved)." in html


def test_it_names_the_newer_version_on_the_retouch_page_of_a_stale_flag(client, cutouts,
                                                                        make_assets):
    from cutouts.services import batches

    client.force_login(reviewer())
    v1 = cutouts[0]
    review.cutout_flag(cutout=v1, user=reviewer(username="rev1"), reasons=["halo"])
    v2 = batches.cutout_batch_start(assets=[v1.asset], profile_name="fast",
                                    recut=True).cutouts.get()
    html = client.get(reverse("cutouts:retouch_card", args=[v1.pk])).content.decode()
    assert "v2 is the current version (queued)." in html
    assert f'href="{reverse("cutouts:review_card", args=[v2.pk])}"' in html
    assert f'/cutouts/review/retouch/{v1.pk}/' not in client.get(
        reverse("cutouts:retouch_queue")).content.decode()


def _approve_then_cut_again(v1):
    """v1 approved, then a manager's "Cut again" (no review decision) made and ran v2."""
    from cutouts.services import batches, runs

    review.cutout_approve(cutout=v1, user=reviewer(username="rev1"))
    v2 = batches.cutout_batch_start(assets=[v1.asset], profile_name="fast",
                                    recut=True).cutouts.get()
    assert runs.cutout_run(cutout_id=v2.pk) == "done"
    return Cutout.objects.get(pk=v2.pk)


def test_it_lists_a_flag_on_a_version_cut_after_the_approved_one_with_what_ships(client,
                                                                                cutouts):
    client.force_login(reviewer())
    v2 = _approve_then_cut_again(cutouts[0])
    url = reverse("cutouts:review_card", args=[v2.pk])
    response = client.post(url, {"action": "flag", "reason": ["halo"],
                                 "seen": _seen_on(client.get(url).content.decode())}, **HX)
    assert f"Flagged for retouch: {v2.asset.product.sku}" in response.content.decode()
    html = client.get(reverse("cutouts:retouch_queue")).content.decode()
    row = html.split(f'data-cutout="{v2.pk}"')[1].split("</tr>")[0]
    assert "v1 is approved and ships; a retouch makes a new version to review" in row
    assert '<span id="rt-queue-count">1</span>' in html
    page = client.get(reverse("cutouts:retouch_card", args=[v2.pk])).content.decode()
    assert "v1 is approved and ships; a retouch makes a new version to review." in page
    # the dashboard's retouch number is the queue's, though the image reads Approved
    dashboard = client.get(reverse("dashboard")).content.decode()
    chip = dashboard.split('id="dashboard-to-retouch"')[1].split("</a>")[0]
    assert "To retouch <b>1</b>" in chip
    assert f'href="{reverse("cutouts:retouch_queue")}"' in dashboard


def test_it_says_a_superseded_newer_version_was_set_aside_for_the_chosen_one(client,
                                                                           cutouts):
    from cutouts.services import batches, runs

    client.force_login(reviewer())
    v1 = cutouts[0]
    v2 = batches.cutout_batch_start(assets=[v1.asset], profile_name="fast",
                                    recut=True).cutouts.get()
    runs.cutout_run(cutout_id=v2.pk)
    other = reviewer(username="rev1")
    review.cutout_choose(cutout=v1, user=other)
    html = client.get(reverse("cutouts:review_card", args=[v2.pk])).content.decode()
    note = html.split('class="msg msg-warning rv-replaced"')[1].split("</p>")[0]
    assert "v1 was chosen over this version (v2)" in note
    assert "older version" not in note
    # flagged from its card, it is a request for a better version: the retouch queue has it
    review.cutout_flag(cutout=Cutout.objects.get(pk=v2.pk), user=other, reasons=["halo"])
    html = client.get(reverse("cutouts:retouch_queue")).content.decode()
    assert f'data-cutout="{v2.pk}"' in html and 'data-ships="1"' in html


def test_it_sends_no_store_on_the_queues_the_card_and_the_retouch_page(client, cutouts):
    client.force_login(reviewer())
    c = cutouts[0]
    for url in (reverse("cutouts:review_queue"), reverse("cutouts:retouch_queue"),
                reverse("cutouts:review_grid"), reverse("cutouts:review_card", args=[c.pk]),
                reverse("cutouts:retouch_card", args=[c.pk])):
        for extra in ({}, HX):
            response = client.get(url, **extra)
            assert response.status_code == 200, url
            assert "no-store" in response["Cache-Control"], url


def test_it_tells_the_fix_of_the_reasons_ticked_after_a_flag(client, cutouts):
    """QA40 L2: halo + part missing was told the route of "another object kept" (click the
    other object with Remove); each reason's own touches, combined."""
    client.force_login(reviewer())
    first = _queue_order()[0]
    url = reverse("cutouts:review_card", args=[first.pk])
    before = client.get(url, **HX).content.decode()
    answer = html.unescape(client.post(url, {
        "action": "flag", "reason": ["halo", "part_missing"], "seen": _seen_on(before)},
        **HX).content.decode())
    assert ("To fix it in Retouch: click the missing part with Keep (it brings back the object "
            "it lands on); then paint the white fringe with Detail; or Re-run it from its "
            "card.") in answer
    assert "Remove" not in answer.split("Flagged for retouch:", 1)[1].split("</", 1)[0]
    # the card's hint, opened again, has no other object to remove either
    hint = re.search(r'<p class="msg msg-warning rv-subject-hint"[^>]*>(.*?)</p>',
                     client.get(url, **HX).content.decode(), re.S)
    assert hint and "Part missing" in hint.group(1) and "Remove" not in hint.group(1)


def test_it_tells_the_route_out_of_a_wrong_subject_once_flagged(client, cutouts):
    """QA31 M3: a version flagged "Wrong subject" tells which touches fix a whole wrong region
    (a keep click on the product, a remove click inside the other object) and what Re-run can
    offer, on its card (htmx partial and page) and on its retouch page."""
    client.force_login(reviewer())
    first = _queue_order()[0]
    url = reverse("cutouts:review_card", args=[first.pk])
    before = client.get(url, **HX).content.decode()
    assert "data-subject-hint" not in before
    answer = client.post(url, {"action": "flag", "reason": ["wrong_subject"],
                               "seen": _seen_on(before)}, **HX).content.decode()
    # the flag moves on to the next card, whose note says the route in one line (QA31b #3)
    assert "Flagged for retouch:" in answer
    assert ("To fix it in Retouch: click the product with Keep, then the other object with "
            "Remove, well inside it") in answer
    # the flagged one, opened again, says the route
    html = client.get(url, **HX).content.decode()
    hint = re.search(r'<p class="msg msg-warning rv-subject-hint"[^>]*>(.*?)</p>', html, re.S)
    assert hint, html
    text = re.sub(r"<[^>]+>", "", hint.group(1))
    assert text.startswith("Wrong subject: a few clicks fix it.")
    assert "click the product with Keep (K)" in text
    assert "click the other object with Remove (R), well inside it" in text
    # the test settings install one model: Re-run cannot offer another
    assert f"only {first.model_name} is installed" in text
    page = client.get(reverse("cutouts:retouch_card", args=[first.pk])).content.decode()
    assert "data-subject-hint" in page and "click the product with <b>Keep</b>" in page


def test_it_offers_another_installed_model_in_the_wrong_subject_hint(client, cutouts,
                                                                     monkeypatch):
    from cutouts.selectors import review as review_selectors

    client.force_login(reviewer())
    first = _queue_order()[0]
    monkeypatch.setattr(review_selectors, "rerun_models",
                        lambda: (first.model_name, "isnet-imgly"))
    review.cutout_flag(cutout=first, user=reviewer(username="rev2"),
                       reasons=["extra_kept"], comment="")
    html = client.get(reverse("cutouts:review_card", args=[first.pk]), **HX).content.decode()
    assert "Another object kept: a few clicks fix it." in html
    assert "Re-run</b> with another model (isnet-imgly)" in html
    # the retouch page has no Re-run of its own: the hint sends the reviewer to the card
    page = client.get(reverse("cutouts:retouch_card", args=[first.pk])).content.decode()
    card = reverse("cutouts:review_card", args=[first.pk])
    assert re.search(r'Re-run</b> \(on <a href="' + re.escape(card) + r'[^"]*">its card</a>\) '
                     r'with another model \(isnet-imgly\)', page), page


def test_it_says_the_detail_brush_after_a_flag_for_an_edge(client, cutouts):
    # QA40 L2: each reason its own route; an edge's is the Detail brush (no keep/remove)
    client.force_login(reviewer())
    first = _queue_order()[0]
    url = reverse("cutouts:review_card", args=[first.pk])
    before = client.get(url, **HX).content.decode()
    answer = client.post(url, {"action": "flag", "reason": ["halo"], "seen": _seen_on(before)},
                         **HX).content.decode()
    assert "Flagged for retouch:" in answer
    assert ("To fix it in Retouch: paint the white fringe with Detail; or Re-run it from its "
            "card.") in answer
    assert "with Keep" not in answer


def test_it_says_another_shadow_after_a_shadow_flag_on_a_version_that_kept_it(client,
                                                                               cutouts):
    """QA 2026-12-06 (qa41a): "Shadow removed" on a version re-run with Shadow keep said
    "Re-run it from its card with Shadow keep", which the card's re-run panel then held
    ("Nothing differs from v2"); such a version is told Shadow synthetic."""
    client.force_login(reviewer())
    first, second = _queue_order()[:2]
    Cutout.objects.filter(pk=second.pk).update(
        settings={**(second.settings or {}), "shadow": "keep"})
    said = []
    for c in (first, second):
        url = reverse("cutouts:review_card", args=[c.pk])
        before = client.get(url, **HX).content.decode()
        said.append(html.unescape(client.post(url, {
            "action": "flag", "reason": ["shadow_removed"], "seen": _seen_on(before)},
            **HX).content.decode()))
    assert ("To fix it: Re-run it from its card with Shadow keep (Retouch cannot bring a "
            "shadow back).") in said[0]
    assert ("To fix it (this version ran with Shadow keep): Re-run it from its card with "
            "Shadow synthetic (Retouch cannot bring a shadow back).") in said[1]


def test_it_says_on_the_retouch_page_that_retouch_cannot_bring_a_shadow_back(client,
                                                                              cutouts):
    """QA41 L5: the retouch page of a version flagged only "Shadow wrongly removed" invited
    strokes, which cannot bring a shadow back; it says the flag's advice (``_fix_advice``,
    the words said after the flag): the re-run with Shadow keep, or synthetic for a version
    that kept it. A version flagged for an edge alone is not told so."""
    first, second, third = _queue_order()[:3]
    Cutout.objects.filter(pk=first.pk).update(flag_reasons=["shadow_removed"])
    Cutout.objects.filter(pk=second.pk).update(
        flag_reasons=["shadow_removed"], settings={**(second.settings or {}), "shadow": "keep"})
    Cutout.objects.filter(pk=third.pk).update(flag_reasons=["halo"])
    client.force_login(reviewer())
    pages = [html.unescape(client.get(reverse("cutouts:retouch_card", args=[c.pk]))
                           .content.decode()) for c in (first, second, third)]
    assert ("data-shadow-advice>To fix it: Re-run it from its card with Shadow keep (Retouch "
            "cannot bring a shadow back).</p>") in pages[0]
    assert ("To fix it (this version ran with Shadow keep): Re-run it from its card with "
            "Shadow synthetic (Retouch cannot bring a shadow back).") in pages[1]
    assert "data-shadow-advice" not in pages[2]


def test_it_names_every_position_by_its_code_in_the_queue(client, cutouts):
    """QA 2026-12-06: the queue wrote "QA004 · main" beside "QA001 · PT04"; one label,
    the code the file names, the manifest and the product page use."""
    from catalog.models import ImageAsset

    ImageAsset.objects.filter(pk=cutouts[1].asset_id).update(position="PT04")
    ImageAsset.objects.filter(pk=cutouts[2].asset_id).update(position="SWCH")
    client.force_login(reviewer())
    page = client.get(reverse("cutouts:review_queue")).content.decode()
    titles = re.findall(r'class="rv-image-title"[^>]*>([^<]+)</a>', page)
    assert sorted(t.split(" · ")[1] for t in titles) == ["MAIN", "PT04", "SWCH"]
    assert "· main" not in page


def test_it_refuses_a_flag_on_an_older_versions_card_naming_the_newer_one(
        client, make_assets, fake_model, monkeypatch):
    """QA35 B2 (2026-12-06): v1's card, opened again after its re-run v2 finished (Back,
    the Versions list, a bookmark), took a flag ("Flagged for retouch … v1"), sent the
    ``cutout.flagged`` webhook, and the retouch queue, which hides a flag whose image has a
    newer version, listed it nowhere: the comment reached nobody."""
    from catalog import events
    from cutouts.selectors import review as review_selectors
    from cutouts.services import runs

    v1 = done_cutouts(make_assets(1))[0]
    client.force_login(reviewer())
    card = reverse("cutouts:review_card", args=[v1.pk])
    client.post(card, {"action": "rerun", "model": "u2netp", "strength": "strong"}, **HX)
    v2 = Cutout.objects.get(asset=v1.asset, version=2)
    assert runs.cutout_run(cutout_id=v2.pk) == "done"
    page = client.get(card).content.decode()
    flag_form = page[page.index('data-rv-panel="flag"') - 600:]
    seen = re.search(r'name="seen" value="([^"]+)"', flag_form).group(1)
    before = Cutout.objects.get(pk=v1.pk).review_status
    sent: list[str] = []
    monkeypatch.setattr(events, "emit", lambda event_type, *a, **k: sent.append(event_type))
    response = client.post(card, {"action": "flag", "reason": ["extra_kept"],
                                  "comment": "banner still kept", "seen": seen}, **HX)
    assert response.status_code == 200
    assert ("v2 (awaiting review) is newer than v1, so your flag was not applied: the retouch "
            "queue lists an image's newest version only, so nobody would see it. Look at v2 "
            "first, and flag it there.") in html.unescape(response.content.decode())
    assert Cutout.objects.get(pk=v1.pk).review_status == before != ReviewStatus.FLAGGED
    assert not ReviewDecision.objects.filter(cutout=v1, action="flag").exists()
    assert sent == [] and review_selectors.retouch_queue() == []
    # the newer version takes the flag, and the retouch queue lists it
    client.post(reverse("cutouts:review_card", args=[v2.pk]),
                {"action": "flag", "reason": ["extra_kept"], "comment": "banner still kept"},
                **HX)
    assert [c.pk for c in review_selectors.retouch_queue()] == [v2.pk]
    assert sent == ["cutout.flagged"]


def _queue_poll(client, url, page_html):
    """The queue note's poll as htmx sends it: the rows' shown and page (hx-include)."""
    shown = re.search(r'<input type="hidden" name="shown" value="([^"]*)">', page_html)[1]
    number = re.search(r'<input type="hidden" name="page" value="(\d+)">', page_html)[1]
    return client.get(url, {"shown": shown, "page": number}, **HX,
                      HTTP_HX_TARGET="rv-queue-coming").content.decode()


def _queue_rows(html):
    return re.findall(r'<tr data-cutout="(\d+)"', html)


def test_it_says_how_many_cutouts_still_running_will_join_the_queue(client, make_assets,
                                                                    fake_model):
    from cutouts.services import batches, runs

    first, *others = make_assets(3)
    done_cutouts([first])
    running = list(batches.cutout_batch_start(assets=others, profile_name="fast", recut=True)
                   .cutouts.order_by("pk"))  # no broker: they stay queued
    _login(client, "reviewer")
    url = reverse("cutouts:review_queue")
    page = client.get(url).content.decode()
    assert "2 more cutouts are still running; they join the queue when done." in page
    assert 'id="rv-queue-coming"' in page and 'hx-trigger="every 3s"' in page
    assert 'hx-include="#rv-queue-rows"' in page and len(_queue_rows(page)) == 1
    # nothing finished: the note and the count answer, not the rows
    with CaptureQueriesContext(connection) as unchanged:
        note = _queue_poll(client, url, page)
    assert "2 more cutouts are still running" in note and 'id="rv-queue-rows"' not in note
    assert runs.cutout_run(cutout_id=running[0].pk) == "done"
    with CaptureQueriesContext(connection) as changed:
        note = _queue_poll(client, url, page)
    # the rows cost one query more (the page, which tells its own total), only when changed
    assert len(changed) == len(unchanged) + 1
    # the note, the count the finished one joined and, out of band, the rows with it (QA
    # 2026-12-06: the rows changed only on a reload)
    assert "1 more cutout is still running; it joins the queue when done." in note
    assert re.search(r'<span id="rv-queue-count" hx-swap-oob="true">2</span>', note)
    assert '<div id="rv-queue-rows" hx-swap-oob="true">' in note
    assert str(running[0].pk) in _queue_rows(note) and len(_queue_rows(note)) == 2
    assert f'id="rv-row-{running[0].pk}"' in note  # htmx keeps a focused link's focus by id
    rows_drawn = note  # the rows the page now shows: the next poll sends their counts
    assert 'id="rv-queue-rows"' not in _queue_poll(client, url, rows_drawn)
    assert runs.cutout_run(cutout_id=running[1].pk) == "done"
    note = _queue_poll(client, url, rows_drawn)
    # none runs: the note is hidden and asks slowly (a batch started later shows it)
    assert "still running" not in note
    assert re.search(r'<p id="rv-queue-coming" class="muted" role="status" hidden [^>]*'
                     r'hx-trigger="every 20s"', note)
    assert re.search(r'<span id="rv-queue-count" hx-swap-oob="true">3</span>', note)
    assert len(_queue_rows(note)) == 3
    assert "still running" not in client.get(url).content.decode()


def test_it_shows_the_queue_note_for_a_run_started_after_the_page_opened(
        client, make_assets, fake_model):
    from cutouts.services import batches

    first, second = make_assets(2)
    done_cutouts([first])
    _login(client, "reviewer")
    url = reverse("cutouts:review_queue")
    page = client.get(url).content.decode()
    assert "still running" not in page and 'hx-trigger="every 20s"' in page
    assert 'id="rv-queue-rows"' not in _queue_poll(client, url, page)
    batches.cutout_batch_start(assets=[second], profile_name="fast")  # stays queued
    note = _queue_poll(client, url, page)
    assert "1 more cutout is still running; it joins the queue when done." in note
    assert 'hx-trigger="every 3s"' in note and " hidden" not in note
    # the rows come again (the counts they were drawn with changed), the same one row
    assert len(_queue_rows(note)) == 1


def test_it_sends_start_reviewing_with_the_rows_to_a_queue_opened_empty(
        client, make_assets, fake_model):
    from cutouts.services import batches, runs

    (asset,) = make_assets(1)
    (running,) = batches.cutout_batch_start(assets=[asset], profile_name="fast").cutouts.all()
    _login(client, "reviewer")
    url = reverse("cutouts:review_queue")
    page = client.get(url).content.decode()
    assert '<div id="rv-queue-start"></div>' in page and "start-review" not in page
    assert "rv-queue-start" not in _queue_poll(client, url, page)  # rows unchanged: none sent
    assert runs.cutout_run(cutout_id=running.pk) == "done"
    note = _queue_poll(client, url, page)
    card = reverse("cutouts:review_card", args=[running.pk])
    assert re.search(r'<div id="rv-queue-start" hx-swap-oob="true"><p><a class="btn primary" '
                     rf'id="start-review" href="{card}">', note), note


@pytest.mark.parametrize("query", ["batch=99999999999999999999", "product=99999999999999999999",
                                   "page=99999999999999999999", "batch=²", "page=²"])
def test_it_answers_the_review_lists_for_a_number_no_row_can_have(client, cutouts, query):
    """QA 2026-12-06: ``?batch=`` past 63 bits was a 500 (OverflowError) on the queue, grid
    and retouch lists; the filter is no filter, the page the last one."""
    _login(client, "reviewer")
    for name in ("cutouts:review_queue", "cutouts:review_grid", "cutouts:retouch_queue"):
        response = client.get(reverse(name) + "?" + query)
        assert response.status_code == 200, (name, query)


def test_it_drops_ids_past_63_bits_from_a_grid_post(client, cutouts):
    _login(client, "reviewer")
    response = client.post(reverse("cutouts:review_grid"),
                           {"cutout": ["99999999999999999999", "²"], "action": "approve"})
    assert response.status_code in (200, 302, 400)
    assert not Cutout.objects.filter(review_status=ReviewStatus.APPROVED).exists()


def test_it_answers_the_image_and_tile_views_for_unicode_digits(client, cutouts):
    """QA 2026-12-06 (verify39): ``?size=²`` and ``?x=²`` were 500s (int("²") raises)."""
    _login(client, "reviewer")
    c = cutouts[0]
    image = reverse("cutouts:review_image", args=[c.pk, "cutout"])
    assert client.get(image, {"size": "²"}).status_code == 404
    assert client.get(image, {"size": "0"}).status_code in (200, 302)  # the full-size file
    tile = reverse("cutouts:review_tile", args=[c.pk, "cutout"])
    for key in ("x", "y", "w", "h"):
        assert client.get(tile, {key: "²"}).status_code < 500, key


def test_it_holds_a_rerun_that_changes_nothing_on_the_card_but_not_in_the_api(client, cutouts):
    """QA40 L3: Re-run with the panel as it opened (the version's own profile, model, TTA,
    shadow, strength) quietly made an identical version. The card says so and refuses it;
    the API's ``/rerun`` keeps its documented answer (a new version, 201)."""
    client.force_login(reviewer())
    v1 = _queue_order()[0]
    url = reverse("cutouts:review_card", args=[v1.pk])
    card = client.get(url, **HX).content.decode()
    assert "Nothing differs from v1: change a setting to re-run." in card
    own = {"action": "rerun", "model": v1.model_name, "shadow": v1.settings["shadow"],
           "strength": review_selectors.rerun_strength(v1.settings),
           **({"tta": "on"} if v1.settings["tta_flip"] else {}), "seen": _seen_on(card)}
    answer = html.unescape(client.post(url, own, **HX).content.decode())
    assert "Nothing differs from v1: change a setting to re-run." in answer
    assert not Cutout.objects.filter(asset=v1.asset, version=2).exists()
    # one setting changed: a new version
    client.post(url, {**own, "strength": "strong" if own["strength"] != "strong" else "soft"},
                **HX)
    assert Cutout.objects.get(asset=v1.asset, version=2).status == JobStatus.QUEUED
    # the API's path: the same settings still make a version (docs/api.md `/rerun`)
    other = _queue_order()[0]
    new, created = review.cutout_review_rerun_start(cutout=other, user=reviewer())
    assert created and new.settings == other.settings
