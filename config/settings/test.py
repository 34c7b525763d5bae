import os
import tempfile

# Every process of one test run (pytest and the real workers it starts) shares one throwaway
# folder for the SQLite database, media and the embedded broker spool, via the environment.
if "CUTROOM_TEST_TMP" not in os.environ:
    os.environ["CUTROOM_TEST_TMP"] = tempfile.mkdtemp(prefix="cutroom-test-")
os.environ.setdefault("CUTROOM_VAR_DIR", os.path.join(os.environ["CUTROOM_TEST_TMP"], "var"))

from .base import *  # noqa: E402, F403
from .base import DATABASES, STORAGES, VAR_DIR  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so the worker processes that tests start see the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

# Every test client and the live server share 127.0.0.1: the per-IP form rate limits are
# raised so unrelated tests never trip them; tests/security sets real values where it tests them.
CUTROOM_RATE_LIMITS = {"login": (10_000, 300), "password_reset": (10_000, 900)}
