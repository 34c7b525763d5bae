#!/usr/bin/env python3
"""Cutroom's two commands, runnable with nothing but Python 3.11+:

    python3 dev.py run     install into .venv, migrate, create the first admin, start web +
                           worker + beat
    python3 dev.py test    install into .venv (with test tools) and run the whole suite;
                           pytest options pass through: python3 dev.py test -k healthz -x
    python3 dev.py test --install-browser
                           the same, installing Debian's chromium first when it is missing
                           (root only; without this flag nothing outside .venv is installed)

Only the standard library is used here, because this runs before anything is installed.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("CUTROOM_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
CHROMIUM = Path("/usr/bin/chromium")


def say(message: str) -> None:
    print(f"\033[1m==> {message}\033[0m", flush=True)


def run(*cmd: str | Path, env: dict | None = None) -> None:
    """One step (an install, a migration, a check) to its end; a failure stops dev.py."""
    code = call(*cmd, env=env)
    if code:
        raise subprocess.CalledProcessError(code, [str(c) for c in cmd])


def call(*cmd: str | Path, env: dict | None = None) -> int:
    """One step to its end, giving its exit code. Ctrl-C or SIGTERM meanwhile leaves the wait
    with the step still registered, so ``halt`` stops it like any other child."""
    child = Child(cmd, env=env)
    code = child.proc.wait()
    LIVE.remove(child)
    return code


def ensure_python() -> None:
    if not ((3, 11) <= sys.version_info[:2] <= (3, 12)):
        sys.exit(f"Cutroom needs Python 3.11 or 3.12 (this is {sys.version.split()[0]}).")


def ensure_venv(extras: str) -> None:
    """Create .venv and install the project; reinstall only when pyproject.toml changes."""
    if not PY.exists():
        say(f"Creating virtualenv in {VENV}")
        run(sys.executable, "-m", "venv", VENV)
        run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".cutroom-installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"Installing Cutroom{f' [{extras}]' if extras else ''} into {VENV}")
    target = f".[{extras}]" if extras else "."
    run(PY, "-m", "pip", "install", "--quiet", "--editable", target)
    stamp.write_text(digest)


def manage(*args: str, env: dict | None = None) -> None:
    run(PY, "manage.py", *args, env=env)


def die_with_us() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes a child get SIGTERM when dev.py dies, however it dies: a
    ``kill -9`` of dev.py runs none of its clean-up, and the worker and beat (own sessions) and
    the web would live on, holding the broker and the port and sending the periodic tasks, and
    so would a migration or an install it was waiting for. ``Child`` passes it to every launch.

    Linux only (``prctl(PR_SET_PDEATHSIG)``, kept across exec); elsewhere (macOS, Windows,
    where Popen refuses any ``preexec_fn``) None, and a ``kill -9`` of dev.py still leaves its
    children running. The signal comes when the *thread* that forked the child ends, so every
    launch runs on dev.py's main thread (dev.py starts none)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the child only calls it
    prctl.restype = ctypes.c_int
    prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4  # no garbage in the high bits
    parent = os.getpid()

    def preexec() -> None:
        if prctl(1, int(signal.SIGTERM), 0, 0, 0) != 0:  # 1 = PR_SET_PDEATHSIG
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # dev.py died between the fork and the prctl: no signal
            os._exit(1)

    return preexec


STOP_GRACE = 20.0  # seconds a child has to stop on SIGTERM before it is killed


class Child:
    """A process dev.py started. Every launch goes through here, so each one dies with dev.py
    (``die_with_us``) and is registered in ``LIVE`` until it has ended, for ``halt``.
    ``own_session``: it and whatever it forks (a worker's pool) form a process group that is
    signalled as a whole; the group outlives a dead leader while one of its members lives."""

    def __init__(self, cmd: Sequence[str | Path], *, env: dict | None = None,
                 own_session: bool = False) -> None:
        self.own_session = own_session
        self.proc = subprocess.Popen([str(c) for c in cmd], cwd=ROOT, env=env,
                                     start_new_session=own_session, preexec_fn=die_with_us())
        LIVE.append(self)

    def signal(self, *, kill: bool) -> None:
        """SIGTERM to the child itself; SIGKILL to its whole group when it has one. The leader
        stops what it forked on SIGTERM (the worker's warm shutdown ends its pool): a SIGTERM
        to the whole group killed the pool's processes under it, which Celery logs as an ERROR
        ("exited with signal 15") on every clean stop (QA 2026-12-05). Without process groups
        (Windows, no ``os.killpg`` nor SIGKILL) the process itself is ended."""
        if kill and self.own_session and hasattr(os, "killpg"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        elif kill:
            self.proc.kill()  # no-ops once the child has been reaped
        else:
            self.proc.terminate()


LIVE: list[Child] = []
ASKED_TO_STOP = 0  # Ctrl-C, SIGTERM and SIGHUP received so far


def halt() -> None:
    """Stop every child still registered: the one way dev.py stops what it started, whatever
    asked (Ctrl-C, SIGTERM, SIGHUP, the web exiting, a failed step). SIGTERM first, so the web
    closes and the worker shuts down warm; but a warm shutdown waits for the running task, which
    may never end, so whatever is left after ``STOP_GRACE`` seconds, or at once on a second
    Ctrl-C or SIGTERM, gets SIGKILL (for a group, the whole group, its leader included)."""
    children = list(LIVE)
    try:
        if ASKED_TO_STOP < 2:  # the second signal may come before this, while saying "Stopping"
            for child in children:
                child.signal(kill=False)
            deadline = time.monotonic() + STOP_GRACE
            for child in children:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.proc.wait(max(0.1, deadline - time.monotonic()))
            if any(child.proc.returncode is None for child in children):
                say(f"Still running after {STOP_GRACE:.0f} s; killing it")
    except KeyboardInterrupt:
        pass
    finally:
        if children and ASKED_TO_STOP >= 2:
            say("Asked again; killing what is left")
        with ignoring_stop_signals():  # a third signal must not leave the kills half done
            for child in children:
                child.signal(kill=True)
                child.proc.wait()
                LIVE.remove(child)


def _stop_signals() -> list[signal.Signals]:
    # SIGHUP: a closed terminal (the worker and beat are in their own sessions, so only dev.py
    # hears it); Windows has none.
    return [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])


@contextlib.contextmanager
def stopping_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP stop dev.py exactly as Ctrl-C does: each raises KeyboardInterrupt
    wherever dev.py is (waiting for a migration, an install or the web), so one path leads to
    ``halt``. A signal dev.py was started with ignored (``nohup``) stays ignored."""
    def stop(signum: int, frame: object) -> None:
        global ASKED_TO_STOP
        ASKED_TO_STOP += 1
        raise KeyboardInterrupt

    previous = {}
    for sig in _stop_signals():
        if signal.getsignal(sig) != signal.SIG_IGN:
            previous[sig] = signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def ignoring_stop_signals() -> Iterator[None]:
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in _stop_signals()}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def cmd_run(args: argparse.Namespace) -> int:
    ensure_venv("")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get(
        "DJANGO_SETTINGS_MODULE", "config.settings.dev")}
    var_dir = Path(os.environ.get("CUTROOM_VAR_DIR", ROOT / "var"))
    var_dir.mkdir(parents=True, exist_ok=True)
    say("Applying migrations")
    manage("migrate", "--no-input", "-v", "0", env=env)
    manage("ensure_admin", env=env)
    try:
        say(f"Starting web on http://{args.host}:{args.port}/, a Celery worker and Celery beat "
            "(Ctrl-C stops all three)")
        worker = Supervised("The worker", env, [
            str(PY), "-m", "celery", "-A", "config", "worker",
            "--queues", "cutouts-interactive,cutouts,default,webhooks",
            "--concurrency", str(args.concurrency), "--loglevel", "info"])
        # Beat is its own supervised process, not the worker's embedded ``--beat`` child: a
        # killed embedded beat stayed a zombie nobody noticed (periodic tasks stopped), and a
        # killed worker left its beat child running beside the restarted worker's (every task
        # sent twice).
        beat = Supervised("Celery beat", env, [
            str(PY), "-m", "celery", "-A", "config", "beat", "--loglevel", "info",
            "--schedule", str(var_dir / "celerybeat-schedule")])
        web = Child([PY, "manage.py", "runserver", f"{args.host}:{args.port}", "--noreload"],
                    env=env)
        while web.proc.poll() is None:
            for service in (worker, beat):
                service.supervise()
            time.sleep(0.5)
        say("The web process exited; stopping the worker and beat")
    except KeyboardInterrupt:
        say("Stopping web, worker and beat")
    finally:
        halt()
    return 0


