"""The production topology as processes (no containers): gunicorn with production settings,
Celery workers with their own host names, beat, on PostgreSQL + Redis + moto-S3.

Each run gets its OWN throwaway PostgreSQL database (``cutroom_topology_<random>``), its own
Redis database number and its own S3 bucket, so it never touches the data of the test run
that contains it, nor another developer's.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379"
REDIS_CLAIM_KEY = "cutroom:topology:claim"

# Variables of the surrounding test run that must not leak into the topology's processes.
_DROPPED = {
    "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL", "STORAGE_BACKEND",
    "S3_BUCKET", "S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION",
    "S3_ADDRESSING_STYLE", "CUTROOM_TEST_TMP", "CUTROOM_VAR_DIR", "DJANGO_ALLOW_ASYNC_UNSAFE",
    "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "LOG_FORMAT",
}


class ServicesUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_server_url() -> str:
    """The PostgreSQL server to create the throwaway database on (maintenance db 'postgres')."""
    url = os.environ.get("TOPOLOGY_POSTGRES_URL")
    if not url:
        db = os.environ.get("DATABASE_URL", "")
        url = db if db.startswith(("postgres://", "postgresql://")) else DEFAULT_POSTGRES
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))


def redis_server_url() -> str:
    url = os.environ.get("TOPOLOGY_REDIS_URL")
    if not url:
        broker = os.environ.get("CELERY_BROKER_URL", "")
        url = broker if broker.startswith("redis://") else DEFAULT_REDIS
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def check_services() -> None:
    """Raise ServicesUnavailable with what is missing and where it was looked for."""
    import psycopg
    import redis

    problems = []
    pg = postgres_server_url()
    try:
        with psycopg.connect(_conninfo(pg), connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        problems.append(f"PostgreSQL at {_safe(pg)}: {exc}".strip())
    rd = redis_server_url()
    try:
        redis.Redis.from_url(rd, socket_connect_timeout=3).ping()
    except Exception as exc:
        problems.append(f"Redis at {rd}: {exc}")
    if problems:
        raise ServicesUnavailable("; ".join(problems))


def _conninfo(url: str) -> str:
    parts = urlsplit(url)
    scheme = "postgresql" if parts.scheme.startswith("postgres") else parts.scheme
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))


def _safe(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


# --- throwaway resources ----------------------------------------------------------------------


class ThrowawayDatabase:
    def __init__(self) -> None:
        self.server = postgres_server_url()
        self.name = f"cutroom_topology_{secrets.token_hex(4)}"
        parts = urlsplit(self.server)
        self.url = urlunsplit((parts.scheme, parts.netloc, f"/{self.name}", "", ""))

    def create(self) -> None:
        import psycopg
        from psycopg import sql

        # template0: CREATE DATABASE from template1 fails while anyone else (another test
        # run creating its database) is connected to template1.
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
            sql.Identifier(self.name))
        for attempt in range(5):
            try:
                with psycopg.connect(_conninfo(self.server), autocommit=True) as conn:
                    conn.execute(statement)
                return
            except psycopg.errors.ObjectInUse:
                if attempt == 4:
                    raise
                time.sleep(1 + attempt)

    def drop(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(_conninfo(self.server), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(self.name)))

    def connect(self):
        import psycopg

        return psycopg.connect(_conninfo(self.url), autocommit=True)


class ThrowawayRedisDb:
    """Claims an empty Redis database number (1-14; 0 is the usual default, CI uses 15)."""

    def __init__(self) -> None:
        self.server = redis_server_url()
        self.number: int | None = None
        self.token = secrets.token_hex(8)

    def claim(self) -> int:
        import redis

        numbers = list(range(1, 15))
        secrets.SystemRandom().shuffle(numbers)
        for n in numbers:
            client = redis.Redis.from_url(f"{self.server}/{n}")
            try:
                if client.dbsize() == 0 and client.set(REDIS_CLAIM_KEY, self.token, nx=True,
                                                       ex=3600):
                    self.number = n
                    return n
            except redis.ResponseError:  # fewer databases configured
                break
        raise ServicesUnavailable(f"No empty Redis database number on {self.server}")

    @property
    def url(self) -> str:
        return f"{self.server}/{self.number}"

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)

    def release(self) -> None:
        if self.number is None:
            return
        client = self.client()
        if client.get(REDIS_CLAIM_KEY) in (self.token.encode(), None):
            client.flushdb()


class S3Server:
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
        self.bucket = f"cutroom-topology-{secrets.token_hex(4)}"
        self.endpoint = ""

    def start(self) -> None:
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per S3 request
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.client().create_bucket(Bucket=self.bucket)

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="topology",
                            aws_secret_access_key="topology", region_name="us-east-1")

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix)
        return [o["Key"] for page in pages for o in page.get("Contents", [])]

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.server.stop()


# --- processes ----------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group (main process and pool children): a crash."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(10)

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Topology:
    tmp: Path
    db: ThrowawayDatabase = field(default_factory=ThrowawayDatabase)
    redis: ThrowawayRedisDb = field(default_factory=ThrowawayRedisDb)
    s3: S3Server = field(default_factory=S3Server)
    port: int = field(default_factory=free_port)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(64))
    metrics_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    s3_secret: str = field(default_factory=lambda: secrets.token_urlsafe(30))
    procs: dict[str, Proc] = field(default_factory=dict)
    manager_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def public_origin(self) -> str:
        """What the browser sees: nginx terminates TLS in front of gunicorn."""
        return f"https://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
        env.update({
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            "SECRET_KEY": self.secret_key,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": self.db.url,
            "CELERY_BROKER_URL": self.redis.url,
            "CELERY_VISIBILITY_TIMEOUT": "30",
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": self.s3.bucket,
            "S3_ENDPOINT_URL": self.s3.endpoint,
            "S3_ACCESS_KEY_ID": "topology",
            # Production settings refuse guessable secrets; moto accepts any.
            "S3_SECRET_ACCESS_KEY": self.s3_secret,
            "S3_REGION": "us-east-1",
            "S3_ADDRESSING_STYLE": "path",
            "CUTROOM_VAR_DIR": str(self.tmp / "var"),
            "CUTROOM_STATIC_ROOT": str(self.tmp / "static"),
            "CUTROOM_ONNX_THREADS": "1",
            "METRICS_TOKEN": self.metrics_token,
            "LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
            "OMP_NUM_THREADS": "1",
            **self.extra_env,
        })
        return env

    # -- lifecycle --

    def manage(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env(),
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
                               f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
        return result

    def spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> Proc:
        log_path = self.tmp / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = open(log_path, "wb")  # noqa: SIM115 - the child owns it
        popen = subprocess.Popen(cmd, cwd=ROOT, env=env or self.env(), stdout=log_file,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        log_file.close()
        proc = Proc(name, popen, log_path)
        self.procs[name] = proc
        return proc

    def start_web(self) -> Proc:
        env = self.env()
        env.update(GUNICORN_BIND=f"127.0.0.1:{self.port}", GUNICORN_WORKERS="2",
                   GUNICORN_THREADS="4", GUNICORN_WORKER_TMP_DIR=str(self.tmp))
        return self.spawn("web", [sys.executable, "-m", "gunicorn", "config.wsgi:application",
                                  "--config", str(ROOT / "deploy" / "gunicorn.conf.py")], env)

    def start_worker(self, name: str, queues: str, concurrency: int = 1) -> Proc:
        proc = self.spawn(name, [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--queues", queues,
            "--hostname", f"{name}@%h", "--concurrency", str(concurrency),
            "--prefetch-multiplier", "1", "--loglevel", "INFO", "--without-gossip",
        ])
        self.wait(lambda: " ready." in proc.log() or self._died(proc), 120,
                  f"worker {name} to be ready")
        return proc

    def start_beat(self) -> Proc:
        proc = self.spawn("beat", [
            sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
            "--schedule", str(self.tmp / "celerybeat-schedule"),
        ])
        self.wait(lambda: "beat: Starting" in proc.log() or self._died(proc), 60,
                  "beat to start")
        return proc

    def _died(self, proc: Proc) -> bool:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n"
                               f"{proc.log()[-5000:]}")
        return False

    def wait(self, predicate, timeout: float, what: str, interval: float = 0.2):
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            try:
                value = predicate()
            except (OSError, urllib.error.URLError) as exc:
                last_error, value = exc, None
            if value:
                return value
            time.sleep(interval)
        logs = "\n".join(f"--- {p.name} ---\n{p.log()[-3000:]}" for p in self.procs.values())
        raise AssertionError(f"timed out after {timeout} s waiting for {what} "
                             f"(last error: {last_error})\n{logs}")

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            proc.stop()

    def all_logs(self) -> str:
        return "\n".join(p.log() for p in self.procs.values())


def json_log_lines(text: str) -> list[dict]:
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            with contextlib.suppress(ValueError):
                rows.append(json.loads(line))
    return rows


# --- an HTTP client that behaves like a browser behind the TLS proxy ---------------------------


class _ProxyCookiePolicy(http.cookiejar.DefaultCookiePolicy):
    """The client really talks HTTPS to nginx; here it talks HTTP to gunicorn with
    X-Forwarded-Proto: https, so Secure cookies must still be sent back."""

    def return_ok_secure(self, cookie, request):
        return True


class _ForwardedProto(urllib.request.BaseHandler):
    handler_order = 100

    def __init__(self, request_ids: list[str]):
        self.request_ids = request_ids

    def http_request(self, req):
        req.add_unredirected_header("X-Forwarded-Proto", "https")
        if not req.has_header("X-request-id"):
            rid = f"topology-{secrets.token_hex(6)}"
            req.add_unredirected_header("X-Request-ID", rid)
            self.request_ids.append(rid)
        return req


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Browser:
    def __init__(self, base: str, public_origin: str, *, follow_redirects: bool = True,
                 behind_proxy: bool = True):
        self.base = base
        self.origin = public_origin
        self.jar = http.cookiejar.CookieJar(policy=_ProxyCookiePolicy())
        self.request_ids: list[str] = []
        handlers: list = [urllib.request.HTTPCookieProcessor(self.jar)]
        if behind_proxy:
            handlers.append(_ForwardedProto(self.request_ids))
        if not follow_redirects:
            handlers.append(_NoRedirect())
        self.opener = urllib.request.build_opener(*handlers)

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base}{path}"

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def get(self, path: str, headers: dict | None = None, timeout: float = 30):
        return self.opener.open(urllib.request.Request(self.url(path), headers=headers or {}),
                                timeout=timeout)

    def _csrf_headers(self) -> dict:
        return {"X-CSRFToken": self.cookie("csrftoken") or "", "Origin": self.origin,
                "Referer": f"{self.origin}/"}

    def post(self, path: str, fields: dict | list | None = None, headers: dict | None = None,
             timeout: float = 60):
        pairs = list(fields.items()) if isinstance(fields, dict) else list(fields or [])
        pairs.append(("csrfmiddlewaretoken", self.cookie("csrftoken") or ""))
        body = urllib.parse.urlencode(pairs, doseq=True).encode()
        return self.opener.open(urllib.request.Request(
            self.url(path), data=body, headers={**self._csrf_headers(), **(headers or {})}),
            timeout=timeout)

    def post_files(self, path: str, fields: dict, files: list[tuple[str, str, bytes, str]],
                   headers: dict | None = None, timeout: float = 300):
        """multipart/form-data; files are (field, filename, content, content type)."""
        boundary = f"----cutroom{secrets.token_hex(12)}"
        chunks: list[bytes] = []
        items = list(fields.items()) + [("csrfmiddlewaretoken", self.cookie("csrftoken") or "")]
        for name, value in items:
            chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                          f"\r\n\r\n{value}\r\n".encode())
        for name, filename, content, ctype in files:
            chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                          f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'.encode())
            chunks.append(content + b"\r\n")
        chunks.append(f"--{boundary}--\r\n".encode())
        return self.opener.open(urllib.request.Request(
            self.url(path), data=b"".join(chunks),
            headers={**self._csrf_headers(),
                     "Content-Type": f"multipart/form-data; boundary={boundary}",
                     **(headers or {})}), timeout=timeout)

    def login(self, username: str, password: str) -> str:
        self.get("/accounts/login/")
        response = self.post("/accounts/login/", {"username": username, "password": password})
        return response.url


def fetch_status(browser: Browser, path: str, headers: dict | None = None) -> tuple[int, dict,
                                                                                   bytes]:
    try:
        response = browser.get(path, headers=headers)
        return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def find(pattern: str, text: str, flags: int = 0) -> str:
    match = re.search(pattern, text, flags)
    if not match:
        raise AssertionError(f"{pattern!r} not found in:\n{text[:3000]}")
    return match.group(1)


def which_or_none(name: str) -> str | None:
    return shutil.which(name)
