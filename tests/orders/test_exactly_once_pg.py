"""Exactly-once under real concurrency (PostgreSQL): the same notification 100 times and 20 at
once, and 20 workers reconciling the same order at once → one order, one commission set, one
ledger effect."""

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from commissions.models import Commission
from orders.models import HookEvent, Order
from orders.services import order_sync
from payments.models import LedgerTransaction
from tests.orders.conftest import hook_payload, influencer_balances, order_doc

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
URL = "/api/v1/webhooks/vtex/acme/orders/"


def _in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _assert_one_effect(setup: dict[str, Any]) -> None:
    assert Order.objects.count() == 1
    assert Commission.objects.count() == 3
    assert LedgerTransaction.objects.filter(kind="accrue").count() == 3
    assert LedgerTransaction.objects.count() == 3
    assert influencer_balances(setup["brand"], setup["influencer"]) == {"estimated": 1191}


def test_the_same_notification_100_times_then_20_at_once(setup: dict[str, Any], fake_oms: Any) -> None:
    fake_oms.add_order(order_doc())
    token = setup["brand"].hook_token
    body = json.dumps(hook_payload())
    client = Client()
    for _ in range(100):
        assert client.post(URL, data=body, content_type="application/json", HTTP_X_HOOK_TOKEN=token).status_code == 200
    statuses = _in_threads(
        20,
        lambda i: Client().post(URL, data=body, content_type="application/json", HTTP_X_HOOK_TOKEN=token).status_code,
    )
    assert statuses == [200] * 20
    assert HookEvent.objects.count() == 1
    _assert_one_effect(setup)


def test_twenty_new_notifications_at_once_store_one_event(setup: dict[str, Any], fake_oms: Any) -> None:
    fake_oms.add_order(order_doc())
    token = setup["brand"].hook_token
    body = json.dumps(hook_payload())
    statuses = _in_threads(
        20,
        lambda i: Client().post(URL, data=body, content_type="application/json", HTTP_X_HOOK_TOKEN=token).status_code,
    )
    assert statuses == [200] * 20
    assert HookEvent.objects.count() == 1
    _assert_one_effect(setup)


def test_twenty_workers_on_the_same_order_serialise(setup: dict[str, Any], fake_oms: Any) -> None:
    fake_oms.add_order(order_doc())
    brand = setup["brand"]
    results = _in_threads(20, lambda i: order_sync(brand=brand, vtex_order_id="1415461749731-01", source="t"))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.reason for r in results).count("applied") == 1
    _assert_one_effect(setup)

    # Then the order is invoiced and 20 workers see it at once: one confirmation each line.
    fake_oms.add_order(order_doc(status="invoiced", last_change="2024-02-05T10:00:00+00:00"))
    results = _in_threads(20, lambda i: order_sync(brand=brand, vtex_order_id="1415461749731-01", source="t"))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert LedgerTransaction.objects.filter(kind="confirm").count() == 3
    assert influencer_balances(brand, setup["influencer"]) == {"hold": 1191}
