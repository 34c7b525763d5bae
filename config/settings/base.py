"""Settings shared by every environment. Everything deployment-specific comes from env vars."""

from pathlib import Path
from typing import Any

import dj_database_url
from kombu import Exchange, Queue

from .env import env_bool, env_choice, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Runtime state (SQLite database, local media, embedded broker spool) lives outside the code.
# Settings only name folders; config.apps creates them when Django starts.
VAR_DIR = Path(env_str("CUTROOM_VAR_DIR", str(BASE_DIR / "var"))).resolve()

SECRET_KEY = env_str("SECRET_KEY", "dev-insecure-cutroom-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A refused form in plain words (a page older than the login), not Django's cookie page.
CSRF_FAILURE_VIEW = "config.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: runserver serves static files through WhiteNoise's middleware, as
    # production does, not Django's StaticFilesHandler, which let the SuspiciousFileOperation
    # of a path climbing out (/static/../x) through as a 500 (a 404 now, like any unknown path).
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    # REST API (/api/v1/): its Swagger UI and Redoc files are served from static, no CDN.
    "ninja",
    "axes",
    "catalog",
    "cutouts",
    # Last: its ready() creates the runtime folders (config.apps).
    "config.apps.CutroomConfig",
]

MIDDLEWARE = [
    # First: every response (redirects and errors too) carries X-Request-ID for the logs.
    "config.middleware.RequestIdMiddleware",
    # The real client IP (CUTROOM_TRUSTED_PROXIES) for axes, rate limits and the logs.
    "config.security.ClientIpMiddleware",
    # Upload temp files go away when the request ends, also on abort or error.
    "catalog.uploads.UploadTempCleanupMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy on every response.
    "config.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is explicitly marked public; an htmx request
    # is sent to the login page whole (HX-Redirect), not given it to swap in.
    "config.login.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "catalog.context_processors.roles",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'cutroom.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker processes share one SQLite file: WAL lets readers proceed during writes,
    # IMMEDIATE transactions avoid "database is locked" upgrades, the timeout absorbs bursts.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60  # hours
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Behind N proxies the client is the Nth address from the right of X-Forwarded-For; 0 = no
# proxy, the header is ignored (config.security.client_ip). Prod defaults to 1 (nginx).
CUTROOM_TRUSTED_PROXIES = env_int("CUTROOM_TRUSTED_PROXIES", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
# Per client IP: (requests, seconds) for POSTs to the login and password-reset forms.
CUTROOM_RATE_LIMITS = {
    "login": (env_int("CUTROOM_LOGIN_RATE", 20, minimum=1), 300),
    "password_reset": (env_int("CUTROOM_PASSWORD_RESET_RATE", 3, minimum=1), 900),
}
# Rate-limit counters live in the cache: per process by default; set CACHE_URL
# (redis://host:6379/1) so every web process shares them.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                          "LOCATION": "cutroom"}}
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "cutroom@localhost")

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

STORAGE_BACKEND = env_choice("STORAGE_BACKEND", ("local", "s3"), "local")
MEDIA_ROOT = VAR_DIR / "media"
EXPORTS_ROOT = VAR_DIR / "exports"
# Media is private: it is never served by URL directly, only through permission-checked views
# (local disk) or short-lived signed URLs (S3).
if STORAGE_BACKEND == "s3":
    _s3: dict[str, Any] = {
        "bucket_name": env_str("S3_BUCKET"),
        "endpoint_url": env_str("S3_ENDPOINT_URL", "") or None,
        "access_key": env_str("S3_ACCESS_KEY_ID", "") or None,
        "secret_key": env_str("S3_SECRET_ACCESS_KEY", "") or None,
        "region_name": env_str("S3_REGION", "") or None,
        "addressing_style": env_str("S3_ADDRESSING_STYLE", "") or None,
        "default_acl": "private",
        "querystring_auth": True,
        "querystring_expire": env_int("S3_SIGNED_URL_SECONDS", 300, minimum=10),
        "file_overwrite": False,
        "signature_version": "s3v4",
    }
    from botocore.config import Config as _BotoConfig

    # botocore waits 60 s per read and retries: a stalled endpoint held every request that
    # touched an image (and /healthz) for minutes. The read limit still covers one large part
    # of a 50 MP upload on a slow link; /healthz probes with its own, shorter limits.
    _s3["client_config"] = _BotoConfig(
        s3={"addressing_style": _s3["addressing_style"]},
        signature_version="s3v4",
        connect_timeout=env_float("S3_CONNECT_TIMEOUT", 5.0, minimum=0.5),
        read_timeout=env_float("S3_READ_TIMEOUT", 30.0, minimum=1.0),
        retries={"mode": "standard", "total_max_attempts": 3},
    )
    _S3 = "storages.backends.s3.S3Storage"
    STORAGES = {
        "default": {"BACKEND": _S3, "OPTIONS": {**_s3, "location": "media"}},
        "exports": {"BACKEND": _S3, "OPTIONS": {**_s3, "location": "exports"}},
    }
else:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": None}},
        "exports": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": str(EXPORTS_ROOT), "base_url": None}},
    }
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
# Images on S3 are reached by redirect to a signed URL: the CSP must allow that origin.
CUTROOM_CSP_MEDIA_SOURCES: list[str] = []
if STORAGE_BACKEND == "s3":
    CUTROOM_CSP_MEDIA_SOURCES = [_s3["endpoint_url"] or "https://*.amazonaws.com"]

