"""The VTEX hook endpoint: ping, token, account, shapes, storage once, processing after commit."""

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from commissions.models import Commission
from orders.models import HookEvent, Order
from orders.services import hook_brand_cache_clear
from tests.orders.conftest import hook_payload, order_doc

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhooks/vtex/acme/orders/"


def _post(client: Client, body: Any, token: str | None) -> Any:
    headers = {"HTTP_X_HOOK_TOKEN": token} if token else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **headers)


def test_the_configuration_ping_answers_200_without_a_token(brand_a: Any) -> None:
    response = _post(Client(), {"hookConfig": "ping"}, None)
    assert response.status_code == 200
    assert not HookEvent.objects.exists()


def test_a_wrong_or_missing_token_is_refused_and_nothing_is_stored(brand_a: Any) -> None:
    assert _post(Client(), hook_payload(), "wrong").status_code == 401
    assert _post(Client(), hook_payload(), None).status_code == 401
    assert not HookEvent.objects.exists()


def test_the_previous_token_works_until_it_expires(brand_a: Any, settings: Any) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    brand_a.previous_hook_token = "old-token"
    brand_a.previous_hook_token_expires_at = timezone.now() + timezone.timedelta(hours=1)
    brand_a.save()
    assert _post(Client(), hook_payload(), "old-token").status_code == 200
    brand_a.previous_hook_token_expires_at = timezone.now() - timezone.timedelta(seconds=1)
    brand_a.save()
    hook_brand_cache_clear()  # the hook caches the brand for a few seconds
    assert _post(Client(), hook_payload(state="invoiced"), "old-token").status_code == 401
    assert HookEvent.objects.count() == 1


def test_another_accounts_notification_is_refused(brand_a: Any) -> None:
    response = _post(Client(), hook_payload(account="globex"), brand_a.hook_token)
    assert response.status_code == 403
    assert not HookEvent.objects.exists()


def test_unknown_brand_is_404(db: None) -> None:
    assert (
        Client().post("/api/v1/webhooks/vtex/nobody/orders/", data="{}", content_type="application/json").status_code
        == 404
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [("{not json", "malformed_json"), ({"OrderId": "x"}, "hook_missing_fields"), ([1, 2], "hook_payload_invalid")],
)
def test_malformed_bodies_are_400_with_a_clear_message(brand_a: Any, body: Any, code: str) -> None:
    response = _post(Client(), body, brand_a.hook_token)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert not HookEvent.objects.exists()


def test_all_three_documented_shapes_and_unknown_states_are_stored(brand_a: Any, settings: Any) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    shape_a = {k: v for k, v in hook_payload().items() if k not in ("LastState", "CurrentChange")}
    shape_c = {
        **hook_payload(state="unknow"),
        "Domain": "OrdersDocumentUpdated",
        "LastState": None,
        "LastChange": "2022-12-15T20:32:06.6120711",
        "CurrentChange": "0001-01-01T00:00:00",
    }
    weird = hook_payload(state="some-new-status", change="2024-02-05T00:00:00Z")
    for body in (shape_a, hook_payload(), shape_c, weird):
        assert _post(Client(), body, brand_a.hook_token).status_code == 200
    assert sorted(HookEvent.objects.values_list("state", flat=True)) == [
        "payment-approved",
        "payment-approved",
        "some-new-status",
        "unknow",
    ]


def test_a_notification_is_stored_once_and_the_order_processed_once(
    setup: dict[str, Any], fake_oms: Any, django_capture_on_commit_callbacks: Any
) -> None:
    brand = setup["brand"]
    fake_oms.add_order(order_doc())
    client = Client()
    for _ in range(100):
        with django_capture_on_commit_callbacks(execute=True):
            response = _post(client, hook_payload(), brand.hook_token)
        assert response.status_code == 200
    assert HookEvent.objects.count() == 1
    assert HookEvent.objects.get().status == "processed"
    assert len(fake_oms.requests_to("/api/oms/pvt/orders/")) == 1
    assert Order.objects.count() == 1
    assert Commission.objects.count() == 3


def test_a_forged_notification_cannot_change_state(
    setup: dict[str, Any], fake_oms: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """A notification says canceled, but VTEX says approved: VTEX wins."""
    fake_oms.add_order(order_doc())
    with django_capture_on_commit_callbacks(execute=True):
        _post(Client(), hook_payload(state="canceled"), setup["brand"].hook_token)
    order = Order.objects.get()
    assert order.status == "payment-approved"
    assert set(Commission.objects.values_list("state", flat=True)) == {"estimated"}
