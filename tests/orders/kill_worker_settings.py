"""Settings of the real Celery worker that tests/orders/test_worker_kill.py starts and kills:
the test settings, but tasks go through Redis (the test's own database number) and VTEX calls to
the test's fake VTEX server."""

import os

from config.settings.test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_BROKER_URL = os.environ["KILL_TEST_BROKER_URL"]
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
VTEX_API_BASE_URL = os.environ["KILL_TEST_VTEX_URL"]
VTEX_BACKOFF_BASE_SECONDS = 0.01
VTEX_BACKOFF_MAX_SECONDS = 0.05
# Small batches, so the kill lands between committed batches and inside one.
ORDERS_BATCH_SIZE = 2
