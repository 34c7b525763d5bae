import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

application = get_wsgi_application()

# Validate the model file once at start-up, so /healthz afterwards only compares size/mtime.
from config.health import check_model  # noqa: E402

check_model()
