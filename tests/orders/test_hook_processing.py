"""Processing stored notifications: the claim that makes a duplicate task a no-op, and the
sweep that requeues only events nothing has touched for a while."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from commissions.models import Commission
from orders.models import HookEvent
from orders.services import hook_event_process, hook_event_reprocess
from orders.tasks import hook_events_retry_task
from tests.orders.conftest import SAMPLE_ORDER_ID, order_doc

pytestmark = pytest.mark.django_db


def _event(brand: Any, *, minutes_ago: int, **extra: Any) -> HookEvent:
    return HookEvent.objects.create(
        brand=brand,
        vtex_order_id=SAMPLE_ORDER_ID,
        state="payment-approved",
        change_key=f"2024-02-04T20:15:{minutes_ago:02d}Z",
        payload={},
        received_at=timezone.now() - timedelta(minutes=minutes_ago),
        **extra,
    )


def test_a_processed_event_is_not_processed_again(setup: dict[str, Any], fake_oms: Any) -> None:
    fake_oms.add_order(order_doc())
    event = _event(setup["brand"], minutes_ago=1)
    assert hook_event_process(event_id=event.pk) is not None
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 1)
    assert event.last_attempt_at is not None
    before = (event.attempts, event.last_attempt_at, event.processed_at, Commission.objects.count())
    fake_oms.reset_log()

    assert hook_event_process(event_id=event.pk) is None  # a duplicate task delivery

    event.refresh_from_db()
    assert (event.attempts, event.last_attempt_at, event.processed_at, Commission.objects.count()) == before
    assert not fake_oms.requests_to("/api/oms/pvt/orders/")


def test_attempts_count_every_claim_from_the_database(setup: dict[str, Any], fake_oms: Any) -> None:
    event = _event(setup["brand"], minutes_ago=1, attempts=3)  # VTEX does not know the order
    HookEvent.objects.filter(pk=event.pk).update(attempts=5)  # another worker claimed it meanwhile
    assert hook_event_process(event_id=event.pk) is None
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("failed", 6)


def test_a_manager_can_reprocess_a_processed_event(setup: dict[str, Any], fake_oms: Any, manager_a: Any) -> None:
    fake_oms.add_order(order_doc())
    event = _event(setup["brand"], minutes_ago=1)
    hook_event_process(event_id=event.pk)
    result = hook_event_reprocess(event_id=event.pk, actor=manager_a)
    assert result is not None
    assert result.reason == "unchanged"
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 2)
    assert AuditEvent.objects.filter(action="order.notification_reprocessed").count() == 1


def test_the_sweep_requeues_only_events_idle_longer_than_the_retry_window(setup: dict[str, Any], fake_oms: Any) -> None:
    brand = setup["brand"]
    fake_oms.add_order(order_doc())
    now = timezone.now()
    in_backoff = _event(brand, minutes_ago=40, attempts=2, last_attempt_at=now - timedelta(minutes=2))
    just_received = _event(brand, minutes_ago=1)
    done = _event(brand, minutes_ago=50, status="processed", attempts=1, last_attempt_at=now - timedelta(minutes=50))
    forgotten = _event(brand, minutes_ago=30)  # a worker died before its first attempt
    stuck = _event(brand, minutes_ago=60, attempts=1, last_attempt_at=now - timedelta(minutes=45))

    assert hook_events_retry_task() == 2

    rows = dict(HookEvent.objects.values_list("pk", "attempts"))
    assert rows[in_backoff.pk] == 2
    assert rows[just_received.pk] == 0
    assert rows[done.pk] == 1
    assert rows[forgotten.pk] == 1
    assert rows[stuck.pk] == 2
    assert HookEvent.objects.get(pk=in_backoff.pk).status == "pending"
    assert set(HookEvent.objects.filter(status="processed").values_list("pk", flat=True)) == {
        done.pk,
        forgotten.pk,
        stuck.pk,
    }
