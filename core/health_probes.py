"""Probes of the platform itself: the Celery queue and the scheduled integrity checks.

Thresholds here are the ones in compose/prometheus/alerts.yml (tests/foundation/test_alerts.py
keeps them equal)."""

import json
import time
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.health import PUBLISHED_AT_HEADER, Finding, Gauge, ProbeResult, State
from core.integrity import AUDIT_CHAIN, AUDIT_EXPORTS, LEDGER
from core.models import IntegrityCheck
from core.redis import redis_client

# --- Celery queue ------------------------------------------------------------------------------

QUEUE_BACKLOG_MAX = 1000  # alert CeleryQueueBacklog
QUEUE_AGE_MAX_SECONDS = 600  # alert CeleryQueueStale

QUEUE_LENGTH = Gauge("mgm_celery_queue_length", "Tasks waiting in the broker queue", ("queue",))
QUEUE_AGE = Gauge(
    "mgm_celery_queue_oldest_age_seconds", "How long the oldest waiting task has been in the queue", ("queue",)
)


def _broker() -> Any:
    return redis_client(settings.HEALTH_BROKER_URL, socket_connect_timeout=1, socket_timeout=2)


def celery_queue_probe() -> ProbeResult:
    """Length and age of each Celery queue in Redis. Kombu pushes on the left and workers pop
    from the right, so the oldest message is the last one of the list."""
    result = ProbeResult()
    if not settings.HEALTH_BROKER_URL:
        return result  # tasks run in-process or through the filesystem broker: no queue to watch
    client = _broker()
    now = time.time()
    for queue in settings.HEALTH_CELERY_QUEUES:
        length = int(client.llen(queue))
        age = 0.0
        if length:
            oldest = client.lindex(queue, -1)
            age = max(0.0, now - _published_at(oldest, default=now))
        result.read(QUEUE_LENGTH, length, queue)
        result.read(QUEUE_AGE, age, queue)
        if length > QUEUE_BACKLOG_MAX:
            result.find(
                Finding(
                    _("Task queue backlog"),
                    State.CRITICAL,
                    _("%(count)s tasks wait in the queue (more than %(max)s): workers are too few or stuck.")
                    % {"count": length, "max": QUEUE_BACKLOG_MAX},
                    "CeleryQueueBacklog",
                    queue,
                )
            )
        if age > QUEUE_AGE_MAX_SECONDS:
            result.find(
                Finding(
                    _("Tasks waiting too long"),
                    State.CRITICAL,
                    _("The oldest task has waited %(minutes)s minutes: is a worker running?")
                    % {"minutes": int(age // 60)},
                    "CeleryQueueStale",
                    queue,
                )
            )
    return result


def _published_at(raw: bytes | None, *, default: float) -> float:
    try:
        message = json.loads(raw or b"{}")
        return float(message.get("headers", {}).get(PUBLISHED_AT_HEADER, default))
    except (ValueError, TypeError, AttributeError):
        return default


# --- Integrity checks --------------------------------------------------------------------------

INTEGRITY_STALE_SECONDS = 2 * 86400  # alert IntegrityCheckNotRunning: the daily runs stopped

INTEGRITY_OK = Gauge("mgm_integrity_check_ok", "1 when the last run of the check found nothing wrong", ("check",))
INTEGRITY_PROBLEMS = Gauge("mgm_integrity_check_problems", "Problems the last run of the check found", ("check",))
INTEGRITY_AT = Gauge("mgm_integrity_check_timestamp_seconds", "When the check last ran (Unix time)", ("check",))

CHECK_TITLES = {
    LEDGER: (_("Ledger verification"), "LedgerBroken"),
    AUDIT_CHAIN: (_("Audit chain verification"), "AuditChainBroken"),
    AUDIT_EXPORTS: (_("Audit exports verification"), "AuditChainBroken"),
}


def integrity_probe() -> ProbeResult:
    result = ProbeResult()
    checks = {check.name: check for check in IntegrityCheck.objects.all()}
    now = time.time()
    for name, (title, alert) in CHECK_TITLES.items():
        check = checks.get(name)
        if check is None:
            result.find(Finding(title, State.WARNING, _("Has not run yet."), "IntegrityCheckNotRunning", name))
            continue
        checked_at = check.checked_at.timestamp()
        result.read(INTEGRITY_OK, 1 if check.ok else 0, name)
        result.read(INTEGRITY_PROBLEMS, check.problems, name)
        result.read(INTEGRITY_AT, checked_at, name)
        if not check.ok:
            result.find(
                Finding(
                    title,
                    State.CRITICAL,
                    _("Found %(count)s problem(s): %(detail)s")
                    % {"count": check.problems, "detail": check.detail.splitlines()[0] if check.detail else ""},
                    alert,
                    name,
                )
            )
        elif now - checked_at > INTEGRITY_STALE_SECONDS:
            result.find(
                Finding(
                    title,
                    State.WARNING,
                    _("Last ran %(days)s days ago: is Beat running?") % {"days": int((now - checked_at) // 86400)},
                    "IntegrityCheckNotRunning",
                    name,
                )
            )
    return result
