"""Command 1 of the README, end to end: `python3 dev.py run` on embedded defaults."""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.worker, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_it_runs_web_and_worker_on_embedded_defaults_and_stops_on_ctrl_c(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {
        "DATABASE_URL", "CELERY_BROKER_URL", "STORAGE_BACKEND", "DJANGO_SETTINGS_MODULE",
        "DJANGO_ALLOW_ASYNC_UNSAFE", "CUTROOM_TEST_TMP"}}
    env.update(CUTROOM_VAR_DIR=str(tmp_path / "var"), CUTROOM_VENV=str(Path(sys.prefix)),
               PYTHONUNBUFFERED="1")
    log = open(tmp_path / "run.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "dev.py", "run", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def output():
            log.flush()
            return (tmp_path / "run.log").read_text()

        health = _wait(lambda: urllib.request.urlopen(f"{base}/healthz", timeout=2), 180,
                       f"{base}/healthz\n{output()}")
        assert health.status == 200
        assert json.loads(health.read())["components"]["broker"] == "up"
        password = re.search(r"password: (\S+)", output()).group(1)

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(f"{base}/accounts/login/")
        token = next(c.value for c in jar if c.name == "csrftoken")
        body = urllib.parse.urlencode({"username": "admin", "password": password,
                                       "csrfmiddlewaretoken": token}).encode()
        page = opener.open(urllib.request.Request(f"{base}/accounts/login/", data=body,
                                                  headers={"Referer": f"{base}/"}))
        assert page.url == f"{base}/"
        assert b"Dashboard" in page.read()

        token = next(c.value for c in jar if c.name == "csrftoken")  # rotated at login
        ping = urllib.request.Request(f"{base}/system/ping", data=b"", headers={
            "X-CSRFToken": token, "HX-Request": "true", "Referer": f"{base}/"})
        opener.open(ping)
        answered = _wait(
            lambda: re.search(rb'class="worker-pid">(\d+)<',
                              opener.open(f"{base}/system/ping").read()),
            60, f"the worker to answer\n{output()}")
        assert int(answered.group(1)) not in (proc.pid, os.getpid())

        # A worker that dies is restarted; the web goes on serving.
        worker_pids = [int(p) for p in subprocess.run(
            ["pgrep", "-g", str(proc.pid), "-f", "celery -A config worker"],
            capture_output=True, text=True).stdout.split()]
        assert worker_pids, output()
        for pid in worker_pids:
            os.kill(pid, signal.SIGKILL)
        _wait(lambda: "restarting it" in output(), 30, f"the restart\n{output()}")
        token = next(c.value for c in jar if c.name == "csrftoken")
        opener.open(urllib.request.Request(f"{base}/system/ping", data=b"", headers={
            "X-CSRFToken": token, "HX-Request": "true", "Referer": f"{base}/"}))
        again = _wait(
            lambda: (m := re.findall(rb'class="worker-pid">(\d+)<',
                                     opener.open(f"{base}/system/ping").read()))
            and any(int(pid) not in worker_pids for pid in m),
            90, f"the restarted worker to answer\n{output()}")
        assert again
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(40)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, output()
    # Ctrl-C stopped both children: nothing is left in the process group.
    with pytest.raises(ProcessLookupError):
        for _ in range(50):
            os.killpg(proc.pid, 0)
            time.sleep(0.2)
