"""Retouch services (cutouts/services/retouch.py): the signals of a hand-made version, the one
reduction the preview and the worker's engine share, and strokes whose result is the parent's
picture making no new version to review."""

import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from PIL import Image

from catalog.models import ImageAsset
from cutouts.errors import PermanentError, ReviewError
from cutouts.imaging import retouch as engine_retouch
from cutouts.imaging.signals import drawn_signals, quality_signals
from cutouts.models import Cutout, CutoutBatch, JobStatus, ReviewStatus
from cutouts.services import batches, previews, retouch, review, runs
from cutouts.variants.compliance import export_signals
from tests.cutouts.reviewdata import done_cutouts
from tests.factories import reviewer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


def test_it_flags_a_hand_retouch_that_leaves_a_speck_as_a_tiny_subject(make_assets, fake_model):
    cutout = done_cutouts(make_assets(1))[0]
    assert not cutout.signals["tiny_subject"]
    # remove everything but a speck: a remove stroke whose hard half covers the kept box (the
    # fake model's centred 320x240), then a keep click in its middle (later strokes win)
    strokes = [
        {"kind": "remove", "radius": 450, "points": [[300, 240], [340, 240]]},
        {"kind": "keep", "radius": 3, "points": [[320, 240]]},
    ]
    new = retouch.cutout_retouch_strokes(cutout=cutout, user=reviewer(), strokes=strokes)
    assert runs.cutout_run(cutout_id=new.pk) == "done"
    new = Cutout.objects.get(pk=new.pk)
    assert new.signals["hand_made"] and not new.signals["empty"]
    assert new.signals["tiny_subject"], new.signals
    assert "tiny_subject" in review.preflags_from_signals(new.signals)[0]


@pytest.mark.parametrize("box, tiny", [((5, 5), True), ((300, 40), False), ((0, 0), False)])
def test_it_calls_a_speck_a_tiny_subject_as_the_models_signals_do(box, tiny):
    alpha = np.zeros((480, 640), np.uint8)
    alpha[100:100 + box[1], 100:100 + box[0]] = 255
    hand = drawn_signals(alpha, np.zeros((480, 640, 3), np.uint8))
    model = quality_signals(alpha / 255.0, alpha / 255.0, np.zeros((480, 640, 3), np.uint8))
    assert hand["tiny_subject"] is model["tiny_subject"] is tiny
    # the product's box in photo px, as export measures it (a retouch and a run alike)
    assert export_signals(alpha)["product_px"] == (list(box) if tiny or box[0] else [0, 0])


def test_it_preflags_a_hand_retouch_export_would_leave_out_for_its_size():
    # a hand retouch that keeps a 112 x 107 px product: over 8x to fill Amazon's 1700 px
    alpha = np.zeros((480, 854), np.uint8)
    alpha[200:307, 300:412] = 255
    hand = {**drawn_signals(alpha, np.zeros((480, 854, 3), np.uint8)), **export_signals(alpha)}
    assert hand["product_px"] == [112, 107]
    assert "too_small_for_export" in review.preflags_from_signals(hand)[0]


def test_it_ranks_a_retouch_that_hollowed_the_product_above_a_clean_one():
    """Retouched versions lacked the signals the risk model reads (the core's
    opacity, the outline on the photo's edges) and ranked last whatever they looked like."""
    rgb = np.full((1500, 2000, 3), 235, np.uint8)
    rgb[400:1100, 600:1400] = (40, 60, 160)  # the product, on a plain backdrop
    clean = np.zeros((1500, 2000), np.uint8)
    clean[400:1100, 600:1400] = 255
    hollow = clean.copy()
    hollow[500:1000, 700:1300] = 150  # the middle left half-transparent
    off = np.zeros((1500, 2000), np.uint8)
    off[250:1250, 450:1550] = 255  # the outline out on the flat backdrop
    risk = {name: review.preflags_from_signals(drawn_signals(alpha, rgb))[1]
            for name, alpha in (("clean", clean), ("hollow", hollow), ("off", off))}
    assert drawn_signals(clean, rgb)["edge_support"] > 0.9
    assert drawn_signals(off, rgb)["edge_support"] < 0.1
    assert drawn_signals(hollow, rgb)["interior_alpha"] < 0.8
    assert risk["hollow"] > risk["clean"] + 0.2 and risk["off"] > risk["clean"] + 0.2, risk


