"""`python3 dev.py test`: pytest options pass through, and system packages change only when
asked (--install-browser)."""

import importlib.util
import signal
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load():
    spec = importlib.util.spec_from_file_location("cutroom_dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def dev(monkeypatch):
    module = _load()
    ran = []
    monkeypatch.setattr(module, "run", lambda *cmd, env=None: ran.append([str(c) for c in cmd]))
    module.ran = ran
    return module


def test_it_passes_pytest_options_through_in_order(dev, monkeypatch):
    seen = {}
    monkeypatch.setattr(dev, "cmd_test", lambda args: seen.update(vars(args)) or 0)
    monkeypatch.setattr(sys, "argv", ["dev.py", "test", "-k", "healthz", "--durations", "5",
                                      "-x", "tests/config", "--install-browser"])
    assert dev.main() == 0
    assert seen["pytest_args"] == ["-k", "healthz", "--durations", "5", "-x", "tests/config"]
    assert seen["install_browser"] is True


def test_it_prints_its_help_without_installing_or_testing(dev, monkeypatch, capsys):
    monkeypatch.setattr(dev, "cmd_test", lambda args: pytest.fail("the suite ran"))
    monkeypatch.setattr(sys, "argv", ["dev.py", "test", "--help"])
    with pytest.raises(SystemExit) as exit_:
        dev.main()
    assert exit_.value.code == 0
    assert "--install-browser" in capsys.readouterr().out
    assert dev.ran == []


def test_it_leaves_a_help_after_a_double_dash_to_pytest(dev, monkeypatch):
    seen = {}
    monkeypatch.setattr(dev, "cmd_test", lambda args: seen.update(vars(args)) or 0)
    monkeypatch.setattr(sys, "argv", ["dev.py", "test", "--", "--help"])
    assert dev.main() == 0
    assert seen["pytest_args"] == ["--help"]


def test_it_leaves_an_install_browser_after_a_double_dash_to_pytest(dev):
    parsed = dev.split_test_args(["-q", "--", "--install-browser"])
    assert parsed == {"install_browser": False, "pytest_args": ["-q", "--install-browser"]}


def test_it_prints_the_apt_command_instead_of_installing(dev, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(dev, "CHROMIUM", tmp_path / "no-chromium")
    dev.ensure_chromium(install=False, whole_suite=False)  # selected tests: go on
    assert "apt-get install -y --no-install-recommends chromium" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        dev.ensure_chromium(install=False, whole_suite=True)
    assert "--install-browser" in str(stopped.value.code)
    assert dev.ran == []  # nothing ran apt-get


def test_it_installs_chromium_only_when_asked_and_root(dev, monkeypatch, tmp_path):
    monkeypatch.setattr(dev, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setattr(dev.os, "geteuid", lambda: 0, raising=False)
    monkeypatch.setattr(dev.shutil, "which", lambda name: f"/usr/bin/{name}")
    dev.ensure_chromium(install=True, whole_suite=True)
    assert dev.ran == [["apt-get", "update", "-qq"],
                       ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]]
    monkeypatch.setattr(dev.os, "geteuid", lambda: 1000, raising=False)
    dev.ran.clear()
    with pytest.raises(SystemExit):
        dev.ensure_chromium(install=True, whole_suite=True)
    assert dev.ran == []


# Reads the child's own PR_GET_PDEATHSIG (2) into the file named by its argument.
_DEATH_SIGNAL = """\
import ctypes, sys
got = ctypes.c_int()
ctypes.CDLL(None).prctl(2, ctypes.byref(got), 0, 0, 0)
open(sys.argv[1], "w").write(str(got.value))
"""


@pytest.mark.parametrize(("platform", "expected"), [
    ("linux", signal.SIGTERM), ("darwin", 0), ("win32", 0)])
def test_it_gives_every_child_the_death_signal_on_linux_only(monkeypatch, tmp_path, platform,
                                                              expected):
    # macOS and Windows have no prctl (and Windows' Popen refuses any preexec_fn): there the
    # children start without it. The branch is chosen by sys.platform, so it is tested here.
    monkeypatch.setattr(sys, "platform", platform)
    dev = _load()
    assert (dev.die_with_us() is None) == (platform != "linux")
    for own_session in (False, True):  # a step or the web; a supervised worker or beat
        out = tmp_path / f"pdeathsig-{own_session}"
        child = dev.Child([sys.executable, "-c", _DEATH_SIGNAL, out], own_session=own_session)
        assert child.proc.wait(30) == 0
        assert int(out.read_text()) == expected
        dev.LIVE.remove(child)


_DEAF = """\
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
open(sys.argv[1], "w").write("ready")
time.sleep(60)
"""


@pytest.mark.parametrize("groups", [True, False], ids=["posix", "no-process-groups"])
def test_it_stops_children_with_sigterm_then_kills_them_after_the_grace(monkeypatch, tmp_path,
                                                                       groups):
    # Without process groups (Windows: no os.killpg, no SIGHUP) the child itself is ended.
    if not groups:
        monkeypatch.setattr(sys, "platform", "win32")
        monkeypatch.delattr("os.killpg")
        monkeypatch.delattr("signal.SIGHUP")
    dev = _load()
    monkeypatch.setattr(dev, "STOP_GRACE", 1.0)
    polite = dev.Child([sys.executable, "-c", "import time; time.sleep(60)"], own_session=True)
    deaf = dev.Child([sys.executable, "-c", _DEAF, tmp_path / "ready"], own_session=True)
    step = dev.Child([sys.executable, "-c", "import time; time.sleep(60)"])
    deadline = time.monotonic() + 30
    while not (tmp_path / "ready").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    before = signal.getsignal(signal.SIGTERM)
    with dev.stopping_on_signals():
        started = time.monotonic()
        dev.halt()
    assert time.monotonic() - started < 15
    assert polite.proc.returncode == step.proc.returncode == -signal.SIGTERM
    assert deaf.proc.returncode == -signal.SIGKILL
    assert dev.LIVE == []
    assert signal.getsignal(signal.SIGTERM) == before  # handlers handed back
