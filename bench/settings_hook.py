"""Settings for bench/hook_bench.py: production-like (DEBUG off, PostgreSQL, Redis as the
Celery broker, so `on_commit` publishes a real message) with a bare view beside the hook."""

from config.settings.base import *  # noqa: F403
from config.settings.base import LOGGING

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.urls_hook"
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]
