import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings.env import (
    ImproperlyConfiguredEnv,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
)


def test_it_fails_loudly_when_a_required_variable_is_missing(monkeypatch):
    monkeypatch.delenv("CUTROOM_X", raising=False)
    with pytest.raises(ImproperlyConfiguredEnv, match="CUTROOM_X"):
        env_str("CUTROOM_X")


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("off", False)])
def test_it_parses_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("CUTROOM_X", raw)
    assert env_bool("CUTROOM_X") is expected


def test_it_rejects_a_typo_in_a_boolean(monkeypatch):
    monkeypatch.setenv("CUTROOM_X", "ture")
    with pytest.raises(ImproperlyConfiguredEnv, match="not a boolean"):
        env_bool("CUTROOM_X", False)


def test_it_rejects_non_integers_and_values_below_minimum(monkeypatch):
    monkeypatch.setenv("CUTROOM_X", "12k")
    with pytest.raises(ImproperlyConfiguredEnv, match="not an integer"):
        env_int("CUTROOM_X", 1)
    monkeypatch.setenv("CUTROOM_X", "0")
    with pytest.raises(ImproperlyConfiguredEnv, match="at least 1"):
        env_int("CUTROOM_X", 1, minimum=1)


def test_it_splits_lists_and_checks_choices(monkeypatch):
    monkeypatch.setenv("CUTROOM_X", " a.com, b.com ,,")
    assert env_list("CUTROOM_X") == ["a.com", "b.com"]
    monkeypatch.setenv("CUTROOM_X", "ftp")
    with pytest.raises(ImproperlyConfiguredEnv, match="local, s3"):
        env_choice("CUTROOM_X", ("local", "s3"))


@pytest.mark.parametrize(("raw", "message"), [("256MB", "not an integer"),
                                              ("-1", "must be at least 0")])
def test_it_refuses_to_start_with_a_retouch_step_budget_it_cannot_read(raw, message, tmp_path):
    env = {**os.environ, "CUTROOM_RETOUCH_STEPS_MB": raw, "CUTROOM_VAR_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", "import config.settings.base"],
                         cwd=Path(__file__).resolve().parents[2], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "CUTROOM_RETOUCH_STEPS_MB" in run.stderr and message in run.stderr