@pytest.mark.parametrize("size", [(4000, 3000), (2401, 1799), (1999, 1333), (800, 600)])
def test_it_reduces_a_version_as_the_engine_reduces_it_for_its_cut(size, monkeypatch):
    width, height = size
    rng = np.random.default_rng(1)
    rgba = rng.integers(0, 256, (height, width, 4), np.uint8)
    seen = {}
    real = engine_retouch.segment

    def spy(rgb, prior, strokes, params=engine_retouch.DEFAULT, steps=None, **kwargs):
        seen.update(rgb=rgb.copy(), prior=prior.copy(), strokes=strokes)
        return real(rgb, prior, strokes, params, steps, **kwargs)

    monkeypatch.setattr(engine_retouch, "segment", spy)
    strokes = retouch.strokes_parse([{"kind": "keep", "radius": 9, "points": [[50, 60]]}],
                                    size=size)
    rgb = np.ascontiguousarray(rgba[..., :3])
    retouch.retouch_apply(rgb, np.ascontiguousarray(rgba[..., 3]), strokes, rgba)
    full = dict(seen)
    base = previews.retouch_base_from_images(*(
        __import__("PIL.Image", fromlist=["Image"]).fromarray(a) for a in (rgb, rgba)))
    retouch.retouch_apply(base.rgb, np.ascontiguousarray(base.rgba[..., 3]), strokes,
                          base.rgba, scale=base.scale)
    # the preview's graph cut sees the worker's photo, prior and strokes, exactly
    assert np.array_equal(seen["rgb"], full["rgb"])
    assert np.array_equal(seen["prior"], full["prior"])
    assert seen["strokes"] == full["strokes"]
    assert previews.PREVIEW_MAX == engine_retouch.WORK_MAX


def test_it_reduces_a_large_retouch_once_for_its_signals_and_its_base(make_assets, fake_model,
                                                                      monkeypatch):
    """The risk signals read the retouch base's reduction: a 24 MP photo was reduced twice."""
    cutout = done_cutouts(make_assets(1, size=(2400, 1800)))[0]
    # across the kept box's left edge (a retouch that changes nothing is refused)
    strokes = [{"kind": "remove", "radius": 40, "points": [[560, 600], [660, 620]]}]
    new = retouch.cutout_retouch_strokes(cutout=cutout, user=reviewer(), strokes=strokes)
    with storages["default"].open(cutout.asset.working_name, "rb") as fh:
        rgb = np.asarray(Image.open(fh).convert("RGB"))
    calls = []
    real = engine_retouch.reduce_for_cut

    def counted(image, work_max=engine_retouch.WORK_MAX):
        calls.append(image.shape)
        return real(image, work_max)

    monkeypatch.setattr(engine_retouch, "reduce_for_cut", counted)
    output = retouch.cutout_retouch_compute(cutout=Cutout.objects.get(pk=new.pk), rgb=rgb,
                                            preview_side=1200)
    # the photo's one pass (the engine's own reductions run on other shapes)
    assert calls.count(rgb.shape) == 1, calls
    alpha = np.asarray(Image.open(output.mask))
    monkeypatch.setattr(engine_retouch, "reduce_for_cut", real)
    # (and the product's size, faint marks and where each render's contact shadow would lie
    # that export would find, on the full-size alpha; no silhouette measure since shadow44)
    assert output.signals == {**drawn_signals(alpha, rgb), **export_signals(alpha)}, \
        "the shared copy changed a signal"


def _pillow_upload(data: bytes, size: tuple[int, int]) -> np.ndarray:
    """The upload as Pillow read it before ``decode_cutout``: convert, premultiplied resize."""
    image = Image.open(io.BytesIO(data)).convert("RGBA")
    if image.size != size:
        image = image.convert("RGBa").resize(size, Image.Resampling.LANCZOS).convert("RGBA")
    return np.array(image)


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _saved(name: str, image: Image.Image) -> str:
    return storages["default"].save(name, ContentFile(_png(image)))


@pytest.mark.parametrize("mode, upload_size", [("RGBA", (64, 48)), ("RGBA", (96, 72)),
                                               ("LA", (64, 48)), ("P", (64, 48))])
