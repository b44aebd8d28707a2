"""Outgoing webhooks: a confirmed commission reaches a local receiver signed per Standard
Webhooks; a failing receiver gets retries with backoff; SSRF refusals; endpoint disabling."""

from datetime import timedelta
from typing import Any

import pytest
import requests
from django.core import mail
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from accounts.services import api_key_create
from orders.services import order_apply
from tests.factories import StaffFactory
from tests.orders.conftest import order_doc
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage
from webhooks.services import (
    retry_delay,
    webhook_deliveries_due,
    webhook_delivery_attempt,
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_secret_rotate,
    webhook_event_record,
)
from webhooks.ssrf import UnsafeURL, guarded_session, url_check

pytestmark = pytest.mark.django_db


def test_a_local_receiver_gets_commission_confirmed_and_verifies_it(
    setup: dict[str, Any], receiver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    brand = setup["brand"]
    endpoint, secret = webhook_endpoint_create(brand=brand, url=receiver.url, event_types=["commission.confirmed"])
    receiver.secret = secret
    with django_capture_on_commit_callbacks(execute=True):
        order_apply(brand=brand, data=order_doc(), source="t")  # estimated: not subscribed
    assert receiver.received == []
    with django_capture_on_commit_callbacks(execute=True):
        order_apply(brand=brand, data=order_doc(status="invoiced", last_change="2024-02-05T10:00:00+00:00"), source="t")
    assert receiver.rejected == []
    assert len(receiver.received) == 3  # one per commission line
    first = receiver.received[0]
    assert first["payload"]["type"] == "commission.confirmed"
    assert first["payload"]["data"]["state"] == "confirmed"
    assert first["payload"]["data"]["order_id"] == "1415461749731-01"
    assert first["headers"]["webhook-id"].startswith("msg_")
    assert first["headers"]["webhook-signature"].startswith("v1,")
    delivery = WebhookDelivery.objects.filter(endpoint=endpoint).first()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.last_response_status == 204
    assert delivery.last_duration_ms is not None
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


def test_nothing_is_sent_for_a_change_that_rolled_back(brand_a: Any, receiver: Any) -> None:
    webhook_endpoint_create(brand=brand_a, url=receiver.url, event_types=["influencer.applied"])

    def change_that_fails() -> None:
        with transaction.atomic():
            webhook_event_record(event_type="influencer.applied", brand_id=brand_a.pk, data={"x": 1})
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert WebhookMessage.objects.count() == 0
    assert receiver.received == []


def test_a_failing_receiver_gets_retries_with_backoff(brand_a: Any, receiver: Any, settings: Any) -> None:
    receiver.status = 500
    endpoint, secret = webhook_endpoint_create(brand=brand_a, url=receiver.url, event_types=["withdrawal.paid"])
    receiver.secret = secret
    message = webhook_event_record(event_type="withdrawal.paid", brand_id=brand_a.pk, data={"id": 9})
    delivery = WebhookDelivery.objects.get(message=message)
    now = timezone.now()
    waits = []
    for attempt in range(1, 5):
        done = webhook_delivery_attempt(delivery_id=delivery.pk, now=now)
        assert done.status == WebhookDelivery.Status.PENDING
        assert done.attempts == attempt
        assert done.last_response_status == 500
        waits.append((done.next_attempt_at - done.last_attempt_at).total_seconds())
        # not due yet: a second call does nothing
        assert webhook_delivery_attempt(delivery_id=delivery.pk, now=done.last_attempt_at).attempts == attempt
        now = done.next_attempt_at
    assert len(receiver.received) == 4  # each attempt reached it, signed the same way
    assert {r["headers"]["webhook-id"] for r in receiver.received} == {message.id}
    # exponential: each ceiling doubles (equal jitter keeps each wait within [ceiling/2, ceiling])
    base = settings.WEBHOOKS_RETRY_BASE_SECONDS
    for n, wait in enumerate(waits, start=1):
        assert base * 2 ** (n - 1) / 2 <= wait <= base * 2 ** (n - 1) + 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 4
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
    # the receiver recovers: the next due attempt succeeds and the failure clock stops
    receiver.status = 200
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert webhook_deliveries_due() == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_retries_stop_after_three_days(settings: Any) -> None:
    assert retry_delay(30).total_seconds() <= settings.WEBHOOKS_RETRY_MAX_SECONDS
    assert settings.WEBHOOKS_RETRY_FOR_HOURS == 72


def test_delivery_gives_up_after_the_retry_window(brand_a: Any, receiver: Any) -> None:
    receiver.status = 503
    _endpoint, receiver.secret = webhook_endpoint_create(
        brand=brand_a, url=receiver.url, event_types=["withdrawal.paid"]
    )
    message = webhook_event_record(event_type="withdrawal.paid", brand_id=brand_a.pk, data={"id": 1})
    delivery = WebhookDelivery.objects.get(message=message)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created_at=timezone.now() - timedelta(hours=72) + timedelta(seconds=5)
    )
    done = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert done.status == WebhookDelivery.Status.FAILED
    assert done.next_attempt_at is None


