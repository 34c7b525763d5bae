"""`python3 dev.py test`: pytest options pass through, and system packages change only when
asked (--install-browser)."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def dev(monkeypatch):
    spec = importlib.util.spec_from_file_location("cutroom_dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
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
