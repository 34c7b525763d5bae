"""Production: refuses to start with a missing secret or with DEBUG on."""

from .base import *  # noqa: F403
from .env import ImproperlyConfiguredEnv, env_bool, env_int, env_str
from .secret_checks import check_production_secrets, check_url_password

SECRET_KEY = env_str("SECRET_KEY")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("dev-insecure"):
    raise ImproperlyConfiguredEnv("SECRET_KEY must be a random string of at least 50 characters.")
# Placeholders copied from the examples and low-entropy values stop the start-up too.
check_production_secrets({
    name: env_str(name, "")
    for name in ("SECRET_KEY", "METRICS_TOKEN", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")
})
check_url_password("DATABASE_URL", env_str("DATABASE_URL", ""))
if env_bool("DEBUG", False):
    raise ImproperlyConfiguredEnv("DEBUG must be off in production settings.")
DEBUG = False

# TLS is terminated at the proxy (nginx), which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Webhooks leave over https only in production (catalog/webhooks.py, SSRF guard).
if env_bool("CUTROOM_WEBHOOK_ALLOW_HTTP", False):
    raise ImproperlyConfiguredEnv("CUTROOM_WEBHOOK_ALLOW_HTTP must be off in production.")
CUTROOM_WEBHOOK_ALLOW_HTTP = False

# --- Everything below: deployment topology (see deploy/ and docs/operations.md) ------------
from pathlib import Path  # noqa: E402

from .base import CELERY_BROKER_URL, DATABASES, LOGGING, STATIC_ROOT  # noqa: E402
from .env import env_choice, env_list  # noqa: E402

# /healthz (load balancers, container probes) and /metrics (Prometheus on the private network)
# may be fetched over plain HTTP without the proxy; everything else redirects to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12, minimum=60)
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Static files are collected at build/install time into a folder that ships with the code
# (the image bakes them in); runtime state stays in CUTROOM_VAR_DIR.
STATIC_ROOT = Path(env_str("CUTROOM_STATIC_ROOT", str(STATIC_ROOT)))

# PostgreSQL: persistent connections with health checks (base), and a bounded connect wait so a
# database outage makes /healthz answer 503 quickly instead of hanging the probe.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)

# Redis broker: keep connections alive across NAT/firewalls, give up on a dead socket quickly,
# and cancel (so the broker redelivers) tasks whose connection was lost: acks_late work is then
# never run twice in parallel after a broker failover.
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1),
        "socket_keepalive": True,
        "socket_timeout": 30,
        "socket_connect_timeout": 5,
        "health_check_interval": 25,
    }
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # keep retrying: a broker restart is not fatal
# Celery task events for Flower or a celery-exporter (the team's choice of monitoring); the
# /metrics endpoint below needs none of them.
CELERY_WORKER_SEND_TASK_EVENTS = env_bool("CELERY_EVENTS", True)
CELERY_TASK_SEND_SENT_EVENT = CELERY_WORKER_SEND_TASK_EVENTS

# Structured logs: JSON lines with request_id / task_id (config.logging).
LOG_FORMAT = env_choice("LOG_FORMAT", ("plain", "json"), "json")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
LOGGING["loggers"].update({
    "django.request": {"level": "WARNING"},
    "django.security": {"level": "WARNING"},
    "celery": {"level": env_str("CELERY_LOG_LEVEL", "INFO")},
})

# GET /metrics with "Authorization: Bearer <METRICS_TOKEN>"; unset = no endpoint (404).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# Behind one proxy, trust its Host; extra origins for CSRF come from CSRF_TRUSTED_ORIGINS.
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", False)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# nginx in front (deploy/): the client is the last X-Forwarded-For entry. Set 0 if gunicorn
# is reached directly, 2 behind a load balancer plus nginx (config.security.client_ip).
CUTROOM_TRUSTED_PROXIES = env_int("CUTROOM_TRUSTED_PROXIES", 1, minimum=0)
