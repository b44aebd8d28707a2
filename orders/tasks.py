"""Celery entry points of the orders flow. Thin: ids in, one service call, safe to retry."""

import logging
from datetime import date, timedelta
from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.db.models import Q
from django.utils import timezone

from brands.models import Brand
from integrations.vtex.errors import VTEXError
from orders.models import HookEvent

logger = logging.getLogger(__name__)


# Applying a VTEX notification is short. Its hard time limit bounds how long a live attempt can
# hold an event, so an event idle for longer (RESTART_SWEEP_SECONDS) is certainly not running.
ORDER_SYNC_SOFT_TIME_LIMIT = 45
ORDER_SYNC_TIME_LIMIT = 60
RESTART_SWEEP_SECONDS = ORDER_SYNC_TIME_LIMIT + 5


@shared_task(
    name="orders.tasks.order_sync_task",
    bind=True,
    max_retries=8,
    # Acknowledged only when done; if the process running it dies, the broker gets it back
    # (prefork: at once; a whole worker killed: see `_sweep_after_restart`). Idempotent: the
    # claim in `hook_event_process` skips a processed event.
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=ORDER_SYNC_SOFT_TIME_LIMIT,
    time_limit=ORDER_SYNC_TIME_LIMIT,
)
def order_sync_task(self: Any, *, event_id: int) -> str:
    from orders.services import hook_event_process  # noqa: PLC0415 orders.tasks↔services cycle (services→hooks→drain→tasks)

    try:
        result = hook_event_process(event_id=event_id)
    except VTEXError as exc:
        if not exc.retryable:
            logger.error("order sync for event %s failed: %s", event_id, exc)
            return "failed"
        countdown = getattr(exc, "retry_after", None) or min(600, 15 * 2**self.request.retries)
        raise self.retry(exc=exc, countdown=countdown) from exc
    return result.reason if result is not None else "skipped"


@shared_task(name="orders.tasks.hook_events_process_task", acks_late=True)
def hook_events_process_task(*, max_seconds: float = 50.0) -> int:
    """Drain pending notifications in batches (orders.services.batch) for up to `max_seconds`;
    returns how many were claimed. Safe to run in several workers at once (claims skip each
    other's rows) and to run again (a processed event is never claimed)."""

    from orders.services import hook_events_drain  # noqa: PLC0415 orders.tasks↔services cycle (services→hooks→drain→tasks)

    return hook_events_drain(max_seconds=max_seconds)


@shared_task(name="orders.tasks.hook_events_retry_task")
def hook_events_retry_task(
    *, older_than_minutes: int = 15, limit: int = 500, older_than_seconds: int | None = None
) -> int:
    """Requeue notifications still pending after a while (a worker died, VTEX was down).

    An event is picked only when nothing touched it for `older_than_minutes`: never attempted
    and received before that, or last attempted before that. The window is longer than
    `order_sync_task`'s longest retry countdown (600 s), so an event waiting in its own
    backoff is left to it; a duplicate that slips through is harmless (the claim in
    `hook_event_process` skips a processed event)."""

    idle_for = timedelta(seconds=older_than_seconds) if older_than_seconds else timedelta(minutes=older_than_minutes)
    cutoff = timezone.now() - idle_for
    idle = Q(last_attempt_at__isnull=True, received_at__lt=cutoff) | Q(last_attempt_at__lt=cutoff)
    ids = list(
        HookEvent.objects.filter(idle, status=HookEvent.Status.PENDING, attempts__lt=20)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for event_id in ids:
        order_sync_task.delay(event_id=event_id)
    return len(ids)


@worker_ready.connect
def _sweep_after_restart(**_kwargs: Any) -> None:
    """A worker that was killed (SIGKILL, OOM, a lost node) takes its unacknowledged messages
    with it until the broker's visibility timeout, which must stay longer than the longest task
    and countdown (config/settings/base.py). So when a worker starts, it schedules a sweep a bit
    longer than `order_sync_task`'s hard time limit later: every notification still pending and
    untouched since then was lost with a dead worker and is queued again. Duplicates are
    harmless (the claim skips processed events)."""
    hook_events_retry_task.apply_async(
        kwargs={"older_than_seconds": RESTART_SWEEP_SECONDS}, countdown=RESTART_SWEEP_SECONDS
    )


@shared_task(name="orders.tasks.reconcile_dispatch_task")
def reconcile_dispatch_task() -> list[int]:
    """Hourly: start yesterday's reconciliation for every brand where it is now night."""
    from orders.reconciliation import reconciliation_due_brands  # noqa: PLC0415 orders.tasks↔services cycle (services→hooks→drain→tasks)

    started = []
    for brand_id, day in reconciliation_due_brands(now=timezone.now()):
        reconcile_brand_task.delay(brand_id=brand_id, day=day.isoformat(), trigger="schedule")
        started.append(brand_id)
    return started


@shared_task(name="orders.tasks.reconcile_brand_task", acks_late=True)
def reconcile_brand_task(*, brand_id: int, day: str, trigger: str = "schedule") -> int | None:
    from orders.reconciliation import reconciliation_run  # noqa: PLC0415 orders.tasks↔services cycle (services→hooks→drain→tasks)

    brand = Brand.objects.get(pk=brand_id)
    run = reconciliation_run(brand=brand, day=date.fromisoformat(day), trigger=trigger)
    return run.pk if run is not None else None


@shared_task(name="orders.tasks.hook_config_ensure_task")
def hook_config_ensure_task() -> dict[str, str]:
    """Daily: VTEX deletes a hook that was silent for three days; put ours back."""
    from orders.hook_config import hook_config_ensure_all  # noqa: PLC0415 orders.tasks↔services cycle (services→hooks→drain→tasks)

    return hook_config_ensure_all()
