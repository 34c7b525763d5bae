import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env):
    dropped = {"SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    full_env = {k: v for k, v in os.environ.items() if k not in dropped}
    if full_env.get("S3_SECRET_ACCESS_KEY"):
        # CI's moto server accepts any key; prod refuses CI's short placeholder one.
        full_env["S3_SECRET_ACCESS_KEY"] = secrets.token_urlsafe(32)
    full_env.update(DJANGO_SETTINGS_MODULE="config.settings.prod", ALLOWED_HOSTS="cutroom.example",
                    **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120)


def test_it_refuses_to_start_without_a_secret_key():
    result = _manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_it_refuses_to_start_with_debug_on():
    result = _manage("check", SECRET_KEY=secrets.token_urlsafe(64), DEBUG="true")
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_it_passes_check_deploy_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING",
                     SECRET_KEY=secrets.token_urlsafe(64))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
