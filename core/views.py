import functools
import ipaddress
import logging
import os
from typing import Any

import prometheus_client
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import multiprocess

from core.health import HealthCollector
from core.request_context import client_ip

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness in one: the database, the cache and (when configured) the broker."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        logger.warning("healthz database check failed: %s", exc)
        checks["database"] = "error"
    try:
        cache.set("healthz", "1", 5)
        checks["cache"] = "ok" if cache.get("healthz") == "1" else "error"
    except Exception as exc:
        logger.warning("healthz cache check failed: %s", exc)
        checks["cache"] = "error"
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")) and not settings.CELERY_TASK_ALWAYS_EAGER:
        try:
            _broker_client().ping()
            checks["broker"] = "ok"
        except Exception as exc:
            logger.warning("healthz broker check failed: %s", exc)
            checks["broker"] = "error"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)


@functools.cache
def _broker_client() -> Any:
    """The Celery broker (CELERY_BROKER_URL, which may differ from the cache's Redis), one
    client per process so probes reuse its connection."""

    return redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1)


def _metrics_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and constant_time_compare(header[7:], token):
        return True
    ip = client_ip(request)
    if ip is None:
        return False
    address = ipaddress.ip_address(ip)
    return any(address in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETWORKS)


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, only for the monitoring network or a bearer token."""
    if not _metrics_allowed(request):
        return HttpResponseForbidden("metrics are not public")

    # Several web processes (granian workers) write their counters to PROMETHEUS_MULTIPROC_DIR;
    # one scrape must read them all. The health gauges come from the database, not from a
    # process, so they are added once, whichever process answers (the process registry holds
    # them already: core.apps).
    registry = prometheus_client.REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(HealthCollector())  # type: ignore[arg-type]
    return HttpResponse(prometheus_client.generate_latest(registry), content_type=prometheus_client.CONTENT_TYPE_LATEST)