def test_it_reads_an_uploaded_png_as_pillow_did(mode, upload_size):
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (upload_size[1], upload_size[0], 4), dtype=np.uint8)
    rgba[: upload_size[1] // 3, :, 3] = 0
    image = Image.fromarray(rgba, "RGBA")
    if mode == "P":  # a palette with a transparent entry (tRNS)
        image = image.convert("RGB").quantize(16)
        image.info["transparency"] = 0
    elif mode != "RGBA":
        image = image.convert(mode)
    name = _saved(f"uploads/{mode}-{upload_size[0]}.png", image)

    got = retouch._upload_rgba(name, (64, 48))

    assert got.shape == (48, 64, 4) and got.flags.writeable
    assert np.array_equal(got, _pillow_upload(_png(image), (64, 48)))


def test_it_refuses_an_upload_over_the_pixel_limit_from_its_header(settings, monkeypatch):
    settings.CUTROOM_MAX_PIXELS = 1000
    name = _saved("uploads/big.png", Image.new("RGBA", (40, 30), (1, 2, 3, 0)))
    monkeypatch.setattr(retouch, "decode_cutout", lambda fh: pytest.fail("decoded a bomb"))

    with pytest.raises(PermanentError, match="more than 1,000 pixels"):
        retouch._upload_rgba(name, (40, 30))


@pytest.mark.parametrize("data, message", [
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "cannot be decoded"),
    (None, "fully opaque"),
])
def test_it_fails_a_broken_or_opaque_upload_clearly(data, message):
    if data is None:
        name = _saved("uploads/opaque.png", Image.new("RGBA", (8, 6), (9, 9, 9, 255)))
    else:
        name = storages["default"].save("uploads/broken.png", ContentFile(data))

    with pytest.raises(PermanentError, match=message):
        retouch._upload_rgba(name, (8, 6))


# the fake model keeps the centred 320 x 240 box of a 640 x 480 photo
BACKDROP = (20, 20)


MIDDLE = (320, 240)


@pytest.mark.parametrize("strokes", [
    [{"kind": "remove", "radius": 6, "points": [list(BACKDROP)]}],  # already removed
    [{"kind": "keep", "radius": 6, "points": [list(MIDDLE)]}],  # already kept
    [{"kind": "remove", "radius": 6, "points": [list(BACKDROP)]},
     {"kind": "keep", "radius": 6, "points": [list(MIDDLE)]}],
], ids=["remove-on-backdrop", "keep-in-the-middle", "both"])
def test_it_ends_strokes_that_change_nothing_unchanged_and_gives_the_parent_back(
        make_assets, fake_model, strokes):
    v1 = done_cutouts(make_assets(1))[0]
    assert v1.review_status == ReviewStatus.PENDING
    v2 = retouch.cutout_retouch_strokes(cutout=v1, user=reviewer(), strokes=strokes)
    assert Cutout.objects.get(pk=v1.pk).review_status == ReviewStatus.SUPERSEDED

    assert runs.cutout_run(cutout_id=v2.pk) == "unchanged"

    v2 = Cutout.objects.get(pk=v2.pk)
    # no failure (QA 2026-12-05 L1): cancelled by its run, nothing kept
    assert v2.status == JobStatus.CANCELLED and not v2.rgba_name and v2.is_unchanged
    assert v2.error == retouch.NOTHING_CHANGED.format(v=1)
    assert v2.error.startswith("Nothing changed: the result of these strokes is v1 pixel for")
    # v1 is the reviewer's again, where it was: not a copy of it waiting in review
    assert Cutout.objects.get(pk=v1.pk).review_status == ReviewStatus.PENDING


def test_it_closes_the_batch_of_a_retouch_that_changed_nothing_as_done_not_retryable(
        make_assets, fake_model):
    v1 = done_cutouts(make_assets(1))[0]
    before = ImageAsset.objects.get(pk=v1.asset_id).status
    v2 = retouch.cutout_retouch_strokes(
        cutout=v1, user=reviewer(),
        strokes=[{"kind": "remove", "radius": 6, "points": [list(BACKDROP)]}])
    assert ImageAsset.objects.get(pk=v1.asset_id).status == "queued"
    assert runs.cutout_run(cutout_id=v2.pk) == "unchanged"

    batch = CutoutBatch.objects.get(pk=v2.batch_id)
    assert batch.status == JobStatus.DONE
    assert batch.message == "0 done, 0 failed, 0 cancelled, 1 unchanged (nothing changed, " \
        "pixel for pixel)"
    assert batches.cutout_batch_retry_failed(batch=batch) == 0
    assert Cutout.objects.get(pk=v2.pk).status == JobStatus.CANCELLED
    assert not Cutout.objects.filter(status=JobStatus.FAILED).exists()
    # back in review with v1 (the Apply is on its audit trail), no longer queued
    assert before == "cut_out" and ImageAsset.objects.get(pk=v1.asset_id).status == "in_review"


