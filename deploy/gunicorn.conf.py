"""gunicorn settings for Cutroom (container and systemd). Every value can be overridden by
environment variables; pass with ``gunicorn config.wsgi:application -c deploy/gunicorn.conf.py``.
"""

import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# Large uploads stream through nginx; a slow multi-GB ZIP upload must not be killed midway.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "300"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so a leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))
# Only the proxy (nginx on the same host or the compose network) may set X-Forwarded-*.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Logs go to stdout/stderr; the app's own log lines are JSON (config.logging).
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
access_log_format = (
    '{"ts":"%(t)s","remote":"%(h)s","method":"%(m)s","path":"%(U)s","status":%(s)s,'
    '"bytes":"%(B)s","duration_us":%(D)s,"request_id":"%({x-request-id}o)s",'
    '"user_agent":"%(a)s"}'
)
# Heartbeat files: on a RAM-backed folder in containers (the image sets /dev/shm).
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or None
# gunicorn >= 24 opens a control socket under $HOME by default: not wanted in a container or
# a hardened unit (read-only home), and two instances on one host would share it.
control_socket_disable = os.environ.get("GUNICORN_CONTROL_SOCKET", "") == ""
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]


if os.environ.get("LOG_FORMAT", "json") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            # The app's one JSON formatter, resolved when gunicorn applies this dict (after it
            # has put the app folder on sys.path), so loading this file imports no app code.
            "json": {"()": "config.logging.JsonFormatter"},
            # Access lines are already JSON (access_log_format above).
            "access": {"format": "%(message)s"},
        },
        "handlers": {
            "error_console": {"class": "logging.StreamHandler", "formatter": "json",
                              "stream": "ext://sys.stderr"},
            "access_console": {"class": "logging.StreamHandler", "formatter": "access",
                               "stream": "ext://sys.stdout"},
        },
        # Replaces gunicorn's default root handler; Django's LOGGING takes over in workers.
        "root": {"level": os.environ.get("LOG_LEVEL", "INFO"), "handlers": ["error_console"]},
        "loggers": {
            "gunicorn.error": {"level": os.environ.get("LOG_LEVEL", "INFO"),
                               "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["access_console"],
                                "propagate": False},
        },
    }