def test_an_endpoint_failing_for_a_day_is_disabled_and_managers_are_emailed(
    brand_a: Any, manager_a: Any, receiver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.status = 500
    endpoint, receiver.secret = webhook_endpoint_create(
        brand=brand_a, url=receiver.url, event_types=["withdrawal.paid"]
    )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(hours=25))
    message = webhook_event_record(event_type="withdrawal.paid", brand_id=brand_a.pk, data={"id": 1})
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get(message=message).pk)
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    assert endpoint.disabled_at is not None
    assert [m.to for m in mail.outbox] == [[manager_a.email]]
    assert receiver.url in mail.outbox[0].subject
    # a disabled endpoint gets no new messages
    assert webhook_event_record(event_type="withdrawal.paid", brand_id=brand_a.pk, data={"id": 2}) is None


def test_replay_sends_the_same_message_again(brand_a: Any, receiver: Any) -> None:
    _endpoint, receiver.secret = webhook_endpoint_create(
        brand=brand_a, url=receiver.url, event_types=["withdrawal.paid"]
    )
    message = webhook_event_record(event_type="withdrawal.paid", brand_id=brand_a.pk, data={"id": 1})
    delivery = webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get(message=message).pk)
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    webhook_delivery_replay(delivery=delivery)
    webhook_delivery_attempt(delivery_id=delivery.pk)
    assert [r["headers"]["webhook-id"] for r in receiver.received] == [message.id, message.id]


def test_secret_rotation_signs_with_both_during_the_overlap(brand_a: Any, receiver: Any) -> None:
    endpoint, old = webhook_endpoint_create(brand=brand_a, url=receiver.url, event_types=["withdrawal.paid"])
    new = webhook_endpoint_secret_rotate(endpoint=endpoint, overlap=timedelta(hours=1))
    receiver.secret = old  # a receiver not yet switched still verifies
    message = webhook_event_record(event_type="withdrawal.paid", brand_id=brand_a.pk, data={"id": 1})
    webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get(message=message).pk)
    receiver.secret = new
    webhook_delivery_replay(delivery=WebhookDelivery.objects.get(message=message))
    webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get(message=message).pk)
    assert receiver.rejected == []
    assert len(receiver.received) == 2
    assert len(receiver.received[0]["headers"]["webhook-signature"].split(" ")) == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # not HTTPS
        "https://127.0.0.1/hook",
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata
        "https://[::1]/hook",
        "https://192.168.1.10/",
        "https://localhost/",
        "https://user:pass@example.com/",
    ],
)
def test_private_loopback_and_metadata_hosts_are_refused_in_production(settings: Any, url: str) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(UnsafeURL):
        url_check(url)


def test_delivery_refuses_a_host_that_now_resolves_privately(brand_a: Any, receiver: Any, settings: Any) -> None:
    """DNS rebinding: saved while allowed, then the address is private at delivery time."""
    endpoint, receiver.secret = webhook_endpoint_create(
        brand=brand_a, url=receiver.url, event_types=["withdrawal.paid"]
    )
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=receiver.url.replace("http://", "https://"))
    message = webhook_event_record(event_type="withdrawal.paid", brand_id=brand_a.pk, data={"id": 1})
    delivery = webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get(message=message).pk)
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert "private" in delivery.last_error or "public" in delivery.last_error
    assert receiver.received == []


def test_the_connection_guard_refuses_a_private_peer(settings: Any, receiver: Any) -> None:
    """Even if the name check were fooled, the socket's real peer is checked."""

    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(requests.exceptions.ConnectionError):
        guarded_session().post(receiver.url, data=b"{}", timeout=2)
    assert receiver.received == []


def test_brands_register_endpoints_through_the_api(brand_a: Any, brand_b: Any, receiver: Any) -> None:
    _k, key = api_key_create(brand=brand_a, name="ERP", scopes=["webhooks:read", "webhooks:write"])
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    created = client.post(
        "/api/v1/webhook-endpoints/",
        {"url": receiver.url, "event_types": ["commission.confirmed"]},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["brand"] == brand_a.slug
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.secret == body["secret"]
    listing = client.get("/api/v1/webhook-endpoints/").json()["results"]
    assert "secret" not in listing[0]
    unknown = client.post(
        "/api/v1/webhook-endpoints/", {"url": receiver.url, "event_types": ["nope"]}, content_type="application/json"
    )
    assert unknown.status_code == 400
    rotated = client.post(f"/api/v1/webhook-endpoints/{endpoint.pk}/rotate-secret")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != body["secret"]
    foreign, _secret = webhook_endpoint_create(brand=brand_b, url=receiver.url, event_types=["withdrawal.paid"])
    assert client.get(f"/api/v1/webhook-endpoints/{foreign.pk}/").status_code == 404


def test_the_signing_secret_is_encrypted_at_rest(brand_a: Any, receiver: Any) -> None:
    endpoint, secret = webhook_endpoint_create(brand=brand_a, url=receiver.url, event_types=["withdrawal.paid"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_webhookendpoint WHERE id = %s", [endpoint.pk])
        stored = cursor.fetchone()[0]
    assert secret not in stored


def test_admin_replays_a_delivery(brand_a: Any, receiver: Any, verified_client: Any) -> None:
    manager = StaffFactory(email="m@example.com", role="Manager", brands=[brand_a])
    _endpoint, receiver.secret = webhook_endpoint_create(
        brand=brand_a, url=receiver.url, event_types=["withdrawal.paid"]
    )
    message = webhook_event_record(event_type="withdrawal.paid", brand_id=brand_a.pk, data={"id": 1})
    delivery = WebhookDelivery.objects.get(message=message)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", next_attempt_at=None)
    client = verified_client(manager)
    response = client.post(
        "/admin/webhooks/webhookdelivery/", {"action": "replay", "_selected_action": [delivery.pk]}, follow=True
    )
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