class Supervised:
    """One Celery process that is restarted when it dies, with its whole process tree.

    It runs in its own session, so its process group holds it and everything it forks (the
    worker's pool children): a dead process's group is killed before the restart, so nothing
    of the old tree (a pool child, a beat) runs beside the new one. A process that keeps dying
    at once is restarted with a back-off (1, 2, 4 ... 30 s) without holding up the others.
    Restarts happen in ``supervise``, on dev.py's main thread like the first start (see
    ``die_with_us``); stopping is ``halt``'s, like every other child's."""

    def __init__(self, name: str, env: dict, cmd: list[str]) -> None:
        self.name, self.env, self.cmd = name, env, cmd
        self.restarts: list[float] = []
        self.start_at = 0.0
        self.child: Child | None = None
        self.start()

    def start(self) -> None:
        self.child = Child(self.cmd, env=self.env, own_session=True)

    def supervise(self) -> None:
        if self.child is None:
            if time.monotonic() >= self.start_at:
                self.start()
            return
        if self.child.proc.poll() is None:
            return
        # Dead (and reaped by poll, so no zombie): the rest of its tree goes before the restart.
        self.child.signal(kill=True)
        LIVE.remove(self.child)
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < 60] + [now]
        delay = min(30, 2 ** (len(self.restarts) - 1)) if len(self.restarts) > 1 else 0
        say(f"{self.name} exited ({self.child.proc.returncode}); restarting it"
            + (f" in {delay} s" if delay else ""))
        self.child, self.start_at = None, now + delay
        self.supervise()


