"""Settings of a real granian server started by tests/tracking/test_click_edge.py: the test
settings, pointed at the calling test's database, Redis database and click stream."""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES

DATABASES["default"]["NAME"] = os.environ["MGM_TEST_DATABASE_NAME"]
REDIS_URL = os.environ["MGM_TEST_REDIS_URL"]
TRACKING_BUFFER = "redis"
TRACKING_STREAM_KEY = os.environ["MGM_TEST_STREAM_KEY"]
TRACKING_SPOOL_DIR = os.environ["MGM_TEST_SPOOL_DIR"]
TRACKING_EXPOSE_VALIDITY = True
TRACKING_FLOOD_LIMIT = 10**9  # one load generator on one address
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