def test_it_still_cancels_a_batch_someone_stopped_beside_an_unchanged_one(make_assets):
    batch = batches.cutout_batch_start(assets=make_assets(2), queue="interactive")
    first, second = batch.cutouts.order_by("pk")
    Cutout.objects.filter(pk=first.pk).update(
        status=JobStatus.CANCELLED, is_unchanged=True, error=retouch.NOTHING_CHANGED.format(v=1))
    batches.cutout_batch_cancel(batch=batch)
    batch.refresh_from_db()
    assert batch.status == JobStatus.CANCELLED
    assert batch.message.startswith("0 done, 0 failed, 1 cancelled, 1 unchanged")


def test_it_leaves_a_row_another_run_took_over_as_that_run_has_it(make_assets, fake_model):
    """The unchanged end is a compare-and-set on the run token, as done and failed are: a run
    whose row the reconciler gave to another run marks nothing, neither status nor fact."""
    v1 = done_cutouts(make_assets(1))[0]
    v2 = retouch.cutout_retouch_strokes(
        cutout=v1, user=reviewer(),
        strokes=[{"kind": "remove", "radius": 6, "points": [list(BACKDROP)]}])
    token = runs._claim(v2.pk, "w1:1")
    Cutout.objects.filter(pk=v2.pk).update(run_token="taken-over")
    runs._cutout_execute(v2.pk, token)
    v2 = Cutout.objects.get(pk=v2.pk)
    assert (v2.status, v2.run_token, v2.is_unchanged, v2.error) == (
        JobStatus.RUNNING, "taken-over", False, "")


def test_it_refuses_to_store_unchanged_on_a_version_that_is_not_cancelled(make_assets):
    from django.db import IntegrityError, transaction

    cutout = batches.cutout_batch_start(assets=make_assets(1)).cutouts.get()
    for status in (JobStatus.QUEUED, JobStatus.DONE, JobStatus.FAILED):
        with pytest.raises(IntegrityError), transaction.atomic():
            Cutout.objects.filter(pk=cutout.pk).update(status=status, is_unchanged=True)
    Cutout.objects.filter(pk=cutout.pk).update(status=JobStatus.CANCELLED, is_unchanged=True)
    assert Cutout.objects.get(pk=cutout.pk).is_unchanged


def test_it_marks_the_versions_that_ended_nothing_changed_before_on_migrating(make_assets):
    import importlib

    from django.apps import apps

    from cutouts.selectors.jobs import cutout_batch_counts

    batch = batches.cutout_batch_start(assets=make_assets(4))
    ended, stopped, failed, queued = batch.cutouts.order_by("pk")
    # as the code before the field left them: cancelled with the reason, nothing stored
    Cutout.objects.filter(pk=ended.pk).update(status=JobStatus.CANCELLED,
                                              error=retouch.NOTHING_CHANGED.format(v=1))
    Cutout.objects.filter(pk=stopped.pk).update(status=JobStatus.CANCELLED, error="Cancelled")
    # failed before 2026-12-05 with the same lead: a failure then, a failure still
    Cutout.objects.filter(pk=failed.pk).update(status=JobStatus.FAILED,
                                               error="Nothing changed: v1 pixel for pixel")
    assert cutout_batch_counts(batch=batch)["unchanged"] == 0
    migration = importlib.import_module("cutouts.migrations.0017_cutout_is_unchanged")
    migration.mark_unchanged(apps, None)
    marked = dict(Cutout.objects.filter(batch=batch).values_list("pk", "is_unchanged"))
    assert marked == {ended.pk: True, stopped.pk: False, failed.pk: False, queued.pk: False}
    counts = cutout_batch_counts(batch=batch)
    assert (counts["unchanged"], counts["cancelled"], counts["failed"]) == (1, 1, 1)


def test_it_still_makes_a_version_of_strokes_that_change_something(make_assets, fake_model):
    v1 = done_cutouts(make_assets(1))[0]
    v2 = retouch.cutout_retouch_strokes(
        cutout=v1, user=reviewer(),
        strokes=[{"kind": "remove", "radius": 6, "points": [list(BACKDROP)]},
                 {"kind": "remove", "radius": 30, "points": [[180, 140], [300, 140]]}])
    assert runs.cutout_run(cutout_id=v2.pk) == "done"
    assert Cutout.objects.get(pk=v2.pk).review_status == ReviewStatus.PENDING


