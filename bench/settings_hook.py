"""Settings for bench/hook_bench.py: production-like (DEBUG off, PostgreSQL, Redis as the
Celery broker, so the drain kick publishes real messages) with a bare view beside the hook.
The per-brand request budget is lifted: wrk is one brand sending far more than VTEX would, and
the bench measures what a notification costs us, not the limit (tests/orders cover the 429)."""

from config.settings.base import *  # noqa: F403
from config.settings.base import LOGGING

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.urls_hook"
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]
VTEX_HOOK_REQUESTS_PER_SECOND = 10**9
