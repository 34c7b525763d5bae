"""The per-process bound on the web process's image decodes (catalog.upload_gate): an upload
finding every slot taken is answered 429 with Retry-After and leaves nothing behind, a
working-copy rebuild is refused with a note and changes nothing, a thumbnail made on its first
view waits for a slot (an <img> cannot send again), and a slot always comes back."""

import threading
import time

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from catalog import upload_gate
from catalog.models import ImageAsset, ImportIssue, ImportJob
from catalog.services import assets as asset_services
from tests.api.conftest import ApiClient, key_for
from tests.factories import ProductFactory, manager, stored_image
from tests.images import product_jpeg

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def gate(settings, monkeypatch):
    """One decode slot per process, and a busy answer without the real wait."""
    settings.CUTROOM_UPLOAD_DECODES = 1
    monkeypatch.setattr(upload_gate, "WAIT_SECONDS", 0.05)
    yield
    assert upload_gate.slots_held() == 0  # no test leaves a slot taken


@pytest.fixture
def temp_dir(settings, tmp_path):
    """Where Django spools uploads past FILE_UPLOAD_MAX_MEMORY_SIZE, for this test only."""
    folder = tmp_path / "upload-tmp"
    folder.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    return folder


def _photo(seed: int) -> bytes:
    """A JPEG over FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), so the upload lands in a temp file."""
    data = product_jpeg(1600, 1200, seed=seed)
    # comment segments after SOI: the same pixels, a file large enough to be spooled to disk
    padding = b"".join(b"\xff\xfe\xff\xff" + bytes([seed % 251]) * 65533 for _ in range(45))
    return data[:2] + padding + data[2:]


