"""Production refuses the secrets shipped as examples, and guessable ones, naming the variable."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings.env import ImproperlyConfiguredEnv
from config.settings.secret_checks import (
    check_production_secrets,
    check_url_password,
    entropy_bits,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [ROOT / "deploy/.env.example", ROOT / "deploy/systemd/cutroom.env.example",
            ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CHECKED = ("SECRET_KEY", "METRICS_TOKEN", "S3_SECRET_ACCESS_KEY", "S3_ACCESS_KEY_ID")


def shipped_example_values() -> list[tuple[str, str, str]]:
    """(file, variable, value) for every checked variable set in the shipped examples."""
    found = []
    for path in EXAMPLES:
        for name, value in re.findall(rf"\b({'|'.join(CHECKED)})=([^\s`'\"]+)",
                                      path.read_text()):
            if value not in ("…", "...") and not value.startswith("$"):
                found.append((path.name, name, value))
    return found


def test_it_reads_the_example_values_it_checks():
    names = {name for _, name, _ in shipped_example_values()}
    assert {"SECRET_KEY", "METRICS_TOKEN", "S3_SECRET_ACCESS_KEY"} <= names


# An access key id is an account name ("cutroom-app" in compose is fine); only "change-me"
# ids are placeholders. Every other checked variable is a secret.
@pytest.mark.parametrize(("source", "name", "value"), [
    row for row in shipped_example_values()
    if row[1] != "S3_ACCESS_KEY_ID" or "change" in row[2]
])
def test_it_refuses_every_secret_shipped_in_the_examples(source, name, value):
    with pytest.raises(ImproperlyConfiguredEnv, match=name):
        check_production_secrets({name: value})


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("SECRET_KEY", "a" * 60, "not random enough"),
    ("SECRET_KEY", "abcabcabc" * 7, "not random enough"),
    ("SECRET_KEY", "short", "shorter than 50"),
    ("SECRET_KEY", "", "shorter than 50"),
    ("METRICS_TOKEN", "token-token-token-token", "not random enough"),
    ("METRICS_TOKEN", "abc", "shorter than 20"),
    ("S3_SECRET_ACCESS_KEY", "topology", "shorter than 16"),
    ("S3_SECRET_ACCESS_KEY", "minioadmin", "placeholder"),
])
def test_it_refuses_low_entropy_secrets_with_the_variable_name(name, value, reason):
    with pytest.raises(ImproperlyConfiguredEnv, match=f"{name} .*{reason}"):
        check_production_secrets({name: value})


def test_it_accepts_generated_secrets_and_leaves_optional_ones_unset():
    check_production_secrets({
        "SECRET_KEY": secrets.token_urlsafe(64),
        "METRICS_TOKEN": secrets.token_urlsafe(16),
        "S3_SECRET_ACCESS_KEY": secrets.token_urlsafe(30),
        "S3_ACCESS_KEY_ID": "cutroom-app",
    })
    check_production_secrets({"SECRET_KEY": secrets.token_urlsafe(64), "METRICS_TOKEN": "",
                              "S3_SECRET_ACCESS_KEY": ""})


def test_it_refuses_the_example_database_password():
    example = (ROOT / "deploy/systemd/cutroom.env.example").read_text()
    url = re.search(r"DATABASE_URL=(\S+)", example).group(1)
    with pytest.raises(ImproperlyConfiguredEnv, match="DATABASE_URL has a placeholder"):
        check_url_password("DATABASE_URL", url)
    check_url_password("DATABASE_URL", f"postgres://cutroom:{secrets.token_urlsafe(20)}@db/x")
    check_url_password("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cutroom")


def test_it_measures_entropy_so_that_repetition_scores_nothing():
    assert entropy_bits("a" * 60) == 0
    assert entropy_bits(secrets.token_urlsafe(64)) > 400


def _prod_check(**env) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items()
            if k not in {"SECRET_KEY", "DEBUG", "METRICS_TOKEN", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    full.update(DJANGO_SETTINGS_MODULE="config.settings.prod", ALLOWED_HOSTS="cutroom.example",
                **env)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT,
                          env=full, capture_output=True, text=True, timeout=120)


def test_it_stops_production_start_up_on_the_example_secret_key():
    """The reproduction of issue 14 #2: the shipped example passed `check --deploy`."""
    example = {n: v for _, n, v in shipped_example_values()}
    result = _prod_check(SECRET_KEY=example["SECRET_KEY"])
    assert result.returncode != 0
    assert "SECRET_KEY is a placeholder" in result.stderr


def test_it_stops_production_start_up_on_the_example_metrics_token():
    result = _prod_check(SECRET_KEY=secrets.token_urlsafe(64),
                         METRICS_TOKEN="change-me-metrics-token")
    assert result.returncode != 0
    assert "METRICS_TOKEN is a placeholder" in result.stderr
