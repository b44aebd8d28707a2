"""The hook's own INSERT (orders.services.hooks._hook_event_insert_async) on PostgreSQL, outside
any transaction as the server runs it: the statement compiled once per process is the one
Django's compiler writes, the row it stores is the notification as sent, and a VTEX retry
stores nothing."""

import json
from typing import Any

import pytest
from django.db import connection
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery
from django.test import Client
from django.utils import timezone

from orders.models import HookEvent
from orders.services import hooks
from tests.orders.conftest import hook_payload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
URL = "/api/v1/webhooks/vtex/acme/orders/"


def test_the_compiled_once_statement_is_djangos(brand_a: Any) -> None:
    event = HookEvent(
        brand=brand_a,
        vtex_order_id="1-01",
        state="invoiced",
        change_key="c",
        payload={"OrderId": "1-01", "nested": {"a": [1, 2]}},
        received_at=timezone.now(),
    )
    fields, sql = hooks._insert_sql(connection.alias)
    query = InsertQuery(HookEvent, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, [event])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = [HookEvent._meta.pk]
    [(expected_sql, expected_params)] = compiler.as_sql()
    assert sql == f"{expected_sql}, set_config('synchronous_commit', 'off', true)"
    params = [field.get_db_prep_save(field.pre_save(event, True), connection=connection) for field in fields]
    assert [str(p) for p in params] == [str(p) for p in expected_params]


def test_the_hook_stores_the_notification_as_sent_and_a_retry_stores_nothing(brand_a: Any) -> None:
    payload = hook_payload(state="invoiced")
    body = json.dumps(payload)
    client = Client()
    first = client.post(URL, data=body, content_type="application/json", HTTP_X_HOOK_TOKEN=brand_a.hook_token)
    assert first.status_code == 200
    assert first.json() == {"ok": True, "duplicate": False}
    event = HookEvent.objects.get()
    assert (event.brand_id, event.vtex_order_id, event.state) == (brand_a.pk, payload["OrderId"], "invoiced")
    assert event.payload == payload
    assert event.status == HookEvent.Status.PENDING
    assert event.received_at is not None
    retry = client.post(URL, data=body, content_type="application/json", HTTP_X_HOOK_TOKEN=brand_a.hook_token)
    assert retry.json() == {"ok": True, "duplicate": True}
    assert HookEvent.objects.count() == 1
