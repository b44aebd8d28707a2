"""Settings for bench/redirect_bench.py: production-like (DEBUG off, PostgreSQL, Redis) with
the click-validity header on so the benchmark can count valid clicks served."""

from config.settings.base import *  # noqa: F403
from config.settings.base import LOGGING

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.urls_redirect"
TRACKING_EXPOSE_VALIDITY = True
TRACKING_FLOOD_LIMIT = 10**9  # one load generator on one address
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]
