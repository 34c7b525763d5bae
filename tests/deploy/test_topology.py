"""The production topology, proved with processes instead of containers (issue 8).

gunicorn with production settings (DEBUG off, HTTPS redirect on; the test plays nginx and
sends X-Forwarded-Proto: https), two Celery worker processes with different host names on the
cutouts queues (two "machines"), one worker on default, beat, PostgreSQL, Redis and moto-S3.
Driven over HTTP only, as a browser would: login, upload, start a batch, wait, approve,
export, download; then one cutouts "machine" is killed mid-batch and nothing may be lost.

Needs PostgreSQL and Redis (TOPOLOGY_POSTGRES_URL / TOPOLOGY_REDIS_URL, else DATABASE_URL /
CELERY_BROKER_URL when they point at them, else 127.0.0.1 defaults). Without them it FAILS when
CI is set and skips (with the reason) on a developer's laptop: the only skip in this suite.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import zipfile

import pytest

from tests.images import product_jpeg

from .harness import (
    Browser,
    ServicesUnavailable,
    Topology,
    check_services,
    fetch_status,
    find,
    json_log_lines,
)

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.timeout(900)]

IMAGES = 20
SIZE = (1200, 900)
CUTOUT_QUEUES = "cutouts-interactive,cutouts"


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    try:
        check_services()
    except ServicesUnavailable as exc:
        message = f"topology test needs PostgreSQL and Redis: {exc}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set, so this is a failure, not a skip)",
                        pytrace=False)
        pytest.skip(f"{message} — not on this machine; set CI=1 to make this a failure")
    topo = Topology(tmp=tmp_path_factory.mktemp("topology"), extra_env={
        # Short limits so the reconciler (scheduled by beat) recovers a dead machine's cutout
        # within the test: hard limit = 10 + 8 s/MP + 30 s, then 5 s grace, checked every 5 s.
        "CUTROOM_CUTOUT_TIME_BASE": "10",
        "CUTROOM_RECONCILE_GRACE": "5",
        "CUTROOM_RECONCILE_EVERY": "5",
    })
    topo.db.create()
    topo.redis.claim()
    topo.s3.start()
    try:
        topo.manage("migrate", "--no-input", "-v", "0")
        topo.manage("collectstatic", "--no-input", "-v", "0")
        topo.manage("create_user", "manager", "--role", "catalog manager",
                    f"--password={topo.manager_password}", "--email", "manager@example.com")
        topo.start_web()
        topo.wait(lambda: fetch_status(Browser(topo.base, topo.public_origin), "/healthz")[0]
                  == 200, 120, "gunicorn /healthz to answer 200")
        topo.start_worker("machine-a", CUTOUT_QUEUES)
        topo.start_worker("machine-b", CUTOUT_QUEUES)
        topo.start_worker("default-1", "default")
        topo.start_beat()
        yield topo
    finally:
        topo.stop()
        topo.s3.stop()
        topo.redis.release()
        topo.db.drop()


def _browser(topo: Topology) -> Browser:
    return Browser(topo.base, topo.public_origin)


def _logged_in(topo: Topology) -> Browser:
    browser = _browser(topo)
    landed = browser.login("manager", topo.manager_password)
    assert landed == f"{topo.base}/", landed
    return browser


def _metrics(topo: Topology) -> dict[str, float]:
    status, _, body = fetch_status(_browser(topo), "/metrics",
                                   {"Authorization": f"Bearer {topo.metrics_token}"})
    assert status == 200, body[:500]
    values = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def _sql(topo: Topology, query: str, *params):
    with topo.db.connect() as conn:
        return conn.execute(query, params).fetchall()


# --- 1. the harness: production settings behind the proxy ------------------------------------


def test_healthz_is_up_through_gunicorn_with_production_settings(topology):
    status, headers, body = fetch_status(_browser(topology), "/healthz")
    assert status == 200, body
    assert json.loads(body) == {"status": "ok", "components": {
        "database": "up", "broker": "up", "storage": "up", "model": "up"}}
    # HSTS is only sent on secure requests: the forwarded header made this one secure.
    assert "max-age=31536000" in headers.get("Strict-Transport-Security", "")
    assert re.fullmatch(r"topology-[0-9a-f]{12}", headers["X-Request-ID"])


def test_plain_http_is_redirected_to_https_and_debug_is_off(topology):
    browser = Browser(topology.base, topology.public_origin, follow_redirects=False)
    plain = Browser(topology.base, topology.public_origin, follow_redirects=False,
                    behind_proxy=False)
    status, headers, _ = fetch_status(plain, "/accounts/login/")
    assert status == 301 and headers["Location"].startswith("https://"), (status, headers)
    # An unknown page answers the production 404 (no debug page, no URL list).
    status, _, body = fetch_status(browser, f"/no-such-page-{secrets.token_hex(4)}")
    assert status in (302, 404)
    assert b"URLconf" not in body and b"Traceback" not in body


def test_login_sets_secure_cookies_and_reaches_the_dashboard(topology):
    browser = _logged_in(topology)
    cookies = {c.name: c for c in browser.jar}
    assert cookies["sessionid"].secure and cookies["csrftoken"].secure
    page = browser.get("/").read()
    assert b"Dashboard" in page


def test_metrics_needs_its_token_and_reports_queue_depth(topology):
    anonymous = _browser(topology)
    assert fetch_status(anonymous, "/metrics")[0] == 403
    assert fetch_status(anonymous, "/metrics", {"Authorization": "Bearer wrong"})[0] == 403
    values = _metrics(topology)
    assert values["cutroom_broker_up"] == 1
    for queue in ("cutouts-interactive", "cutouts", "default"):
        assert f'cutroom_queue_depth{{queue="{queue}"}}' in values


def test_a_ping_goes_through_redis_to_the_default_worker(topology):
    browser = _logged_in(topology)
    browser.post("/system/ping", headers={"HX-Request": "true"})
    pid = int(topology.wait(
        lambda: re.search(r'class="worker-pid">(\d+)<', browser.get("/system/ping").read()
                          .decode()), 60, "the default worker to answer").group(1))
    default_worker = topology.procs["default-1"].popen.pid
    with open(f"/proc/{pid}/stat") as fh:
        parent = int(fh.read().rsplit(")", 1)[1].split()[1])
    assert parent == default_worker, (pid, parent, default_worker)


# --- 2. the catalog workflow over HTTP -----------------------------------------------------


def _url(name: str, *args) -> str:
    from django.urls import reverse

    return reverse(name, args=args)


def _upload(topo: Topology, browser: Browser, prefix: str, count: int) -> None:
    """Upload ``count`` product photos named <SKU>_MAIN.jpg the way the bulk upload page's
    script does: open an upload session, send each file on its own, finish the session."""
    files = [(f"{prefix}-{i:03d}_MAIN.jpg",
              product_jpeg(*SIZE, seed=(0 if prefix == "TOPO" else 500) + i))
             for i in range(count)]
    route = _url("catalog:bulk_upload")
    browser.get(route)  # the page, for its CSRF cookie
    json_accept = {"Accept": "application/json"}
    session = json.loads(browser.post(route, {
        "patterns": "{sku}_{position}.jpg", "create_products": "on", "expected": str(count),
    }, headers=json_accept).read())
    for name, data in files:
        answer = json.loads(browser.post_files(
            session["upload_url"], {"path": name}, [("file", name, data, "image/jpeg")],
            headers=json_accept).read())
        assert answer["status"] == "stored", answer
    browser.post(session["finish_url"], headers=json_accept).read()


def _start_batch(browser: Browser, profile: str = "fast") -> int:
    browser.get(_url("cutouts:batch_list"))
    response = browser.post(_url("cutouts:batch_start"), {"all_pending": "1", "profile": profile},
                            headers={"X-Request-ID": f"start-{secrets.token_hex(6)}"})
    return int(find(r"/cutouts/batches/(\d+)/", response.url))


def _batch_page(browser: Browser, batch_id: int) -> str:
    return browser.get(_url("cutouts:batch_detail", batch_id)).read().decode()


def _wait_batch(topo: Topology, browser: Browser, batch_id: int, timeout: float) -> str:
    def finished():
        page = _batch_page(browser, batch_id)
        status = find(r'id="batch-progress"[^>]*data-status="(\w+)"', page, re.S)
        return page if status in ("done", "failed", "cancelled") else None

    return topo.wait(finished, timeout, f"batch {batch_id} to finish", interval=1)


def _assert_every_cutout_done_once(topo: Topology, batch_id: int, count: int) -> list[tuple]:
    rows = _sql(topo, "SELECT id, status, worker, rgba_name, mask_name, version, error "
                      "FROM cutouts_cutout WHERE batch_id = %s", batch_id)
    assert len(rows) == count
    assert {r[1] for r in rows} == {"done"}, [(r[0], r[1], r[6]) for r in rows if r[1] != "done"]
    keys = set(topo.s3.keys())
    for _, _, _, rgba, mask, version, _ in rows:
        assert f"media/{rgba}" in keys and f"media/{mask}" in keys, rgba
        # Exactly one run folder with files for this version: a dead or duplicate run left
        # nothing behind.
        folder = rgba.rsplit("/", 2)[0]
        runs = {k.split("/")[4] for k in keys if k.startswith(f"media/{folder}/v{version}-")}
        assert len(runs) == 1, runs
    return rows


def test_catalog_workflow_over_http_then_a_worker_machine_dies_mid_batch(topology):
    topo = topology
    browser = _logged_in(topo)

    # Upload 20 images.
    _upload(topo, browser, "TOPO", IMAGES)
    uploaded = _sql(topo, "SELECT count(*) FROM catalog_imageasset WHERE status = 'uploaded'")
    assert uploaded[0][0] == IMAGES

    # Start a batch over HTTP and wait for it over HTTP.
    batch_id = _start_batch(browser)
    page = _wait_batch(topo, browser, batch_id, timeout=400)
    done = f"{IMAGES} of {IMAGES} ended: {IMAGES} done"
    assert done in page and 'data-status="done"' in page, page[:2000]
    rows = _assert_every_cutout_done_once(topo, batch_id, IMAGES)
    machines = {r[2].split("@")[0] for r in rows}
    assert machines == {"machine-a", "machine-b"}, machines

    # The request id of the HTTP request that started the batch reached the workers' JSON logs.
    worker_logs = json_log_lines(topo.procs["machine-a"].log() + topo.procs["machine-b"].log())
    task_lines = [r for r in worker_logs if r.get("task_id")]
    assert task_lines, "no JSON log line with a task_id in the workers' output"
    assert any(str(r.get("request_id", "")).startswith("start-") for r in task_lines), \
        task_lines[:5]
    # ... and gunicorn's JSON access line for that request carries the same id.
    web_logs = json_log_lines(topo.procs["web"].log())
    start_ids = {r["request_id"] for r in task_lines
                 if str(r.get("request_id", "")).startswith("start-")}
    assert any(r.get("request_id") in start_ids and r.get("path") == "/cutouts/batches/start"
               for r in web_logs), web_logs[-5:]

    # Throughput and state are visible to Prometheus.
    values = _metrics(topo)
    assert values['cutroom_cutouts{status="done"}'] == IMAGES
    assert values['cutroom_cutout_batches{status="done"}'] == 1
    assert values['cutroom_cutouts_finished_per_minute{status="done",window="1h"}'] > 0

    # Approve on the review grid, export to the Amazon preset, download the ZIP.
    _approve_all(topo, browser, IMAGES)
    _export_and_check_zip(topo, browser, [f"TOPO-{i:03d}" for i in range(IMAGES)])

    # Second batch: kill one "machine" while it is running a cutout.
    _upload(topo, browser, "KILL", IMAGES)
    batch2 = _start_batch(browser)
    victim = topo.procs["machine-b"]
    held_ids = _kill_mid_cutout(topo, victim, batch2)

    page = _wait_batch(topo, browser, batch2, timeout=400)
    assert 'data-status="done"' in page and done in page, page[:2000]
    rows = _assert_every_cutout_done_once(topo, batch2, IMAGES)
    # The cutout the dead machine held was run again, by the surviving one.
    for row in rows:
        if row[0] in held_ids:
            assert row[2].startswith("machine-a@"), row
    attempts = dict(_sql(topo, "SELECT id, attempts FROM cutouts_cutout WHERE id = ANY(%s)",
                         held_ids))
    assert all(n >= 2 for n in attempts.values()), attempts
    # Nothing from either batch was lost or failed.
    statuses = dict(_sql(topo, "SELECT status, count(*) FROM cutouts_cutout GROUP BY status"))
    assert statuses == {"done": 2 * IMAGES}, statuses
    values = _metrics(topo)
    assert values['cutroom_cutouts{status="failed"}'] == 0
    assert values['cutroom_cutout_batches{status="done"}'] == 2


def _approve_all(topo: Topology, browser: Browser, count: int) -> None:
    """Bulk approve from the review grid: tick every card, submit."""
    route = _url("cutouts:review_grid")
    grid = browser.get(route).read().decode()
    ids = re.findall(r'name="cutout" value="(\d+)"', grid)
    assert len(ids) == count, grid[:3000]
    browser.post(route, [("cutout", i) for i in ids]).read()
    approved = _sql(topo, "SELECT count(*) FROM cutouts_cutout WHERE review_status = "
                          "'approved' AND is_current")[0][0]
    assert approved == count


def _export_and_check_zip(topo: Topology, browser: Browser, skus: list[str]) -> None:
    """Export the approved cutouts to the Amazon main preset, download the ZIP (a signed URL
    on S3), and check it."""
    route = _url("cutouts:export_start")
    browser.get(_url("cutouts:export_list"))
    form = {"presets": "amazon_main", "skus": "\n".join(skus), "destination": "download",
            "brand": ""}
    response = browser.post(route, form)
    # 1200x900 photos: Amazon's 2000 px square at 85 % fill enlarges most products past 2x,
    # which the pre-check warns of before anything starts (2026-12-07, lows42); the form
    # comes back with those words and "Export anyway", which a manager then presses
    held = response.read().decode()
    warned = re.findall(r"<li>([^<]*)</li>", find(r'id="precheck-warnings"(.*?)</ul>', held, re.S))
    assert warned and all("will look soft" in w for w in warned), warned
    response = browser.post(route, {**form, "precheck_ok": "1"})
    job_id = int(find(r"/export/(\d+)/", response.url))

    def finished():
        page = browser.get(_url("cutouts:export_detail", job_id)).read().decode()
        status = find(r'id="export-progress"[^>]*data-status="(\w+)"', page, re.S)
        return page if status in ("done", "failed", "cancelled") else None

    page = topo.wait(finished, 300, f"export {job_id} to finish", interval=1)
    assert 'data-status="done"' in page, page[:3000]
    download = browser.get(_url("cutouts:export_download", job_id))
    # Private storage: the app answered with a short-lived signed S3 URL, not the bytes.
    assert download.url.startswith(topo.s3.endpoint) and "Signature" in download.url, \
        download.url
    data = download.read()
    exported, excluded = (int(n) for n in re.search(
        r"(\d+) exported · (\d+) excluded", page).groups())
    # Every approved cutout was planned; synthetic photos may fail Amazon's checks (then they
    # are reported in the manifest and left out of the ZIP, as the export issue specifies).
    assert exported + excluded == len(skus) and exported >= 1, (exported, excluded)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        manifest = archive.read("manifest.csv").decode("utf-8-sig")
        images = [n for n in names if n.lower().endswith((".jpg", ".jpeg"))]
        assert len(images) == exported, names
        from PIL import Image

        with Image.open(io.BytesIO(archive.read(images[0]))) as first:
            assert first.format == "JPEG" and first.mode == "RGB"
            assert max(first.size) >= 1600
            assert first.getpixel((0, 0)) == (255, 255, 255)
    rows = list(csv.DictReader(io.StringIO(manifest)))
    assert sorted(r["sku"] for r in rows) == sorted(skus), manifest[:2000]
    in_zip = [r for r in rows if not r.get("compliance", "").startswith("not exported")]
    assert len(in_zip) == exported


def _kill_mid_cutout(topo: Topology, victim, batch_id: int) -> list[int]:
    """SIGKILL ``victim`` while it is running a cutout of the batch (after two are done).

    The running row is locked (SELECT ... FOR UPDATE) while the kill happens, so the worker
    cannot finish it in the instant between looking and killing: the kill always lands
    mid-cutout. The dead worker's blocked UPDATE was inside its own transaction, which dies
    uncommitted with it."""
    import time

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        done = _sql(topo, "SELECT count(*) FROM cutouts_cutout WHERE batch_id = %s AND "
                          "status = 'done'", batch_id)[0][0]
        if done >= 2:
            with topo.db.connect() as conn, conn.transaction():
                locked = [r[0] for r in conn.execute(
                    "SELECT id FROM cutouts_cutout WHERE batch_id = %s AND status = 'running' "
                    "AND worker LIKE 'machine-b@%%' FOR UPDATE SKIP LOCKED",
                    (batch_id,)).fetchall()]
                if locked:
                    victim.kill()
                    assert not victim.alive()
            if locked:
                held = [r[0] for r in _sql(
                    topo, "SELECT id FROM cutouts_cutout WHERE id = ANY(%s) AND "
                          "status = 'running'", locked)]
                assert held == locked, (held, locked)
                return held
        time.sleep(0.02)
    raise AssertionError("machine-b never ran a cutout of the second batch")
