"""QA 2026-12-03: an image whose working copy is missing or broken in storage (deleted by an
operator, truncated by a full disk, a corrupt object) failed every cutout, and Retry failed
failed alike; a manager rebuilds it from the intact original
(``assets.asset_working_copy_rebuild``: the product page's button, ``manage.py
rebuild_working_copies``)."""

import importlib
import io

import numpy as np
import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from catalog.models import ImageAsset
from catalog.selectors import product_detail_assets
from catalog.services.assets import asset_ingest
from catalog.services.products import product_create
from cutouts import engine
from cutouts.imaging.models import ModelError
from cutouts.models import Cutout
from cutouts.services import batches, runs
from tests.factories import manager, reviewer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]

BUTTON = "Rebuild working copy"


def _read(name: str) -> bytes:
    with storages["default"].open(name, "rb") as handle:
        return handle.read()


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _put(name: str, data: bytes) -> None:
    """Replace a stored file's bytes (what a full disk or a bad copy leaves behind)."""
    storage = storages["default"]
    storage.delete(name)
    assert storage.save(name, ContentFile(data)) == name


def _rebuild_url(asset) -> str:
    return reverse("catalog:asset_working_copy_rebuild", args=[asset.product_id, asset.pk])


def test_it_rebuilds_a_deleted_working_copy_identically_and_the_cutout_then_succeeds(
        client, make_assets, fake_model, django_capture_on_commit_callbacks):
    asset = make_assets(1)[0]
    storage = storages["default"]
    at_ingest = _read(asset.working_name)
    old = asset.working_name
    storage.delete(old)  # an operator's mistake

    batch = batches.cutout_batch_start(assets=[asset], profile_name="fast")
    cutout = batch.cutouts.get()
    assert runs.cutout_run(cutout_id=cutout.pk) == "failed"
    cutout.refresh_from_db()
    assert cutout.working_copy_failed and cutout.error.startswith("The working copy")

    client.force_login(manager())
    page = client.get(reverse("catalog:product_detail", args=[asset.product_id])).content.decode()
    assert BUTTON in page and _rebuild_url(asset) in page

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(_rebuild_url(asset), HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    text = answer.content.decode()
    assert "working copy rebuilt from the original" in text
    assert BUTTON not in text  # the grid comes back without the offer

    asset.refresh_from_db()
    assert asset.working_name != old and asset.working_name.startswith("working/")
    assert asset.sha256 in asset.working_name  # purge keeps it while the image lives
    rebuilt = _read(asset.working_name)
    assert np.array_equal(_pixels(rebuilt), _pixels(at_ingest))
    assert rebuilt == at_ingest  # the ingest's own encoder: the very same bytes
    assert not storage.exists(old)

    assert batches.cutout_batch_retry_failed(batch=batch) == 1
    assert runs.cutout_run(cutout_id=cutout.pk) == "done"
    done = Cutout.objects.get(pk=cutout.pk)
    assert (done.status, done.working_copy_failed) == ("done", False)
    page = client.get(reverse("catalog:product_detail", args=[asset.product_id])).content.decode()
    assert BUTTON not in page


def test_it_moves_every_row_of_the_same_file_and_deletes_the_broken_one_after_commit(
        make_assets, django_capture_on_commit_callbacks):
    from catalog.services.assets import asset_working_copy_rebuild

    asset = make_assets(1)[0]
    twin = asset_ingest(product=product_create(sku="TWIN-1"),
                        fileobj=io.BytesIO(_read(asset.original_name)), filename="t.jpg").asset
    assert twin.working_name == asset.working_name  # one content, one stored file
    old = asset.working_name
    good = _read(old)
    _put(old, good[: len(good) // 2])  # truncated by a full disk

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        done = asset_working_copy_rebuild(asset=asset)
        assert storages["default"].exists(old)  # not before the commit
    assert len(callbacks) == 1
    assert done.others == 1 and "1 other image of the same file" in done.message
    assert ImageAsset.objects.get(pk=twin.pk).working_name == done.new_name
    assert _read(done.new_name) == good
    assert not storages["default"].exists(old)


@pytest.mark.parametrize("damage", ["replaced", "missing"])
def test_it_refuses_a_broken_original_with_a_message_and_changes_nothing(
        client, make_assets, damage, django_capture_on_commit_callbacks):
    asset = make_assets(1)[0]
    storage = storages["default"]
    storage.delete(asset.working_name)
    if damage == "replaced":
        original = _read(asset.original_name)
        _put(asset.original_name, original[:-1] + bytes([original[-1] ^ 0xFF]))
    else:
        storage.delete(asset.original_name)
    folder = asset.working_name.rsplit("/", 1)[0]
    files_before = sorted(storage.listdir(folder)[1])
    row_before = ImageAsset.objects.filter(pk=asset.pk).values().get()

    client.force_login(manager())
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(_rebuild_url(asset))
    assert answer.status_code == 302
    assert answer.url == reverse("catalog:product_detail", args=[asset.product_id])
    text = client.get(answer.url).content.decode()
    why = ("its original in storage is not the file that was uploaded" if damage == "replaced"
           else "its original is missing from storage")
    assert f"the working copy cannot be rebuilt, {why}" in text
    assert "Nothing was changed" in text
    assert "originals/" not in text and "working/" not in text  # no storage names shown
    assert ImageAsset.objects.filter(pk=asset.pk).values().get() == row_before
    assert sorted(storage.listdir(folder)[1]) == files_before


def test_it_lets_only_managers_rebuild_and_only_by_a_post_with_its_csrf_token(
        client, make_assets, fake_model):
    asset = make_assets(1)[0]
    storages["default"].delete(asset.working_name)
    batch = batches.cutout_batch_start(assets=[asset], profile_name="fast")
    assert runs.cutout_run(cutout_id=batch.cutouts.get().pk) == "failed"
    before = asset.working_name

    client.force_login(reviewer())
    page = client.get(reverse("catalog:product_detail", args=[asset.product_id])).content.decode()
    assert "the working copy could not be read" in page and BUTTON not in page
    assert client.post(_rebuild_url(asset)).status_code == 403
    assert client.post(_rebuild_url(asset), HTTP_HX_REQUEST="true").status_code == 403

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(manager())
    assert strict.get(_rebuild_url(asset)).status_code == 405
    assert strict.post(_rebuild_url(asset)).status_code == 403  # no CSRF token
    assert ImageAsset.objects.get(pk=asset.pk).working_name == before


def test_it_finds_only_the_broken_working_copies_with_all_broken(
        make_assets, django_capture_on_commit_callbacks):
    fine, truncated, missing = make_assets(3)
    storage = storages["default"]
    data = _read(truncated.working_name)
    _put(truncated.working_name, data[: len(data) - 4000])
    storage.delete(missing.working_name)

    out = io.StringIO()
    call_command("rebuild_working_copies", "--all-broken", "--dry-run", stdout=out)
    rows = {line.split()[2]: line for line in out.getvalue().splitlines()[1:-1]}
    assert set(rows) == {str(truncated.pk), str(missing.pk)}, out.getvalue()
    assert "missing from storage" in rows[str(missing.pk)]
    assert "unreadable" in rows[str(truncated.pk)]
    assert "would rebuild" in rows[str(truncated.pk)]
    assert "Checked 3 images: 2 with a missing or unreadable working copy" in out.getvalue()
    assert not storage.exists(missing.working_name)  # a dry run changes nothing

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("rebuild_working_copies", "--all-broken", stdout=out)
    assert "2 rebuilt, 0 refused" in out.getvalue()
    assert ImageAsset.objects.get(pk=fine.pk).working_name == fine.working_name
    for broken in (truncated, missing):
        now = ImageAsset.objects.get(pk=broken.pk).working_name
        assert now != broken.working_name and storage.exists(now)
    assert not storage.exists(truncated.working_name)

    out = io.StringIO()
    call_command("rebuild_working_copies", "--all-broken", stdout=out)
    assert "Checked 3 images: 0 with a missing or unreadable working copy" in out.getvalue()


def test_it_fails_the_command_when_an_original_is_broken_too(make_assets):
    asset = make_assets(1, sku="ORIG-1")[0]
    storages["default"].delete(asset.working_name)
    storages["default"].delete(asset.original_name)
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 working copies could not be rebuilt"):
        call_command("rebuild_working_copies", "--product", "orig-1", stdout=out)
    assert "REFUSED" in out.getvalue() and "its original is missing" in out.getvalue()


# --- QA 2026-12-03 (b): who can rebuild, where to retry, a readable command table ----------


def _failed_on_the_working_copy(asset) -> Cutout:
    storages["default"].delete(asset.working_name)
    batch = batches.cutout_batch_start(assets=[asset], profile_name="fast")
    cutout = batch.cutouts.get()
    assert runs.cutout_run(cutout_id=cutout.pk) == "failed"
    return Cutout.objects.get(pk=cutout.pk)


def test_it_tells_a_reviewer_that_a_catalog_manager_can_rebuild_the_working_copy(
        client, make_assets, fake_model):
    asset = make_assets(1)[0]
    _failed_on_the_working_copy(asset)
    client.force_login(reviewer())
    page = client.get(reverse("catalog:product_detail", args=[asset.product_id])).content.decode()
    assert BUTTON not in page
    assert "A catalog manager can rebuild it from the original" in page

    client.force_login(manager())  # who has the button is not told to ask someone
    page = client.get(reverse("catalog:product_detail", args=[asset.product_id])).content.decode()
    assert BUTTON in page and "A catalog manager can rebuild it" not in page


def test_it_links_the_batch_of_the_failed_cutouts_once_the_working_copy_is_rebuilt(
        client, make_assets, fake_model, django_capture_on_commit_callbacks):
    asset = make_assets(1)[0]
    cutout = _failed_on_the_working_copy(asset)
    batch_url = reverse("cutouts:batch_detail", args=[cutout.batch_id])
    client.force_login(manager())
    page = client.get(reverse("catalog:product_detail", args=[asset.product_id])).content.decode()
    assert f'href="{batch_url}"' not in page  # not before the rebuild: it would fail again

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(_rebuild_url(asset), HTTP_HX_REQUEST="true").content.decode()
    assert "the links under the image lead to them" in answer  # the note says where
    assert f'href="{batch_url}"' in answer  # and the grid links it under the image
    assert "Retry its failed cutouts now." not in answer

    assert batches.cutout_batch_retry_failed(batch=cutout.batch) == 1
    page = client.get(reverse("catalog:product_detail", args=[asset.product_id])).content.decode()
    assert f'href="{batch_url}"' not in page  # retried: nothing left to link
    assert runs.cutout_run(cutout_id=cutout.pk) == "done"


def test_it_links_the_review_card_of_a_failed_version_in_no_batch(
        client, make_assets, fake_model, django_capture_on_commit_callbacks):
    asset = make_assets(1)[0]
    cutout = _failed_on_the_working_copy(asset)
    Cutout.objects.filter(pk=cutout.pk).update(batch=None)  # its batch row deleted
    client.force_login(manager())
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(_rebuild_url(asset), HTTP_HX_REQUEST="true").content.decode()
    assert f'href="{reverse("cutouts:review_card", args=[cutout.pk])}"' in answer
    assert "batch #" not in answer


def test_it_prints_the_command_reason_whole_in_its_own_column(make_assets):
    asset = make_assets(1)[0]
    data = _read(asset.working_name)
    _put(asset.working_name, data[: len(data) - 4000])
    out = io.StringIO()
    call_command("rebuild_working_copies", "--all-broken", "--dry-run", stdout=out)
    header, row = out.getvalue().splitlines()[:2]
    assert header.split() == ["SKU", "POS", "ASSET", "ACTION", "WORKING", "COPY"]
    action, reason = header.index("ACTION"), header.index("WORKING COPY")
    assert row[action:reason].strip() == "would rebuild"
    assert row[reason:].startswith("unreadable (") and row[reason:].endswith(")"), row


# --- 2026-12-05: the working copy's failure is a stored fact, not the message's first words --


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_it_stores_the_working_copy_as_the_cause_with_the_failure(make_assets, fake_model,
                                                                   damage):
    asset = make_assets(1)[0]
    if damage == "missing":
        storages["default"].delete(asset.working_name)
    else:
        good = _read(asset.working_name)
        _put(asset.working_name, good[: len(good) // 2])
    batch = batches.cutout_batch_start(assets=[asset], profile_name="fast")
    assert runs.cutout_run(cutout_id=batch.cutouts.get().pk) == "failed"
    cutout = batch.cutouts.get()
    assert (cutout.status, cutout.working_copy_failed) == ("failed", True)


def test_it_stores_no_working_copy_cause_for_another_permanent_failure(make_assets,
                                                                       monkeypatch):
    def broken_model(**kwargs):
        # words that begin as the working copy's did: the kind is the exception's, not these
        raise ModelError("The working copy was read, but the model could not load")

    monkeypatch.setattr(engine, "cutout_compute", broken_model)
    batch = batches.cutout_batch_start(assets=make_assets(1), profile_name="fast")
    assert runs.cutout_run(cutout_id=batch.cutouts.get().pk) == "failed"
    cutout = batch.cutouts.get()
    assert cutout.error.startswith("Model error: ") and not cutout.working_copy_failed


def test_it_stores_nothing_on_a_row_another_run_took_over(make_assets):
    """The failure and its kind are one compare-and-set on the run token: a run whose row the
    reconciler gave to another run writes neither."""
    asset = make_assets(1)[0]
    storages["default"].delete(asset.working_name)
    cutout = batches.cutout_batch_start(assets=[asset], profile_name="fast").cutouts.get()
    token = runs._claim(cutout.pk, "w1:1")
    Cutout.objects.filter(pk=cutout.pk).update(run_token="taken-over")
    runs._cutout_execute(cutout.pk, token)
    row = Cutout.objects.get(pk=cutout.pk)
    assert (row.status, row.run_token, row.working_copy_failed, row.error) == (
        "running", "taken-over", False, "")


def test_it_clears_the_working_copy_cause_when_the_failed_row_is_retried(make_assets,
                                                                         fake_model):
    asset = make_assets(1)[0]
    cutout = _failed_on_the_working_copy(asset)
    assert cutout.working_copy_failed
    assert batches.cutout_batch_retry_failed(batch=cutout.batch) == 1
    retried = Cutout.objects.get(pk=cutout.pk)
    assert (retried.status, retried.working_copy_failed, retried.error) == ("queued", False, "")


def test_it_refuses_to_store_the_working_copy_cause_on_a_version_that_is_not_failed(
        make_assets):
    cutout = batches.cutout_batch_start(assets=make_assets(1)).cutouts.get()
    for status in ("queued", "running", "done", "cancelled"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Cutout.objects.filter(pk=cutout.pk).update(status=status, working_copy_failed=True)
    Cutout.objects.filter(pk=cutout.pk).update(status="failed", working_copy_failed=True)
    assert Cutout.objects.get(pk=cutout.pk).working_copy_failed


def test_it_marks_the_versions_that_failed_on_the_working_copy_before_on_migrating(
        make_assets):
    batch = batches.cutout_batch_start(assets=make_assets(4))
    missing, decoded, model, cancelled = batch.cutouts.order_by("pk")
    # as the code before the field left them: failed with the message, nothing stored
    failed = {"status": "failed", "finished_at": timezone.now()}
    Cutout.objects.filter(pk=missing.pk).update(
        **failed, error="The working copy is missing from storage; a manager can rebuild it "
        "from the original on the product page.")
    Cutout.objects.filter(pk=decoded.pk).update(
        **failed, error="The working copy cannot be decoded: truncated")
    Cutout.objects.filter(pk=model.pk).update(**failed, error="Model error: no weights")
    # cancelled with the same words: only failures offered the rebuild, and still do
    Cutout.objects.filter(pk=cancelled.pk).update(
        status="cancelled", error="The working copy cannot be decoded: truncated")

    def offered(cutout: Cutout) -> bool:
        (shown,) = product_detail_assets(product=cutout.asset.product)
        return bool(shown.working_unreadable)

    assert not any(map(offered, (missing, decoded)))
    migration = importlib.import_module("cutouts.migrations.0018_cutout_working_copy_failed")
    migration.mark_working_copy_failed(apps, None)
    marked = dict(Cutout.objects.filter(batch=batch).values_list("pk", "working_copy_failed"))
    assert marked == {missing.pk: True, decoded.pk: True, model.pk: False, cancelled.pk: False}
    assert [offered(c) for c in (missing, decoded, model, cancelled)] == [
        True, True, False, False]