def _rgba() -> np.ndarray:
    rgba = np.zeros((1100, 90, 4), np.uint8)  # taller than a strip: the last strip counts too
    rgba[..., :3] = (200, 80, 40)
    rgba[100:1050, 20:70, 3] = 255
    return rgba


def test_it_calls_a_result_with_other_hidden_colours_the_same_picture():
    result, parent = _rgba(), _rgba()
    result[..., :3][result[..., 3] == 0] = 0  # the engine zeroes what is hidden
    assert retouch._same_pixels(result, parent)


@pytest.mark.parametrize("change", ["alpha", "colour", "last-strip"])
def test_it_tells_a_result_that_differs_in_one_pixel(change):
    result, parent = _rgba(), _rgba()
    if change == "alpha":
        result[5, 5, 3] = 1
    elif change == "colour":
        result[500, 40, 1] += 1  # a detail stroke may change colours only
    else:
        result[1049, 69, 3] = 254
    assert not retouch._same_pixels(result, parent)


def test_it_refuses_an_upload_that_is_the_versions_own_png_unchanged(make_assets, fake_model):
    v1 = done_cutouts(make_assets(1))[0]
    with storages["default"].open(v1.rgba_name, "rb") as fh:
        downloaded = fh.read()
    with pytest.raises(ReviewError, match=r"v1's cutout as downloaded, unchanged"):
        retouch.cutout_retouch_upload(cutout=v1, user=reviewer(), data=downloaded)
    assert Cutout.objects.filter(asset=v1.asset).count() == 1
    assert Cutout.objects.get(pk=v1.pk).review_status == ReviewStatus.PENDING
    # one pixel edited (re-encoded by Pillow): a new version
    rgba = np.array(Image.open(io.BytesIO(downloaded)).convert("RGBA"))
    rgba[0, 0, 3] = 255 - rgba[0, 0, 3]
    edited = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(edited, format="PNG")
    v2 = retouch.cutout_retouch_upload(cutout=v1, user=reviewer(), data=edited.getvalue())
    assert v2.pk != v1.pk and v2.parent_id == v1.pk


def test_it_applies_with_the_graph_cuts_its_previews_shared(settings, tmp_path, monkeypatch):
    """The worker's Apply replays the step records the web process's previews stored in
    CUTROOM_RETOUCH_STEPS_DIR (and their working-size detail solve), and its result is byte
    for byte a cold Apply's."""
    from cutouts.imaging import retouch_cut, retouch_detail
    from cutouts.imaging.strokes import strokes_from_json
    from cutouts.management.commands.retouch_preview_benchmark import _scene, _strokes

    settings.CUTROOM_RETOUCH_STEPS_DIR = tmp_path / "steps"
    settings.CUTROOM_RETOUCH_STEPS_MB = 64
    cuts = []
    step = retouch_cut._step
    monkeypatch.setattr(retouch_cut, "_step", lambda *a, **k: cuts.append(1) or step(*a, **k))

    solves = []
    detail = engine_retouch._detail
    monkeypatch.setattr(engine_retouch, "_detail",
                        lambda rgb, *a, **k: solves.append(rgb.shape[:2]) or detail(rgb, *a, **k))

    def cold_worker():
        retouch_cut._CACHE.clear()
        engine_retouch._UNHELD.clear()
        retouch_detail._PIECES.clear()
        retouch_detail._STEPS.clear()

    rgb, rgba = _scene(1600, 1200, 0)  # above the cut's 1024 px: the Apply reduces it
    strokes = strokes_from_json(_strokes(rgba))  # keep, remove and detail strokes
    base = previews.retouch_base_from_images(Image.fromarray(rgb), Image.fromarray(rgba))
    cold_worker()
    for k in range(1, len(strokes) + 1):
        previews.retouch_preview_render(base, strokes[:k])
    previewed = len(cuts)
    retouch.retouch_steps().flush()  # written after each preview, by a thread
    assert list((tmp_path / "steps").iterdir())
    alpha = np.ascontiguousarray(rgba[..., 3])
    cold_worker()
    solves.clear()
    shared = retouch.retouch_apply(rgb, alpha, strokes, rgba, far_keep=False)
    assert len(cuts) == previewed  # every keep and remove stroke replayed
    # and the detail strokes' working-size solves: only the full-size ones run, the whole
    # list's and the held prefix's (keep, remove, detail, remove, keep, remove: the last detail
    # stroke changes only what is near it, beyond which the Apply is that prefix's, _near_detail)
    assert solves == [alpha.shape, alpha.shape]
    settings.CUTROOM_RETOUCH_STEPS_MB = 0  # not shared: the old Apply
    assert retouch.retouch_steps() is None
    cold_worker()
    alone = retouch.retouch_apply(rgb, alpha, strokes, rgba)
    assert len(cuts) > previewed
    assert (alone.alpha != alpha).sum() > 1000
    assert np.array_equal(shared.alpha, alone.alpha)
    assert np.array_equal(shared.rgba, alone.rgba)