def _file(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def _held():
    """A slot held as another request's decode would hold it."""
    return upload_gate.decode_slot()


def _assert_busy(response) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == str(upload_gate.RETRY_AFTER_SECONDS)


def test_it_answers_busy_with_429_and_stores_nothing_then_takes_the_same_file(
        manager_client, stored_files, gate, temp_dir):
    product = ProductFactory(sku="GATE-1")
    url = reverse("catalog:product_upload", args=[product.pk])
    data = _photo(1)
    assert len(data) > 2_621_440
    with _held():
        busy = manager_client.post(url, {"file": _file("gate.jpg", data)}, **JSON)
    _assert_busy(busy)
    answer = busy.json()
    assert (answer["status"], answer["code"], answer["retry_after"]) == (
        "busy", "busy", upload_gate.RETRY_AFTER_SECONDS)
    assert "busy" in answer["reason"] and "not stored" in answer["reason"]
    assert not ImageAsset.objects.exists()
    assert stored_files() == set()
    assert list(temp_dir.iterdir()) == []  # the spooled upload went with the request

    again = manager_client.post(url, {"file": _file("gate.jpg", data)}, **JSON)
    assert again.status_code == 201 and again.json()["status"] == "stored"
    assert ImageAsset.live.filter(product=product).count() == 1
    assert list(temp_dir.iterdir()) == []


def test_it_counts_no_arrival_for_a_busy_file_of_a_browser_session(manager_client, storage,
                                                                    gate, temp_dir):
    ProductFactory(sku="GATE-2")
    urls = manager_client.post(reverse("catalog:bulk_upload"),
                               {"patterns": "{sku}_{position}.jpg", "expected": "1"},
                               **JSON).json()
    data = _photo(2)
    with _held():
        busy = manager_client.post(urls["upload_url"], {"file": _file("GATE-2_MAIN.jpg", data)},
                                   **JSON)
    _assert_busy(busy)
    job = ImportJob.objects.get(pk=urls["job"])
    # not counted as arrived: one file declared, so an arrival would have ended the session
    assert (job.status, job.progress_done, job.imported_count, job.error_count) == (
        "running", 0, 0, 0)
    assert not ImportIssue.objects.filter(job=job).exists()
    assert not ImageAsset.objects.exists() and list(temp_dir.iterdir()) == []

    again = manager_client.post(urls["upload_url"], {"file": _file("GATE-2_MAIN.jpg", data)},
                                **JSON)
    assert again.status_code == 201 and again.json()["position"] == "MAIN"
    job.refresh_from_db()
    assert (job.status, job.progress_done, job.imported_count) == ("done", 1, 1)


def test_it_answers_a_plain_form_with_a_429_page_and_opens_no_import(manager_client, storage,
                                                                     gate):
    ProductFactory(sku="GATE-3")
    with _held():
        busy = manager_client.post(reverse("catalog:bulk_upload"), {
            "patterns": "{sku}_{position}.jpg",
            "file": [_file("GATE-3_MAIN.jpg", product_jpeg(700, 600, seed=3))]})
    _assert_busy(busy)
    page = busy.content.decode()
    assert "The server is busy" in page and "not stored" in page
    assert reverse("catalog:bulk_upload") in page  # the way back to send them again
    assert not ImportJob.objects.exists() and not ImageAsset.objects.exists()


def test_it_lets_as_many_requests_decode_as_the_setting_says(manager_client, storage, gate,
                                                             settings):
    settings.CUTROOM_UPLOAD_DECODES = 2
    product = ProductFactory(sku="GATE-4")
    url = reverse("catalog:product_upload", args=[product.pk])
    with _held():
        one_free = manager_client.post(url, {"file": _file("a.jpg", product_jpeg(700, 600))},
                                       **JSON)
        with _held():
            none_free = manager_client.post(
                url, {"file": _file("b.jpg", product_jpeg(700, 600, seed=4))}, **JSON)
    assert one_free.status_code == 201
    _assert_busy(none_free)


def test_it_waits_for_a_slot_that_frees_within_the_wait(manager_client, storage, gate,
                                                        monkeypatch):
    monkeypatch.setattr(upload_gate, "WAIT_SECONDS", 5.0)
    product = ProductFactory(sku="GATE-5")
    slot = _held()
    slot.__enter__()
    threading.Timer(0.3, slot.__exit__, (None, None, None)).start()
    response = manager_client.post(reverse("catalog:product_upload", args=[product.pk]),
                                   {"file": _file("a.jpg", product_jpeg(700, 600))}, **JSON)
    assert response.status_code == 201


# --- the slot comes back however the decode ends ---------------------------------------------


def test_it_releases_the_slot_when_the_file_cannot_be_decoded(manager_client, storage, gate):
    product = ProductFactory(sku="GATE-6")
    url = reverse("catalog:product_upload", args=[product.pk])
    good = product_jpeg(900, 700, seed=6)
    corrupt = good[:300] + bytes(len(good) - 300)  # the header reads, the scans do not
    refused = manager_client.post(url, {"file": _file("bad.jpg", corrupt)}, **JSON)
    assert refused.status_code == 422 and refused.json()["status"] == "rejected"
    assert upload_gate.slots_held() == 0
    # with one slot, a slot kept by the refused file would make this one busy
    assert manager_client.post(url, {"file": _file("ok.jpg", good)}, **JSON).status_code == 201


def test_it_releases_the_slot_when_the_decode_raises(storage, gate, monkeypatch):
    product = ProductFactory(sku="GATE-7")

    def decoder_crash(*args, **kwargs):
        raise SystemError("the decoder crashed")

    # past asset_ingest's own catch-all: the request itself fails
    monkeypatch.setattr(asset_services, "asset_ingest", decoder_crash)
    client = Client(raise_request_exception=False)
    client.force_login(manager())
    url = reverse("catalog:product_upload", args=[product.pk])
    crashed = client.post(url, {"file": _file("a.jpg", product_jpeg(700, 600))}, **JSON)
    assert crashed.status_code == 500
    assert upload_gate.slots_held() == 0
    monkeypatch.undo()
    monkeypatch.setattr(upload_gate, "WAIT_SECONDS", 0.05)
    assert client.post(url, {"file": _file("a.jpg", product_jpeg(700, 600))},
                       **JSON).status_code == 201


# --- the API's uploads share the bound -------------------------------------------------------


def test_it_answers_an_api_upload_busy_with_a_problem_and_retry_after(storage, stored_files,
                                                                      gate):
    api = ApiClient(key_for(manager(), "manager"))
    product = ProductFactory(sku="GATE-8")
    url = f"/api/v1/products/{product.pk}/images"
    data = product_jpeg(900, 700, seed=8)
    with _held():
        busy = api.post(url, {"file": _file("a.jpg", data)}, json=False,
                        headers={"HTTP_IDEMPOTENCY_KEY": "gate-8"})
    _assert_busy(busy)
    problem = busy.json()
    assert (problem["status"], problem["type"]) == (429, "urn:cutroom:problem:busy")
    assert "busy" in problem["detail"]
    assert not ImageAsset.objects.exists() and stored_files() == set()
    # the busy answer is not what the key replays: the same request is done once it is free
    again = api.post(url, {"file": _file("a.jpg", data)}, json=False,
                     headers={"HTTP_IDEMPOTENCY_KEY": "gate-8"})
    assert again.status_code == 201 and again.json()["results"][0]["status"] == "stored"


def test_it_keeps_a_direct_upload_staged_while_busy(s3_default_storage, gate):
    storage = s3_default_storage("cutroom-gate")
    api = ApiClient(key_for(manager(), "manager"))
    product = ProductFactory(sku="GATE-9")
    data = product_jpeg(1200, 900, seed=9)
    ticket = api.post(f"/api/v1/products/{product.pk}/images/direct",
                      {"filename": "big.jpg", "size": len(data)}).json()
    assert httpx.put(ticket["url"], content=data, headers=ticket["headers"],
                     timeout=30).status_code == 200
    finish = f"/api/v1/products/{product.pk}/images/direct/finish"
    with _held():
        busy = api.post(finish, {"token": ticket["token"]})
    _assert_busy(busy)
    assert not ImageAsset.objects.exists()
    staged, _ = storage.listdir("uploads")
    assert len(staged) == 1  # the token still names a file to ingest
    done = api.post(finish, {"token": ticket["token"]})
    assert done.status_code == 201 and ImageAsset.live.filter(product=product).count() == 1


# --- the other decodes of the web process: a rebuild, a thumbnail's first view ---------------


def test_it_refuses_a_working_copy_rebuild_while_busy_and_changes_nothing(
        manager_client, storage, stored_files, gate):
    product = ProductFactory(sku="GATE-10")
    asset = stored_image(product, "a.jpg", "MAIN", seed=10)
    old = asset.working_name
    storage.delete(old)  # the broken copy a rebuild is offered for
    files = stored_files()
    url = reverse("catalog:asset_working_copy_rebuild", args=[product.pk, asset.pk])
    with _held():
        busy = manager_client.post(url, HTTP_HX_REQUEST="true")
    assert busy.status_code == 200  # the grid and its note, as a refused rebuild answers
    assert ("Image MAIN of GATE-10: the server is busy decoding other images, so its working "
            "copy was not rebuilt; nothing was changed. Rebuild it again in 3 seconds."
            ) in busy.content.decode()
    asset.refresh_from_db()
    assert asset.working_name == old and stored_files() == files

    done = manager_client.post(url, HTTP_HX_REQUEST="true")
    assert "working copy rebuilt from the original" in done.content.decode()
    asset.refresh_from_db()
    assert asset.working_name != old and storage.exists(asset.working_name)


def test_it_makes_a_first_view_thumbnail_once_a_slot_frees_not_answering_busy(
        manager_client, storage, gate, monkeypatch):
    asset = stored_image(ProductFactory(sku="GATE-11"), "a.jpg", "MAIN", seed=11)
    decoded: list[tuple[float, int]] = []
    real = asset_services.images.thumbnail

    def watching(image, size):
        decoded.append((time.monotonic(), upload_gate.slots_held()))
        return real(image, size)

    monkeypatch.setattr(asset_services.images, "thumbnail", watching)
    released: list[float] = []
    slot = _held()
    slot.__enter__()

    def release():
        released.append(time.monotonic())
        slot.__exit__(None, None, None)

    # past the upload's wait (0.05 s here): a thumbnail is not refused, it waits
    threading.Timer(0.3, release).start()
    response = manager_client.get(  # 640 px: a size the ingest does not make
        reverse("catalog:asset_thumbnail", args=[asset.pk]) + "?size=640")
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    response.close()
    ((at, held),) = decoded
    assert at >= released[0]  # decoded only once the other decode's slot came back
    assert held == 1  # in a slot of its own


def test_it_serves_a_thumbnail_made_at_ingest_without_a_slot(manager_client, storage, gate):
    asset = stored_image(ProductFactory(sku="GATE-12"), "a.jpg", "MAIN", seed=12)
    slot = _held()
    slot.__enter__()
    try:
        started = time.monotonic()
        response = manager_client.get(reverse("catalog:asset_thumbnail", args=[asset.pk]))
        waited = time.monotonic() - started
    finally:
        slot.__exit__(None, None, None)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    response.close()
    assert waited < 1.0  # no decode: the cached file, every slot taken or not
