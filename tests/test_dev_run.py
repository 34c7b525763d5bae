"""Command 1 of the README, end to end: `python3 dev.py run` on embedded defaults."""

import contextlib
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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Proc:
    pid: int
    ppid: int
    state: str
    argv: tuple[str, ...]

    def runs(self, command: str) -> bool:
        """A live ``celery -A config <command>`` (``beat`` is its own process, never the
        worker's embedded ``--beat`` child)."""
        argv = self.argv
        return self.state != "Z" and "celery" in argv and command in argv[argv.index("celery"):]


def _processes(var_dir: Path) -> list[_Proc]:
    """Every process of this run (by its CUTROOM_VAR_DIR), wherever it has been re-parented:
    an orphan of a killed worker counts as much as the restarted one."""
    marker = f"CUTROOM_VAR_DIR={var_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile, or not ours
            continue
        state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
        found.append(_Proc(int(entry.name), int(ppid), state,
                           tuple(a.decode(errors="replace") for a in argv if a)))
    return found


def _beats(var_dir: Path) -> list[_Proc]:
    return [p for p in _processes(var_dir) if p.runs("beat")]


def _start(tmp_path, port):
    env = {k: v for k, v in os.environ.items() if k not in {
        "DATABASE_URL", "CELERY_BROKER_URL", "STORAGE_BACKEND", "DJANGO_SETTINGS_MODULE",
        "DJANGO_ALLOW_ASYNC_UNSAFE", "CUTROOM_TEST_TMP"}}
    env.update(CUTROOM_VAR_DIR=str(tmp_path / "var"), CUTROOM_VENV=str(Path(sys.prefix)),
               PYTHONUNBUFFERED="1")
    log = open(tmp_path / "run.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "dev.py", "run", "--port", str(port),
                             "--concurrency", "1"], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    return proc, log