# Large uploads stream to a temp file instead of memory; request bodies are capped per file
# by the ingest code, not here, so a 300-file drop is not refused wholesale.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Upload temp files live in their own folder and are deleted when the request ends, however it
# ends (catalog.uploads); `manage.py purge` removes what a killed process left behind.
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "upload-tmp")
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "catalog.uploads.TrackedTemporaryFileUploadHandler",
]
CUTROOM_UPLOAD_TMP_MAX_AGE_HOURS = env_int("CUTROOM_UPLOAD_TMP_MAX_AGE_HOURS", 6, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10_485_760
DATA_UPLOAD_MAX_NUMBER_FILES = 1000

# --- Celery ---------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
# kombu's own filesystem transport can hand a worker a half-written file and loses what a
# killed worker had taken (celery/kombu#1551). filesystem:// therefore means Cutroom's
# subclass: messages appear atomically (written aside, then renamed), a claimed message stays
# on disk until acknowledged and a dead worker's claims go back to the queue, and an
# unreadable file is set aside instead of killing the worker. See config/broker.py.
import kombu.transport  # noqa: E402

kombu.transport.TRANSPORT_ALIASES["filesystem"] = "config.broker:Transport"
# The stock transport stays reachable for the broker benchmark's baseline only.
kombu.transport.TRANSPORT_ALIASES["kombu-filesystem"] = "kombu.transport.filesystem:Transport"
FILESYSTEM_BROKER_OPTIONS = {
    "data_folder_in": str(BROKER_DIR / "queue"),
    "data_folder_out": str(BROKER_DIR / "queue"),
    "control_folder": str(BROKER_DIR / "control"),
    "store_processed": False,
    "polling_interval": 0.02,
}
if CELERY_BROKER_URL.startswith(("filesystem://", "kombu-filesystem://")):
    # Measured: 0.1 s polling gives ~50 ms pickup instead of ~1 s at the default interval;
    # 0.02 s keeps an idle worker's pickup short (a listdir is cheap); a busy one, its prefetch
    # full, waits for its ack instead of polling (config/broker.py).
    CELERY_BROKER_TRANSPORT_OPTIONS = dict(FILESYSTEM_BROKER_OPTIONS)
elif CELERY_BROKER_URL.startswith("sqla+"):
    # Every sqla transport option is passed to create_engine(), so polling is set on the class.
    import kombu.transport.sqlalchemy

    kombu.transport.sqlalchemy.Transport.polling_interval = 0.1
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # With acks_late, Redis redelivers a message whose worker died after this many seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1),
    }
