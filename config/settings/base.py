"""Settings shared by every environment. Everything deployment-specific comes from env vars."""

import os
from pathlib import Path

import dj_database_url
from kombu import Exchange, Queue

from .env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Runtime state (SQLite database, local media, embedded broker spool) lives outside the code.
VAR_DIR = Path(env_str("CUTROOM_VAR_DIR", str(BASE_DIR / "var"))).resolve()
os.makedirs(VAR_DIR, exist_ok=True)

SECRET_KEY = env_str("SECRET_KEY", "dev-insecure-cutroom-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "catalog",
    "cutouts",
]

MIDDLEWARE = [
    # First: every response (redirects and errors too) carries X-Request-ID for the logs.
    "config.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is explicitly marked public.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
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
os.makedirs(STATIC_ROOT, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

STORAGE_BACKEND = env_choice("STORAGE_BACKEND", ("local", "s3"), "local")
MEDIA_ROOT = VAR_DIR / "media"
EXPORTS_ROOT = VAR_DIR / "exports"
# Media is private: it is never served by URL directly, only through permission-checked views
# (local disk) or short-lived signed URLs (S3).
if STORAGE_BACKEND == "s3":
    _s3 = {
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

# Large uploads stream to a temp file instead of memory; request bodies are capped per file
# by the ingest code, not here, so a 300-file drop is not refused wholesale.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 10_485_760
DATA_UPLOAD_MAX_NUMBER_FILES = 1000

# --- Celery ---------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Measured: 0.1 s polling gives ~50 ms pickup instead of ~1 s at the default interval;
    # 0.02 s keeps a worker from idling between back-to-back cutouts (a listdir is cheap).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.02,
    }
    for _folder in ("queue", "control"):
        os.makedirs(BROKER_DIR / _folder, exist_ok=True)
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
CELERY_TASK_QUEUES = tuple(
    Queue(name, Exchange(name), routing_key=name)
    for name in ("cutouts-interactive", "cutouts", "default")
)
# Routing lives here, not on task decorators: one place says which queue does what.
CELERY_TASK_ROUTES = {
    "cutouts.tasks.worker_ping_task": {"queue": "default"},
    "catalog.tasks.import_job_run_task": {"queue": "default"},
    "cutouts.tasks.cutouts_reconcile_task": {"queue": "default"},
    # Each cutout is sent to its row's queue (bulk or interactive) explicitly.
    "cutouts.tasks.cutout_run_task": {"queue": "cutouts"},
    "cutouts.tasks.export_job_run_task": {"queue": "default"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True  # the UI polls job rows, never the result backend
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 660, minimum=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

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
CUTROOM_PURGE_RETENTION_DAYS = env_int("CUTROOM_PURGE_RETENTION_DAYS", 30, minimum=0)
CUTROOM_MAX_FILE_BYTES = env_int("CUTROOM_MAX_FILE_BYTES", 2 * 1024**3, minimum=1)
# ZIP bombs: refuse archives whose entries would expand beyond these.
CUTROOM_MAX_ZIP_TOTAL_BYTES = env_int("CUTROOM_MAX_ZIP_TOTAL_BYTES", 50 * 1024**3, minimum=1)
CUTROOM_MAX_ZIP_RATIO = env_int("CUTROOM_MAX_ZIP_RATIO", 100, minimum=1)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# plain for people (dev default), json for log shippers (prod default); see config/logging.py.
LOG_FORMAT = env_choice("LOG_FORMAT", ("plain", "json"), "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "config.logging.RequestContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logging.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT,
                             "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Cutout jobs ----------------------------------------------------------------------------
# Time limits scale with the image: soft = base + per-megapixel × MP, hard = soft + 30 s.
CUTROOM_CUTOUT_TIME_BASE = env_int("CUTROOM_CUTOUT_TIME_BASE", 60, minimum=1)
CUTROOM_CUTOUT_TIME_PER_MP = env_int("CUTROOM_CUTOUT_TIME_PER_MP", 8, minimum=0)
# Queued/running rows older than this (beyond their time limit) are re-enqueued.
CUTROOM_RECONCILE_GRACE = env_int("CUTROOM_RECONCILE_GRACE", 60, minimum=1)
CUTROOM_RECONCILE_EVERY = env_int("CUTROOM_RECONCILE_EVERY", 60, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "cutouts-reconcile": {
        "task": "cutouts.tasks.cutouts_reconcile_task",
        "schedule": float(CUTROOM_RECONCILE_EVERY),
    },
}