APT_CHROMIUM = ("apt-get", "install", "-y", "--no-install-recommends", "chromium")


def ensure_chromium(*, install: bool, whole_suite: bool) -> None:
    """System packages change only when asked (``--install-browser``); otherwise this says
    which command installs the browser. A run of selected tests goes on without it (browser
    tests among them fail saying why); the whole suite cannot pass, so it stops here."""
    if CHROMIUM.exists():
        return
    command = " ".join(APT_CHROMIUM)
    if install:
        if not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get")):
            sys.exit(f"--install-browser needs root and apt-get. Run:\n    sudo apt-get update && "
                     f"sudo {command}\nthen run this command again.")
        say(f"Installing Debian's chromium for the browser tests: {command}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run("apt-get", "update", "-qq", env=env)
        run(*APT_CHROMIUM, env=env)
        return
    message = (f"The browser tests need Debian's Chromium at {CHROMIUM}; nothing was installed. "
               f"Install it with:\n    sudo apt-get update && sudo {command}\n"
               "or run `python3 dev.py test --install-browser` as root.")
    if whole_suite:
        sys.exit(message)
    print(message, file=sys.stderr, flush=True)


def split_test_args(argv: list[str]) -> dict:
    """``dev.py test`` options vs. pytest's: everything but ``--install-browser`` (before a
    ``--``) goes to pytest untouched, in order (argparse would reject ``-k`` and friends)."""
    if "--" in argv:
        cut = argv.index("--")
        ours, after = argv[:cut], argv[cut + 1:]
    else:
        ours, after = argv, []
    install = "--install-browser" in ours
    return {"install_browser": install,
            "pytest_args": [a for a in ours if a != "--install-browser"] + after}


def check_architecture(env: dict) -> None:
    """The import contracts and the type check (both configured in pyproject.toml), before the
    suite: a broken layer or a type error stops the run here, saying which check failed."""
    checks: tuple[tuple[str, list[str | Path], str], ...] = (
        ("Import contracts (lint-imports)", [BIN / "lint-imports", "--no-logo"],
         "an import breaks a contract of [tool.importlinter] in pyproject.toml"),
        ("Type check (mypy)", [PY, "-m", "mypy"],
         "mypy found type errors in the modules [tool.mypy] in pyproject.toml checks"),
    )
    for title, cmd, meaning in checks:
        say(title)
        if call(*cmd, env=env) != 0:
            sys.exit(f"{title} failed: {meaning} (details above). The test suite did not run.")


def cmd_test(args: argparse.Namespace) -> int:
    ensure_venv("test")
    ensure_chromium(install=args.install_browser, whole_suite=not args.pytest_args)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    say("Lint (ruff) and migration check")
    run(BIN / "ruff", "check", ".")
    manage("makemigrations", "--check", "--dry-run", env=env)
    check_architecture(env)
    say("Running the test suite")
    return call(PY, "-m", "pytest", *args.pytest_args, env=env)


def main() -> int:
    ensure_python()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="install and run web + worker on embedded defaults")
    p_run.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p_run.add_argument("--port", default=os.environ.get("PORT", "8000"))
    p_run.add_argument("--concurrency", type=int, default=int(os.environ.get("WORKERS", "2")))
    p_run.set_defaults(func=cmd_run)
    p_test = sub.add_parser("test", help="install and run the full test suite (pytest options "
                                         "pass through: -k, -x, --durations, paths)",
                            epilog="pytest's own help: python3 dev.py test -- --help")
    p_test.add_argument("--install-browser", action="store_true",
                        help="install Debian's chromium with apt-get when missing (root)")
    p_test.add_argument("pytest_args", nargs="*", help="passed to pytest unchanged")
    p_test.set_defaults(func=cmd_test)
    argv = sys.argv[1:]
    ours = argv[1:argv.index("--")] if "--" in argv else argv[1:]
    if argv[:1] == ["test"] and not {"-h", "--help"} & set(ours):
        args = argparse.Namespace(func=cmd_test, **split_test_args(argv[1:]))
    else:
        args = parser.parse_args(argv)
    with stopping_on_signals():
        try:
            return args.func(args)
        except subprocess.CalledProcessError as exc:
            print(f"Command failed ({exc.returncode}): {' '.join(map(str, exc.cmd))}",
                  file=sys.stderr)
            return exc.returncode or 1
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM or SIGHUP before or after `run` started up
            say("Stopping")
            return 130
        finally:
            halt()  # whatever is still running: the step interrupted, nothing otherwise


if __name__ == "__main__":
    sys.exit(main())
