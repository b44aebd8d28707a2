from typing import Any

import pytest
from django.test import Client

from accounts.services import api_key_create
from orders.services import order_apply
from tests.orders.conftest import order_doc

pytestmark = pytest.mark.django_db


def test_an_api_key_reads_its_brands_orders_and_commissions_only(setup: dict[str, Any], brand_b: Any) -> None:
    order_apply(brand=setup["brand"], data=order_doc(), source="t")
    order_apply(brand=brand_b, data=order_doc(order_id="b-01", coupon=None), source="t")
    _key, secret = api_key_create(brand=setup["brand"], name="bi")
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    orders = client.get("/api/v1/orders/", {"status": "payment-approved"}).json()
    assert [o["vtex_order_id"] for o in orders["results"]] == ["1415461749731-01"]
    assert orders["results"][0]["attribution"]["source"] == "coupon"
    assert orders["results"][0]["attribution"]["code"] == "INFLU-MARIA10"
    assert len(orders["results"][0]["lines"]) == 3
    commissions = client.get(
        "/api/v1/commissions/", {"state": "estimated", "influencer": setup["influencer"].pk}
    ).json()
    assert len(commissions["results"]) == 3
    assert commissions["results"][0]["explanation"]["text"]
    assert len(client.get("/api/v1/commissions/", {"state": "confirmed"}).json()["results"]) == 0
    assert Client().get("/api/v1/orders/").status_code in (401, 403)


def test_the_read_api_is_in_the_openapi_schema(setup: dict[str, Any]) -> None:
    _key, secret = api_key_create(brand=setup["brand"], name="bi")
    schema = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}").get("/api/v1/schema/?format=json").json()
    assert "/api/v1/orders/" in schema["paths"]
    assert "/api/v1/commissions/" in schema["paths"]
