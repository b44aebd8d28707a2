"""Celery entry points of the orders flow. Thin: ids in, one service call, safe to retry."""

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.utils import timezone

from integrations.vtex.errors import VTEXError

logger = logging.getLogger(__name__)


@shared_task(
    name="orders.tasks.order_sync_task",
    bind=True,
    max_retries=8,
    acks_late=True,
)
def order_sync_task(self: Any, *, event_id: int) -> str:
    from orders.services import hook_event_process

    try:
        result = hook_event_process(event_id=event_id)
    except VTEXError as exc:
        if not exc.retryable:
            logger.error("order sync for event %s failed: %s", event_id, exc)
            return "failed"
        countdown = getattr(exc, "retry_after", None) or min(600, 15 * 2**self.request.retries)
        raise self.retry(exc=exc, countdown=countdown) from exc
    return result.reason if result is not None else "skipped"


@shared_task(name="orders.tasks.hook_events_retry_task")
def hook_events_retry_task(*, older_than_minutes: int = 15, limit: int = 500) -> int:
    """Requeue notifications still pending after a while (a worker died, VTEX was down).

    An event is picked only when nothing touched it for `older_than_minutes`: never attempted
    and received before that, or last attempted before that. The window is longer than
    `order_sync_task`'s longest retry countdown (600 s), so an event waiting in its own
    backoff is left to it; a duplicate that slips through is harmless (the claim in
    `hook_event_process` skips a processed event)."""
    from django.db.models import Q

    from orders.models import HookEvent

    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    idle = Q(last_attempt_at__isnull=True, received_at__lt=cutoff) | Q(last_attempt_at__lt=cutoff)
    ids = list(
        HookEvent.objects.filter(idle, status=HookEvent.Status.PENDING, attempts__lt=20)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for event_id in ids:
        order_sync_task.delay(event_id=event_id)
    return len(ids)


@shared_task(name="orders.tasks.reconcile_dispatch_task")
def reconcile_dispatch_task() -> list[int]:
    """Hourly: start yesterday's reconciliation for every brand where it is now night."""
    from orders.reconciliation import reconciliation_due_brands

    started = []
    for brand_id, day in reconciliation_due_brands(now=timezone.now()):
        reconcile_brand_task.delay(brand_id=brand_id, day=day.isoformat(), trigger="schedule")
        started.append(brand_id)
    return started


@shared_task(name="orders.tasks.reconcile_brand_task", acks_late=True)
def reconcile_brand_task(*, brand_id: int, day: str, trigger: str = "schedule") -> int | None:
    from datetime import date

    from campaigns.models import Brand
    from orders.reconciliation import reconciliation_run

    brand = Brand.objects.get(pk=brand_id)
    run = reconciliation_run(brand=brand, day=date.fromisoformat(day), trigger=trigger)
    return run.pk if run is not None else None


@shared_task(name="orders.tasks.hook_config_ensure_task")
def hook_config_ensure_task() -> dict[str, str]:
    """Daily: VTEX deletes a hook that was silent for three days; put ours back."""
    from orders.hook_config import hook_config_ensure_all

    return hook_config_ensure_all()
