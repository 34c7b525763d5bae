"""Start real Celery worker processes against the test database and broker."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    """The URL of the database the tests are using right now (the test copy, not the real one)."""
    sd = connection.settings_dict
    if sd["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{sd['NAME']}"
    if sd["ENGINE"] == "django.db.backends.postgresql":
        auth = quote(sd["USER"] or "")
        if sd.get("PASSWORD"):
            auth += ":" + quote(sd["PASSWORD"])
        host = sd.get("HOST") or "127.0.0.1"
        port = sd.get("PORT") or 5432
        return f"postgres://{auth}@{host}:{port}/{sd['NAME']}"
    raise RuntimeError(f"No worker URL for database engine {sd['ENGINE']}")


def worker_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": test_database_url(),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


class WorkerProcess:
    def __init__(self, proc: subprocess.Popen, log_path: Path, hostname: str):
        self.proc = proc
        self.log_path = log_path
        self.hostname = hostname

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children), as a crash would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def start_worker(
    *, queues: str = "cutouts-interactive,cutouts,default,webhooks", concurrency: int = 1,
    hostname: str | None = None, env: dict[str, str] | None = None, timeout: float = 60,
    beat: bool = False,
) -> WorkerProcess:
    """``beat=True`` embeds the scheduler (periodic reconciler), as ``dev.py run`` does."""
    hostname = hostname or f"test-{os.getpid()}-{time.monotonic_ns()}@%h"
    log_dir = Path(os.environ.get("CUTROOM_TEST_TMP", tempfile.gettempdir())) / "worker-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{hostname.split('@')[0]}-{time.monotonic_ns()}.log"
    log_file = open(log_path, "wb")  # noqa: SIM115 - the child process owns it
    extra = ["--beat", "--schedule", str(log_dir / f"beat-{time.monotonic_ns()}")] if beat \
        else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--queues", queues,
         "--concurrency", str(concurrency), "--hostname", hostname, "--loglevel", "info",
         "--without-gossip", "--without-mingle", *extra],
        cwd=ROOT, env=env or worker_env(), stdout=log_file, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = WorkerProcess(proc, log_path, hostname)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Worker exited with {proc.returncode}:\n{worker.log()}")
        if " ready." in worker.log():
            return worker
        time.sleep(0.2)
    worker.stop()
    raise RuntimeError(f"Worker did not become ready in {timeout} s:\n{worker.log()}")


@contextmanager
def running_worker(**kwargs):
    worker = start_worker(**kwargs)
    try:
        yield worker
    finally:
        worker.stop()


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.1, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout} s waiting for {message or predicate}")


def broker_name() -> str:
    return settings.CELERY_BROKER_URL.split("://")[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A throwaway redis-server of this test alone (its own port, no persistence), so a test
    can stop and restart its broker without touching anybody else's Redis."""

    def __init__(self):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.binary = binary
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)

        def answers():
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
            return False

        wait_for(answers, timeout=20, message="redis-server to answer")

    def stop(self) -> None:
        """Like a crash: every message in it is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