def _two_parts(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """A photo and a cutout holding two parts: the product on the left, a poster the model
    also kept on the right (dev 155's graffiti beside the skater)."""
    rgb = np.full((height, width, 3), 120, np.uint8)
    rgba = np.zeros((height, width, 4), np.uint8)
    for x0, x1, colour in [(0.1, 0.4, (200, 40, 30)), (0.6, 0.9, (30, 60, 200))]:
        box = (slice(int(0.2 * height), int(0.8 * height)), slice(int(x0 * width), int(x1 * width)))
        rgb[box] = colour
        rgba[box] = (*colour, 255)
    return rgb, rgba


def test_it_applies_a_subject_click_at_full_size_as_its_preview_showed():
    from cutouts.imaging.strokes import strokes_from_json

    rgb, rgba = _two_parts(1600, 1200)  # above the cut's 1024 px: the Apply reduces it
    strokes = strokes_from_json([{"kind": "subject", "radius": 12, "points": [[400, 600]]}])
    base = previews.retouch_base_from_images(Image.fromarray(rgb), Image.fromarray(rgba))
    png, _, words = previews.retouch_preview_render(base, strokes)
    assert words == previews.RetouchWords(subject="parts:1")
    shown = np.asarray(Image.open(io.BytesIO(png)))[..., 3]
    applied = retouch.retouch_apply(rgb, np.ascontiguousarray(rgba[..., 3]), strokes, rgba,
                                    far_keep=False)
    assert applied.alpha[600, 400] == 255 and not applied.alpha[:, 800:].any()
    assert np.array_equal(retouch.retouch_reduce(applied.alpha, 1024) >= 128, shown >= 128)


def test_it_refuses_a_second_subject_click_with_a_clear_message():
    click = {"kind": "subject", "radius": 8, "points": [[10, 10]]}
    with pytest.raises(ReviewError, match="stroke 2: only one subject click per list "
                                          r"\(stroke 1 is one\); undo it to choose another part"):
        retouch.strokes_parse([click, click], size=(640, 480))


def test_it_previews_what_a_keep_click_gave_back_of_an_earlier_remove_strokes_take():
    # the editor says "gave back N px the earlier remove stroke took beyond its brush" from
    # the engine's count (signal46, verify45 M2): the preview's words carry it, counted on the
    # preview's grid (the hoof scene of tests/imaging/test_cut_click_undoes.py: a remove stroke
    # along the shadow takes 618 hoof px beyond its brush, a keep click on the hoof gives them
    # back); an Apply asks for none
    from cutouts.imaging.strokes import strokes_from_json
    from tests.imaging.test_cut_firm_beyond import scene as hoof_scene
    from tests.imaging.test_cut_firm_beyond import stroke as shadow_stroke

    rgb, alpha, _, _ = hoof_scene(0, 128)
    rgba = np.dstack([rgb, alpha])
    base = previews.retouch_base_from_images(Image.fromarray(rgb), Image.fromarray(rgba))
    st = shadow_stroke()
    painted = {"kind": "remove", "radius": st.radius, "points": [list(p) for p in st.points]}
    keep = {"kind": "keep", "radius": 5.0, "points": [[66.0, 100.0]]}
    png, _, words = previews.retouch_preview_render(base, strokes_from_json([painted]))
    assert words == previews.RetouchWords()
    removed = np.asarray(Image.open(io.BytesIO(png)))[..., 3]
    png, _, words = previews.retouch_preview_render(base, strokes_from_json([painted, keep]))
    shown = np.asarray(Image.open(io.BytesIO(png)))[..., 3]
    crossed = int(((removed < 128) & (shown >= 128)).sum())
    assert crossed > 500 and words == previews.RetouchWords(given_back=f"remove:{crossed}")
    applied = retouch.retouch_apply(rgb, alpha, strokes_from_json([painted, keep]), rgba,
                                    far_keep=False)
    assert applied.given_back == "" and np.array_equal(applied.alpha, shown)