CELERY_TASK_DEFAULT_QUEUE = "default"
# Cutout workers list cutouts-interactive first: single re-runs overtake bulk batches.
# Webhook deliveries have their own queue (and worker): a receiver that times out must never
# hold up imports and exports on the default queue.
CELERY_TASK_QUEUES = tuple(
    Queue(name, Exchange(name), routing_key=name)
    for name in ("cutouts-interactive", "cutouts", "default", "webhooks")
)
# Routing lives here, not on task decorators: one place says which queue does what.
CELERY_TASK_ROUTES = {
    "cutouts.tasks.worker_ping_task": {"queue": "default"},
    "catalog.tasks.jobs_reconcile_task": {"queue": "default"},
    "catalog.tasks.import_job_run_task": {"queue": "default"},
    "catalog.tasks.product_bulk_edit_run_task": {"queue": "default"},
    "cutouts.tasks.cutouts_reconcile_task": {"queue": "default"},
    # Each cutout is sent to its row's queue (bulk or interactive) explicitly.
    "cutouts.tasks.cutout_run_task": {"queue": "cutouts"},
    "cutouts.tasks.export_job_run_task": {"queue": "default"},
    "catalog.webhook_tasks.webhook_delivery_task": {"queue": "webhooks"},
    # The sweeper only sends messages (fast), so it stays with the other upkeep.
    "catalog.webhook_tasks.webhooks_resend_due_task": {"queue": "default"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# prefork, with a job queue a killed idle child cannot wedge (config/pool.py)
CELERY_WORKER_POOL = "config.pool:TaskPool"
CELERY_TASK_IGNORE_RESULT = True  # the UI polls job rows, never the result backend
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 660, minimum=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A 45 MP photo's cutout peaks near 1.2 GB and its export near 1.4 GB in a worker process, which
# keeps about 1 GB afterwards; a process past this limit is replaced after its task (the model
# loads again in the new one, ~1 s). 0: never.
CUTROOM_WORKER_MAX_MEMORY_MB = env_int("CUTROOM_WORKER_MAX_MEMORY_MB", 1536, minimum=0)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = CUTROOM_WORKER_MAX_MEMORY_MB * 1024 or None  # KiB

# --- REST API and webhooks (config/api.py, catalog/webhooks.py) ----------------------------
CUTROOM_API_RATE_PER_MINUTE = env_int("CUTROOM_API_RATE_PER_MINUTE", 600, minimum=1)
CUTROOM_API_DOWNLOAD_SECONDS = env_int("CUTROOM_API_DOWNLOAD_SECONDS", 300, minimum=10)
CUTROOM_IDEMPOTENCY_HOURS = env_int("CUTROOM_IDEMPOTENCY_HOURS", 24, minimum=1)
# Seconds between delivery attempts after the first; the last one is ~24 h after the event.
CUTROOM_WEBHOOK_RETRY_DELAYS = [
    float(v) for v in env_list("CUTROOM_WEBHOOK_RETRY_DELAYS",
                               ["5", "300", "1800", "7200", "18000", "36000", "23000"])
]
CUTROOM_WEBHOOK_TIMEOUT = env_int("CUTROOM_WEBHOOK_TIMEOUT", 5, minimum=1)
# A subscription is disabled only when its endpoint has failed continuously for this long
# (default: the whole retry schedule, ~24 h, so an outage shorter than that loses nothing)
# and at least CUTROOM_WEBHOOK_DISABLE_AFTER attempts in a row; never on a burst of first
# attempts. Its waiting deliveries are kept and resumed when it is enabled again.
CUTROOM_WEBHOOK_DISABLE_AFTER = env_int("CUTROOM_WEBHOOK_DISABLE_AFTER", 20, minimum=1)
CUTROOM_WEBHOOK_DISABLE_AFTER_SECONDS = env_int(
    "CUTROOM_WEBHOOK_DISABLE_AFTER_SECONDS", int(sum(CUTROOM_WEBHOOK_RETRY_DELAYS)), minimum=1)
# After "Rotate secret" the old secret signs too (a second v1 signature) for this long.
CUTROOM_WEBHOOK_ROTATE_GRACE_SECONDS = env_int("CUTROOM_WEBHOOK_ROTATE_GRACE_SECONDS", 86400,
                                               minimum=0)
# SSRF guard: webhook URLs must resolve to public addresses and use https, unless allowed.
CUTROOM_WEBHOOK_ALLOW_PRIVATE = env_bool("CUTROOM_WEBHOOK_ALLOW_PRIVATE", False)
CUTROOM_WEBHOOK_ALLOW_HTTP = env_bool("CUTROOM_WEBHOOK_ALLOW_HTTP", False)

# --- Cutout engine --------------------------------------------------------------------------
CUTROOM_MODEL = env_str("CUTROOM_MODEL", "u2netp")
# Extra model files, "name=/path/file.onnx,name2=/path2.onnx"; u2netp ships with the install.
CUTROOM_MODEL_PATHS = dict(
    item.split("=", 1) for item in env_list("CUTROOM_MODEL_PATHS", []) if "=" in item
)
CUTROOM_MODEL_DIR = Path(env_str("CUTROOM_MODEL_DIR", str(VAR_DIR / "models")))
# 0 means cores divided by the worker's concurrency.
CUTROOM_ONNX_THREADS = env_int("CUTROOM_ONNX_THREADS", 0, minimum=0)

# --- Ingest limits --------------------------------------------------------------------------
CUTROOM_MAX_PIXELS = env_int("CUTROOM_MAX_PIXELS", 80_000_000, minimum=1)
CUTROOM_MIN_LONG_SIDE = env_int("CUTROOM_MIN_LONG_SIDE", 500, minimum=1)
CUTROOM_WARN_LONG_SIDE = env_int("CUTROOM_WARN_LONG_SIDE", 1000, minimum=1)
# Full-size decodes one web process runs at once (catalog.upload_gate): uploads, working-copy
# rebuilds and first-view thumbnails. One more upload is answered 429 with Retry-After and sent
# again by the page. A 79 MP ingest adds ~330 MiB to the process (174 MiB
# idle: 503 MiB peak with one, 817 with two, 1150 with three at once), so 2 keeps a process
# under ~0.85 GiB; a third in parallel bought no speed on 2 cores (docs/ingest.md).
CUTROOM_UPLOAD_DECODES = env_int("CUTROOM_UPLOAD_DECODES", 2, minimum=1)
# Photos from this many pixels get their screen-size thumbnails and card previews made by the
# worker that already holds them decoded (ingest, cutout run); smaller ones on first view.
CUTROOM_PRERENDER_MIN_PIXELS = env_int("CUTROOM_PRERENDER_MIN_PIXELS", 4_000_000, minimum=0)
# The retouch graph cut's step records (cutouts.imaging.step_store), shared by the web
# processes' previews and the worker's Apply, which replays them instead of cutting every
# stroke again: a folder every web and cutout-worker process can write (one host, or a shared
# volume), at most this many MiB of it (least recently used go first; 0: not shared).
CUTROOM_RETOUCH_STEPS_DIR = Path(env_str("CUTROOM_RETOUCH_STEPS_DIR",
                                         str(VAR_DIR / "cache" / "retouch-steps")))
CUTROOM_RETOUCH_STEPS_MB = env_int("CUTROOM_RETOUCH_STEPS_MB", 256, minimum=0)
CUTROOM_PURGE_RETENTION_DAYS = env_int("CUTROOM_PURGE_RETENTION_DAYS", 30, minimum=0)
CUTROOM_MAX_FILE_BYTES = env_int("CUTROOM_MAX_FILE_BYTES", 2 * 1024**3, minimum=1)
# ZIP bombs: refuse archives whose entries would expand beyond these.
CUTROOM_MAX_ZIP_TOTAL_BYTES = env_int("CUTROOM_MAX_ZIP_TOTAL_BYTES", 50 * 1024**3, minimum=1)
CUTROOM_MAX_ZIP_RATIO = env_int("CUTROOM_MAX_ZIP_RATIO", 100, minimum=1)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# plain for people (dev default), json for log shippers (prod default); see config/logging.py.
LOG_FORMAT = env_choice("LOG_FORMAT", ("plain", "json"), "plain")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "config.logging.RequestContextFilter"},
                "quiet_forbidden": {"()": "config.logging.QuietForbidden"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logging.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                             "filters": ["context", "quiet_forbidden"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own console handler (DEBUG only) would print every django.request line a
        # second time beside the root's: the root handler alone writes them, in our format
        "django": {"handlers": [], "level": "INFO", "propagate": True},
    },
}

# --- Cutout jobs ----------------------------------------------------------------------------
# Time limits scale with the image: soft = base + per-megapixel × MP, hard = soft + 30 s.
CUTROOM_CUTOUT_TIME_BASE = env_int("CUTROOM_CUTOUT_TIME_BASE", 60, minimum=1)
CUTROOM_CUTOUT_TIME_PER_MP = env_int("CUTROOM_CUTOUT_TIME_PER_MP", 8, minimum=0)
# --- Jobs (imports, cutout runs, exports): see catalog/jobs.py -------------------------------
# A running job whose heartbeat is older than the grace has lost its worker: the reconciler
# resumes it (or fails it after CUTROOM_JOB_MAX_ATTEMPTS runs); queued rows whose message is
# older than the grace and not in the broker are re-sent.
CUTROOM_RECONCILE_GRACE = env_int("CUTROOM_RECONCILE_GRACE", 60, minimum=1)
CUTROOM_RECONCILE_EVERY = env_int("CUTROOM_RECONCILE_EVERY", 60, minimum=1)
# Seconds between heartbeats of a running job (capped at a third of the grace).
CUTROOM_JOB_HEARTBEAT = env_int("CUTROOM_JOB_HEARTBEAT", 10, minimum=1)
CUTROOM_JOB_MAX_ATTEMPTS = env_int("CUTROOM_JOB_MAX_ATTEMPTS", 3, minimum=1)
# Hard limits of one import / export run (soft limit 60 s earlier).
CUTROOM_IMPORT_TIME_LIMIT = env_int("CUTROOM_IMPORT_TIME_LIMIT", 4 * 3600, minimum=120)
CUTROOM_EXPORT_TIME_LIMIT = env_int("CUTROOM_EXPORT_TIME_LIMIT", 4 * 3600, minimum=120)
# A browser upload session with no file for this long (tab closed) is finished as it stands.
CUTROOM_UPLOAD_IDLE_SECONDS = env_int("CUTROOM_UPLOAD_IDLE_SECONDS", 1800, minimum=1)
# Manifest products are written this many per transaction, so other writers wait at most
# one chunk.
CUTROOM_MANIFEST_CHUNK = env_int("CUTROOM_MANIFEST_CHUNK", 500, minimum=1)
# An import stops (failed, with the reason) after this many storage errors in a row.
CUTROOM_IMPORT_MAX_STORAGE_FAULTS = env_int("CUTROOM_IMPORT_MAX_STORAGE_FAULTS", 5, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "jobs-reconcile": {
        "task": "catalog.tasks.jobs_reconcile_task",
        "schedule": float(CUTROOM_RECONCILE_EVERY),
    },
    # Webhook retries whose countdown message was lost with a restarted worker.
    "webhooks-resend-due": {
        "task": "catalog.webhook_tasks.webhooks_resend_due_task",
        "schedule": 60.0,
    },
}
