"""Development and the `make run` demo: DEBUG on, mail to the console, SQLite by default."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # type: ignore[index]  # noqa: F405
# Without Redis, tasks run in-process: one "Task … succeeded" line per task would drown the
# output of `make run` (seed_demo runs hundreds). Failures still log at ERROR.
LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}  # type: ignore[index]  # noqa: F405
# A local webhook receiver (http://127.0.0.1:...) is fine here; production refuses it.
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", default=True)
