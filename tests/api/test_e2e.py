"""The httpx end-to-end script of docs/api.md, run as written against a live server and a real
Celery worker (the embedded model): create a product, upload 3 photos, start cutouts, wait
for the signed cutout.done webhooks, approve, export to Amazon, download the ZIP."""

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.test import override_settings

from catalog.api_models import WebhookSubscription
from catalog.services import api_keys as apikeys
from tests.factories import manager
from tests.images import product_jpeg
from tests.workers import running_worker, worker_env

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def docs_script() -> str:
    text = (ROOT / "docs" / "api.md").read_text()
    match = re.search(r"```python\n(# e2e:.*?)```", text, re.S)
    assert match, "docs/api.md lost its '# e2e:' python block"
    return match.group(1)


@override_settings(CUTROOM_WEBHOOK_ALLOW_HTTP=True, CUTROOM_WEBHOOK_ALLOW_PRIVATE=True)
def test_it_runs_the_docs_script_end_to_end(live_server, tmp_path):
    script = tmp_path / "e2e.py"
    script.write_text(docs_script())
    photos = []
    for i in range(3):
        photo = tmp_path / f"demo-{i}.jpg"
        photo.write_bytes(product_jpeg(900, 700, seed=4200 + i))
        photos.append(str(photo))
    token = apikeys.api_key_create(user=manager(), name="e2e", scope="manager").token
    env = worker_env(CUTROOM_WEBHOOK_ALLOW_HTTP="1", CUTROOM_WEBHOOK_ALLOW_PRIVATE="1")
    with running_worker(env=env):
        # twice: its Idempotency-Keys are per run, so the second is a new batch and export
        # (not a replay of the first, which would wait for cutout.done webhooks in vain)
        runs = [subprocess.run([sys.executable, str(script), live_server.url, token, *photos],
                               cwd=tmp_path, capture_output=True, text=True, timeout=420)
                for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stdout + run.stderr
        assert "3 images, 3 cutout.done webhooks" in run.stdout
    # each run deletes its subscription (a soft delete: the delivery log stays)
    assert not WebhookSubscription.objects.filter(deleted_at__isnull=True).exists()
    assert WebhookSubscription.objects.count() == 2
    with zipfile.ZipFile(tmp_path / "export.zip") as archive:
        names = archive.namelist()
    assert sum(n.startswith("amazon_main/") for n in names) == 3 and "manifest.csv" in names
