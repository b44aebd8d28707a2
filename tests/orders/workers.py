"""Workers for the batch pipeline's concurrency tests on PostgreSQL: notifications stored as
the hook stores them, several workers draining them, and another worker holding apply lanes
while one drains."""

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, connections, transaction
from django.utils import timezone

import orders.services.batch as batch_steps
from orders.models import HookEvent
from orders.services import hook_events_drain, hook_events_process_batch


def events_store(brand: Any, rows: list[tuple[str, str, str]]) -> None:
    """Store notifications as the hook does (unique per change; a duplicate is dropped)."""
    now = timezone.now()
    HookEvent.objects.bulk_create(
        [
            HookEvent(
                brand=brand,
                vtex_order_id=order_id,
                state=state,
                change_key=change,
                payload={"OrderId": order_id, "State": state},
                received_at=now,
            )
            for order_id, state, change in rows
        ],
        ignore_conflicts=True,
    )


def drain_in_workers(workers: int) -> list[Any]:
    """`workers` threads draining batches until none is left, as `hook_events_process_task`
    does (the next batch claimed and read from VTEX while one applies); the errors they raised."""
    errors: list[Any] = []

    def work() -> None:
        try:
            while hook_events_drain(limit=100, max_seconds=600):
                pass
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@contextmanager
def draining_while_lanes_held(brand: Any, lanes: Iterable[int]) -> Iterator[tuple[list[Any], threading.Thread]]:
    """Another worker holds these apply lanes of `brand` (as batches being applied would) while
    a worker drains one batch; yields that worker's reports (filled when it ends) and its
    thread. Leaving the block releases the lanes and waits for both."""
    holding, release = threading.Event(), threading.Event()
    held = list(lanes)

    def other_worker() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                for lane in held:
                    cursor.execute(
                        "SELECT pg_advisory_xact_lock(%s, %s)", [batch_steps._APPLY_LOCK_NAMESPACE + lane, brand.pk]
                    )
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    other = threading.Thread(target=other_worker)
    other.start()
    assert holding.wait(10)
    drained: list[Any] = []
    worker = threading.Thread(
        target=lambda: (drained.append(hook_events_process_batch(limit=10)), connections.close_all())
    )
    worker.start()
    try:
        yield drained, worker
    finally:
        release.set()
        other.join(10)
        worker.join(30)


def wait_until(done: Callable[[], bool], failure: str, *, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, failure
        time.sleep(0.05)
