"""Celery application. Tasks are thin: they take ids and call one service."""

import os
import time
from typing import Any

from celery import Celery
from celery.signals import before_task_publish, worker_init, worker_process_init

from config.tracing import tracing_from_settings
from core.health import PUBLISHED_AT_HEADER

# Same default as wsgi/asgi: a worker started without settings must not run with DEBUG on.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("mgm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@before_task_publish.connect
def _stamp_published_at(headers: dict[str, Any] | None = None, **_kwargs: Any) -> None:
    """Stamp each task message with the time it was sent: the health probe reads the oldest
    message's stamp to tell how long tasks have waited (core.health_probes)."""
    if headers is not None:
        headers.setdefault(PUBLISHED_AT_HEADER, time.time())


@worker_init.connect
def _warm(**_kwargs: Any) -> None:
    """Load what Django loads lazily (URLconf, catalogues, templates) once in the worker's main
    process, before it forks its pool: a task that renders a notification's link would
    otherwise pay it in every child, inside its first batch of orders (config/warmup.py)."""
    from config.warmup import process_warm  # noqa: PLC0415 needs the apps loaded, which a worker does after this module

    process_warm()


@worker_process_init.connect
def _start_tracing(**_kwargs: Any) -> None:
    """Each worker child starts its own tracing after the fork (the exporter's thread would not
    survive it); a no-op unless OTEL_ENABLED (config/tracing.py)."""
    tracing_from_settings()
