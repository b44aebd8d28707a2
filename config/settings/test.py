"""Tests: fast hashing, in-memory mail, tasks in-process. CI points DATABASE_URL at PostgreSQL."""

from config.settings.base import *  # noqa: F403
from config.settings.base import BASE_DIR, DATABASES, env

DEBUG = False
# Tests read English unless they say otherwise (tests that check the Spanish default or the
# translations set the language explicitly).
LANGUAGE_CODE = "en"
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
LOG_FORMAT = "text"
LOGGING["handlers"]["console"]["formatter"] = "text"  # type: ignore[index]  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]  # noqa: F405
MEDIA_ROOT = BASE_DIR / "var" / "test-media"
PRIVATE_MEDIA_ROOT = BASE_DIR / "var" / "test-private"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(MEDIA_ROOT)}},
    "private": {
        "BACKEND": "core.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FIELD_ENCRYPTION_KEYS = ["dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdDA="]
# Each parallel test worker (pytest-xdist) gets its own database; the suffix keeps developers
# who share one PostgreSQL from colliding.
DATABASES["default"].setdefault("TEST", {})["NAME"] = env("TEST_DATABASE_NAME", default=None)

# Parallel test workers (pytest-xdist) each get their own test database, and so their own ids:
# they must not share Redis keys either (click dedupe/flood counters, streams keyed by link id).
# Worker gwN uses Redis database <REDIS_URL's db> + 1 + N.
_xdist_worker = env("PYTEST_XDIST_WORKER", default="")
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL and _xdist_worker.startswith("gw"):
    _base, _sep, _db = REDIS_URL.rpartition("/")
    _db_index = int(_db) if _sep and _db.isdigit() else 0
    REDIS_URL = f"{_base if _sep and _db.isdigit() else REDIS_URL.rstrip('/')}/{_db_index + 1 + int(_xdist_worker[2:])}"
# A local webhook receiver (http://127.0.0.1:...) is fine here; production refuses it.
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", default=True)
# No broker queue to watch while tasks run in-process (a test points this at its Redis).
HEALTH_BROKER_URL = ""
# The hook asks for a drain of pending notifications after each one, at once (orders/drain.py).
VTEX_HOOK_DRAIN_SECONDS = 0
# Hook budgets are off in tests but for the tests of the budgets (tests/orders/test_hook_limits.py):
# counters in the shared Redis database would otherwise carry over from one test to the next.
VTEX_HOOK_REQUESTS_PER_SECOND = 0
VTEX_HOOK_REFUSALS_PER_MINUTE = 0