def _interrupt(proc):
    """Ctrl-C, as a person stops ``dev.py run``; its process group is killed if it hangs."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(40)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def _sweep(var_dir: Path):
    for p in _processes(var_dir):  # whatever a failed run left behind
        with contextlib.suppress(OSError):
            os.kill(p.pid, signal.SIGKILL)


def _stop(proc, var_dir: Path):
    try:
        _interrupt(proc)
    finally:
        _sweep(var_dir)


def test_it_runs_web_and_worker_on_embedded_defaults_and_stops_on_ctrl_c(tmp_path):
    port = _free_port()
    proc, log = _start(tmp_path, port)
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
        worker_pids = [p.pid for p in _processes(tmp_path / "var") if p.runs("worker")]
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
        _interrupt(proc)
    try:
        assert proc.returncode == 0, output()
        # Ctrl-C stopped web, worker and beat: nothing is left in the process group, nor any
        # process of the worker's or beat's own sessions.
        with pytest.raises(ProcessLookupError):
            for _ in range(50):
                os.killpg(proc.pid, 0)
                time.sleep(0.2)
        assert _wait(lambda: not _processes(tmp_path / "var") or None, 20, "no process left")
        # a warm shutdown: the worker stopped its own pool (a SIGTERM to its whole group killed
        # the pool's processes under it, an ERROR line on every clean stop)
        assert "exited with 'signal 15" not in output(), output()
    finally:
        _sweep(tmp_path / "var")  # so a failure here leaves no worker behind for later tests


def _output(tmp_path) -> str:
    return (tmp_path / "run.log").read_text()


def test_it_restarts_a_killed_beat_and_says_so(tmp_path):
    # QA: a kill -9 on the worker's embedded beat left a zombie, logged nothing, and the
    # periodic tasks (jobs-reconcile, webhooks-resend-due) stopped until the worker restarted.
    var = tmp_path / "var"
    proc, log = _start(tmp_path, _free_port())
    try:
        first = _wait(lambda: _beats(var), 180, f"a beat process\n{_output(tmp_path)}")
        assert len(first) == 1, first
        os.kill(first[0].pid, signal.SIGKILL)
        _wait(lambda: "Celery beat exited (-9); restarting it" in _output(tmp_path), 30,
              f"the beat restart to be logged\n{_output(tmp_path)}")
        again = _wait(lambda: [b for b in _beats(var) if b.pid != first[0].pid], 60,
                      f"a new beat\n{_output(tmp_path)}")
        time.sleep(2)
        # pids, not whole rows: the process state (S or R) changes between two reads
        assert [b.pid for b in _beats(var)] == [b.pid for b in again] and len(again) == 1
        # reaped, not a zombie
        assert not [p for p in _processes(var) if p.pid == first[0].pid]
    finally:
        _stop(proc, var)


def test_it_kills_a_dead_worker_s_whole_tree_and_keeps_exactly_one_beat(tmp_path):
    # QA: after a kill -9 on the worker main process, its beat child lived on (parent 1)
    # beside the restarted worker's, so every scheduled task was sent twice.
    var = tmp_path / "var"
    proc, log = _start(tmp_path, _free_port())
    try:
        def worker_tree():
            procs = _processes(var)
            mains = [p for p in procs if p.runs("worker") and p.ppid == proc.pid]
            kids = [p for p in procs if mains and p.ppid == mains[0].pid]
            return (mains[0], kids) if mains and kids else None

        main, kids = _wait(worker_tree, 180, f"the worker and its pool\n{_output(tmp_path)}")
        old_tree = {main.pid, *(k.pid for k in kids)}
        os.kill(main.pid, signal.SIGKILL)
        _wait(lambda: "The worker exited (-9); restarting it" in _output(tmp_path), 30,
              f"the worker restart\n{_output(tmp_path)}")
        _wait(lambda: [p for p in _processes(var) if p.runs("worker") and p.ppid == proc.pid
                       and p.pid not in old_tree], 60, f"a new worker\n{_output(tmp_path)}")
        # nothing of the killed worker's tree survives, re-parented or not
        assert _wait(lambda: not old_tree & {p.pid for p in _processes(var)} or None, 10,
                     f"the old worker tree to be gone: {_processes(var)}")
        _wait(lambda: _beats(var), 60, f"a beat process\n{_output(tmp_path)}")
        time.sleep(3)
        beats = _beats(var)
        assert len(beats) == 1, (beats, _processes(var))
        assert beats[0].ppid == proc.pid
    finally:
        _stop(proc, var)


def test_it_takes_web_worker_and_beat_down_when_dev_py_is_killed_9(tmp_path):
    # QA: after a kill -9 of dev.py, the worker and beat (each in its own session) lived on,
    # holding the broker and sending the periodic tasks, and so did the web on its port.
    var = tmp_path / "var"
    proc, log = _start(tmp_path, _free_port())
    try:
        def ours(command):
            return [p for p in _processes(var) if p.ppid == proc.pid and
                    (p.runs(command) if command != "web" else "runserver" in p.argv)]

        # up and running, Celery's own signal handlers installed: the worker has its pool
        # child and says ready, beat has started
        _wait(lambda: ours("worker") and ours("beat") and ours("web")
              and [p for p in _processes(var) if p.ppid == ours("worker")[0].pid]
              and " ready." in _output(tmp_path) and "beat: Starting" in _output(tmp_path),
              180, f"web, worker and beat\n{_output(tmp_path)}")
        os.kill(proc.pid, signal.SIGKILL)  # dev.py only: no chance to stop anything
        proc.wait(10)
        deadline = time.monotonic() + 20
        while (left := _processes(var)) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert not left, f"left running after dev.py died: {left}"
    finally:
        _sweep(var)


# A stand-in for .venv (CUTROOM_VENV): its python, ruff and lint-imports are this one script.
# Every process logs "<pid> <words>" once its signal handling is set up. Installs, migrations
# and checks end at once, except the one whose words hold FAKE_HANG; that one, the web and
# Celery run on (FAKE_DEAF: the hanging one ignores SIGTERM, as a worker in warm shutdown
# waits for a task that never ends).
_FAKE = """\
import os, signal, sys, time
words = [os.path.basename(sys.argv[0]), *sys.argv[1:]]
hangs = os.environ["FAKE_HANG"] in words
if hangs and os.environ.get("FAKE_DEAF"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(f"{os.getpid()} {' '.join(words)}\\n")
if hangs or "runserver" in words or "celery" in words:
    time.sleep(120)
"""


def _start_fake(tmp_path, argv, hang, deaf=False):
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "ruff", "lint-imports"):
        (bin_dir / name).write_text(f"#!{sys.executable}\n{_FAKE}")
        (bin_dir / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    env.update(CUTROOM_VAR_DIR=str(tmp_path / "var"), CUTROOM_VENV=str(tmp_path / "venv"),
               FAKE_LOG=str(tmp_path / "started"), FAKE_HANG=hang, PYTHONUNBUFFERED="1")
    if deaf:
        env["FAKE_DEAF"] = "1"
    log = open(tmp_path / "run.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "dev.py", *argv], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


def _started(tmp_path, word) -> list[int]:
    """Pids of the fake processes started so far whose command holds ``word``."""
    with contextlib.suppress(FileNotFoundError):
        lines = (tmp_path / "started").read_text().splitlines()
        return [int(line.split()[0]) for line in lines if word in line.split()[1:]]
    return []


def _alive(var: Path, pids) -> set[int]:
    return set(pids) & {p.pid for p in _processes(var)}


@pytest.mark.parametrize(("argv", "hang"), [
    (["test", "-q"], "pip"), (["test", "-q"], "pytest"),
    (["run"], "pip"), (["run"], "migrate"), (["run"], "ensure_admin"),
], ids=["test-install", "test-pytest", "run-install", "run-migrate", "run-ensure_admin"])
def test_it_takes_a_step_before_start_up_down_when_dev_py_is_killed_9(tmp_path, argv, hang):
    # QA: a kill -9 of dev.py during its migration, ensure_admin or an install left that
    # process running: only web, worker and beat had the death signal.
    var = tmp_path / "var"
    proc, log = _start_fake(tmp_path, argv, hang)
    try:
        step = _wait(lambda: _started(tmp_path, hang), 30,
                     f"the {hang} step\n{_output(tmp_path)}")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert _wait(lambda: not _alive(var, step) or None, 10,
                     f"the {hang} step {step} to die with dev.py")
    finally:
        _stop(proc, var)


def test_it_kills_a_step_that_ignores_sigterm_after_the_grace(tmp_path):
    # QA: SIGTERM to dev.py during a step left the step running (dev.py died at once); now it
    # stops it as Ctrl-C does: SIGTERM, then SIGKILL after the grace.
    var = tmp_path / "var"
    proc, log = _start_fake(tmp_path, ["run"], "migrate", deaf=True)
    try:
        step = _wait(lambda: _started(tmp_path, "migrate"), 30,
                     f"the migration\n{_output(tmp_path)}")
        proc.send_signal(signal.SIGTERM)
        proc.wait(28)  # the 20 s grace and some room on a busy machine
        assert "Still running after 20 s; killing it" in _output(tmp_path)
        assert not _alive(var, step), _output(tmp_path)
        assert proc.returncode == 130, _output(tmp_path)
    finally:
        _stop(proc, var)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_it_kills_a_worker_stuck_in_a_task_at_once_when_asked_twice(tmp_path, stop):
    # QA: a second Ctrl-C or SIGTERM while dev.py waited for a worker stuck in a long task broke
    # off the stop with a traceback and left the worker running.
    var = tmp_path / "var"
    proc, log = _start_fake(tmp_path, ["run"], "worker", deaf=True)
    try:
        _wait(lambda: _started(tmp_path, "runserver") and _started(tmp_path, "beat")
              and _started(tmp_path, "worker"), 30, f"web, worker and beat\n{_output(tmp_path)}")
        services = {*_started(tmp_path, "runserver"), *_started(tmp_path, "celery")}
        proc.send_signal(stop)
        _wait(lambda: "Stopping web, worker and beat" in _output(tmp_path), 10,
              f"the stop to begin\n{_output(tmp_path)}")
        assert _alive(var, _started(tmp_path, "worker")), "the worker should still be stopping"
        proc.send_signal(stop)
        proc.wait(10)  # well inside the 20 s grace
        assert proc.returncode == 0, _output(tmp_path)
        assert "killing what is left" in _output(tmp_path)
        assert not _alive(var, services), _output(tmp_path)
    finally:
        _stop(proc, var)
