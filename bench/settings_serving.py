"""Settings for bench/serving_bench.py and bench/users_bench.py: production-like (DEBUG off,
PostgreSQL through psycopg's pool, Redis cache and sessions as configured by the environment),
plain-HTTP cookies (no TLS terminator on the bench's loopback)."""

from config.settings.base import *  # noqa: F403
from config.settings.base import LOGGING

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
TRACKING_FLOOD_LIMIT = 10**9  # one load generator on one address
LOGGING["root"]["level"] = "WARNING"  # type: ignore[index]
