import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from prometheus_client import REGISTRY

from integrations.vtex import (
    CouponUsage,
    OrderItem,
    VTEXClient,
    VTEXCredentialsMissing,
    VTEXError,
    VTEXRateLimited,
    VTEXUnavailable,
    vtex_base_url,
)
from integrations.vtex.ratelimit import LocalRateLimiter
from tests.factories import BrandFactory
from tests.fake_vtex import APP_KEY, APP_TOKEN, load_sample

EXCHANGES = load_sample("coupon-api-exchanges.json")


class RecordingSleep:
    def __init__(self):
        self.calls = []

    def __call__(self, seconds):
        self.calls.append(seconds)


@pytest.fixture
def sleeps():
    return RecordingSleep()


@pytest.fixture
def client(fake_vtex, sleeps):
    return VTEXClient(
        account="luxstore",
        app_key=APP_KEY,
        app_token=APP_TOKEN,
        sleep=sleeps,
        limiter=LocalRateLimiter(limit=1000, window=1),
    )


def coupon_kwargs(code="INFLU-MARIA10"):
    body = EXCHANGES["create_single"]["request_body"]
    return {
        "code": code,
        "utm_source": body["utmSource"],
        "utm_campaign": body["utmCampaign"],
        "max_items_per_client": body["maxItemsPerClient"],
        "expiration_interval_per_use": body["expirationIntervalPerUse"],
        "max_usage": body["maxUsage"],
    }


def test_coupon_upsert_sends_the_documented_body_and_auth_headers(client, fake_vtex):
    coupon = client.coupon_upsert(**coupon_kwargs())

    request = fake_vtex.requests_to("/api/rnb/pvt/coupon", "POST")[0]
    assert request.body == EXCHANGES["create_single"]["request_body"]
    assert request.headers["X-VTEX-API-AppKey"] == APP_KEY
    assert request.headers["X-VTEX-API-AppToken"] == APP_TOKEN
    assert request.headers["Accept"] == "application/json"
    assert coupon.code == "INFLU-MARIA10"
    assert coupon.utm_source == "influencer-maria"
    assert coupon.is_archived is False
    assert coupon.max_usage == 1000
    assert coupon.last_modified_utc is not None


def test_coupon_upsert_is_idempotent_by_code(client, fake_vtex):
    client.coupon_upsert(**coupon_kwargs())
    client.coupon_upsert(**{**coupon_kwargs(), "max_usage": 5})
    assert len(fake_vtex.coupons) == 1
    assert client.coupon_get("INFLU-MARIA10").max_usage == 5


def test_coupon_get_missing_is_none(client):
    assert client.coupon_get("NOPE") is None


def test_archive_and_unarchive(client, fake_vtex):
    client.coupon_upsert(**coupon_kwargs())
    client.coupon_archive("INFLU-MARIA10")
    assert fake_vtex.coupons["INFLU-MARIA10"]["isArchived"] is True
    client.coupon_unarchive("INFLU-MARIA10")
    assert fake_vtex.coupons["INFLU-MARIA10"]["isArchived"] is False


def test_coupon_usage_and_count(client, fake_vtex):
    client.coupon_upsert(**coupon_kwargs())
    fake_vtex.add_coupon_usage("INFLU-MARIA10", order_id="1415461749731-01", profile_id="p1")
    fake_vtex.add_coupon_usage("INFLU-MARIA10", order_id="1415461749741-01", profile_id="p2")
    usage = client.coupon_usage("INFLU-MARIA10")
    assert usage.count == 2
    assert {use.order_id for use in usage.uses} == {"1415461749731-01", "1415461749741-01"}
    assert all(use.used_at is not None for use in usage.uses)
    assert client.coupon_usage_count("INFLU-MARIA10") == 2


def test_usage_parses_the_documented_sample():
    usage = CouponUsage.from_json(EXCHANGES["usage"]["response_body"], code="INFLU-MARIA10")
    assert usage.count == 2
    assert usage.uses[0].order_id == "1415461749731-01"
    assert usage.uses[0].used_at == datetime(2024, 2, 4, 20, 9, 44, 830511, tzinfo=UTC)


def test_order_get_parses_the_sample_order(client, fake_vtex):
    fake_vtex.add_order(load_sample("oms-order-coupon-3-items.json"))
    order = client.order_get("1415461749731-01")
    assert order.order_id == "1415461749731-01"
    assert order.status == "payment-approved"
    assert order.value_cents == 13413
    assert order.coupon == "INFLU-MARIA10"
    assert order.totals["Discounts"] == -1157
    assert order.creation_date == datetime(2024, 2, 4, 20, 9, 43, 899958, tzinfo=UTC)
    assert [item.sku_id for item in order.items] == ["18", "25", "31"]
    first = order.items[0]
    assert (first.quantity, first.line_total_cents, first.selling_price_cents) == (2, 5922, 2961)
    assert first.category_ids == ("9",)
    assert first.collection_ids == ("135", "142")
    assert first.brand_id == "2000000"
    assert sum(item.line_total_cents for item in order.items) == 13070 - 1157


def test_order_line_total_falls_back_to_selling_price_on_old_orders():
    item = OrderItem.from_json({"id": "1", "quantity": 3, "sellingPrice": 1000, "priceDefinitions": None}, index=0)
    assert item.line_total_cents == 3000


def test_an_update_sends_back_the_complete_coupon_vtex_returned_with_our_changes(client, fake_vtex):
    """VTEX's documented update: get the coupon, edit the complete body, post it back."""
    client.coupon_upsert(**coupon_kwargs())
    # Set on the coupon by the brand in VTEX's admin, or a field VTEX added later: kept.
    fake_vtex.coupons["INFLU-MARIA10"]["someFieldWeDoNotManage"] = "kept"
    fake_vtex.reset_log()

    client.coupon_upsert(**{**coupon_kwargs(), "max_usage": 5}, edit=True)

    assert [(r.method, r.path) for r in fake_vtex.requests] == [
        ("GET", "/api/rnb/pvt/coupon/INFLU-MARIA10"),
        ("POST", "/api/rnb/pvt/coupon"),
    ]
    sent = fake_vtex.requests_to("/api/rnb/pvt/coupon", "POST")[0].body
    assert sent["someFieldWeDoNotManage"] == "kept"
    assert sent["maxUsage"] == 5
    assert sent["couponCode"] == "INFLU-MARIA10"


@pytest.mark.django_db
def test_a_data_protection_plus_store_is_read_through_the_pii_orders_api(fake_vtex):
    fake_vtex.add_order(load_sample("oms-order-coupon-3-items.json"))
    order_id = load_sample("oms-order-coupon-3-items.json")["orderId"]
    brand = BrandFactory(vtex_account="acme", vtex_data_protection_plus=True)

    order = VTEXClient.for_brand(brand).order_get(order_id)

    assert order.order_id == order_id
    assert [r.path for r in fake_vtex.requests_to("/api/", "GET")] == [f"/api/orders/pvt/document/{order_id}"]
    brand.vtex_data_protection_plus = False
    VTEXClient.for_brand(brand).order_get(order_id)
    assert fake_vtex.requests_to("/api/oms/pvt/orders/", "GET")[0].path == f"/api/oms/pvt/orders/{order_id}"


def test_order_get_unknown_order_raises_with_oms_message(client):
    with pytest.raises(VTEXError) as caught:
        client.order_get("nope-01")
    assert caught.value.status == 404
    assert "Order nope-01 not found" in caught.value.vtex_message


def test_orders_list_filters_pages_and_iterates(client, fake_vtex):
    base = load_sample("oms-order-coupon-3-items.json")
    for i in range(5):
        order = json.loads(json.dumps(base))
        order["orderId"] = f"10000{i}-01"
        order["creationDate"] = f"2024-02-04T1{i}:00:00.0000000+00:00"
        fake_vtex.add_order(order)
    outside = json.loads(json.dumps(base))
    outside["orderId"] = "outside-01"
    outside["creationDate"] = "2024-03-01T10:00:00+00:00"
    fake_vtex.add_order(outside)

    window = {"created_from": datetime(2024, 2, 4, tzinfo=UTC), "created_to": datetime(2024, 2, 5, tzinfo=UTC)}
    page = client.orders_list(**window, per_page=2)
    assert (page.total, page.pages, page.current_page) == (5, 3, 1)
    assert [o.order_id for o in page.orders] == ["100000-01", "100001-01"]
    assert page.orders[0].total_value_cents == 13413
    sent = fake_vtex.requests_to("/api/oms/pvt/orders", "GET")[0]
    assert sent.query["f_creationDate"] == ["creationDate:[2024-02-04T00:00:00.000Z TO 2024-02-05T00:00:00.000Z]"]

    every = list(client.orders_iter(**window, per_page=2))
    assert [o.order_id for o in every] == [f"10000{i}-01" for i in range(5)]


def test_orders_list_refuses_pages_vtex_does_not_serve(client):
    with pytest.raises(ValueError, match=r"1\.\.30"):
        client.orders_list(
            created_from=datetime(2024, 1, 1, tzinfo=UTC), created_to=datetime(2024, 1, 2, tzinfo=UTC), page=31
        )


def test_hook_config_round_trip(client, fake_vtex):
    assert client.hook_config_get() is None
    client.hook_config_set(url="https://mgm.example/vtex/hook/acme", headers={"X-Hook-Token": "s3cret"})
    config = client.hook_config_get()
    assert config.url == "https://mgm.example/vtex/hook/acme"
    assert config.headers == {"X-Hook-Token": "s3cret"}
    assert config.filter_type == "FromWorkflow"
    assert "payment-approved" in config.statuses


def test_hook_config_error_message_reaches_the_caller(client):
    with pytest.raises(VTEXError) as caught:
        client.hook_config_set(url="http://insecure.example/hook", headers={})
    assert caught.value.status == 400
    assert "Only https scheme is accepted" in str(caught.value)


# --- Failure handling -----------------------------------------------------------------------


def test_429_waits_for_retry_after_then_succeeds(fake_vtex):
    """The real clock: a 429 storm of two answers with Retry-After: 1 is waited out."""
    client = VTEXClient(account="luxstore", app_key=APP_KEY, app_token=APP_TOKEN)
    fake_vtex.fail_next(2, 429, headers={"Retry-After": "1"}, body={"error": {"message": "Too many requests"}})
    started = time.monotonic()
    coupon = client.coupon_upsert(**coupon_kwargs())
    elapsed = time.monotonic() - started

    assert coupon.code == "INFLU-MARIA10"
    assert elapsed >= 2.0
    calls = fake_vtex.requests_to("/api/rnb/pvt/coupon", "POST")
    assert len(calls) == 3
    assert calls[1].at - calls[0].at >= 1.0
    assert calls[2].at - calls[1].at >= 1.0


def test_429_storm_longer_than_the_error_budget_is_still_waited_out(client, fake_vtex, sleeps):
    fake_vtex.fail_next(10, 429, headers={"Retry-After": "3"})
    client.coupon_upsert(**coupon_kwargs())
    assert sleeps.calls == [3.0] * 10  # more than VTEX_MAX_ATTEMPTS: 429s do not use up retries
    assert len(fake_vtex.requests_to("/api/rnb/pvt/coupon")) == 11


def test_429_with_http_date_retry_after(client, fake_vtex, sleeps):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    fake_vtex.fail_next(1, 429, headers={"Retry-After": when})
    client.coupon_upsert(**coupon_kwargs())
    assert 25 <= sleeps.calls[0] <= 30


def test_429_beyond_the_longest_wait_raises_rate_limited(client, fake_vtex, sleeps, settings):
    settings.VTEX_RETRY_AFTER_MAX_WAIT = 60
    client = VTEXClient(account="luxstore", app_key=APP_KEY, app_token=APP_TOKEN, sleep=sleeps)
    fake_vtex.fail_next(1, 429, headers={"Retry-After": "600"})
    with pytest.raises(VTEXRateLimited) as caught:
        client.coupon_upsert(**coupon_kwargs())
    assert caught.value.retry_after == 600
    assert caught.value.status == 429
    assert caught.value.retryable
    assert sleeps.calls == []
    assert fake_vtex.coupons == {}


def test_5xx_is_retried_with_growing_backoff_then_succeeds(client, fake_vtex, sleeps):
    fake_vtex.fail_next(3, 500, body={"error": {"message": "Internal error"}})
    coupon = client.coupon_upsert(**coupon_kwargs())
    assert coupon.code == "INFLU-MARIA10"
    assert len(fake_vtex.requests_to("/api/rnb/pvt/coupon")) == 4
    assert len(sleeps.calls) == 3
    # equal jitter: each wait is between half and all of base × 2^(n-1)
    for n, pause in enumerate(sleeps.calls, start=1):
        ceiling = min(0.05, 0.01 * 2 ** (n - 1))
        assert ceiling / 2 <= pause <= ceiling


def test_5xx_on_every_attempt_raises_unavailable(client, fake_vtex):
    fake_vtex.fail_next(10, 503, body="Service Unavailable")
    with pytest.raises(VTEXUnavailable) as caught:
        client.coupon_upsert(**coupon_kwargs())
    assert caught.value.status == 503
    assert caught.value.retryable
    assert len(fake_vtex.requests_to("/api/rnb/pvt/coupon")) == 4
    assert fake_vtex.coupons == {}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {
                "error": {"": ["The `skus` object needs to have a valid `id` attribute."]},
                "type": "https://tools.ietf.org/html/rfc7231#section-6.5.1",
                "title": "One or more validation errors occurred.",
                "status": 400,
            },
            "One or more validation errors occurred. The `skus` object needs to have a valid `id` attribute.",
        ),
        (
            {"error": {"code": "OMS003", "message": "Order status should be ready-for-handling", "exception": None}},
            "Order status should be ready-for-handling (OMS003)",
        ),
        (
            {
                "type": "https://tools.ietf.org/html/rfc9110#section-15.5.2",
                "title": "Unauthorized",
                "status": 401,
                "detail": "Bad key",
            },
            "Unauthorized Bad key",
        ),
        (
            "A list of multiple coupon configurations is required",
            "A list of multiple coupon configurations is required",
        ),
        (None, "Bad Request"),
    ],
)
def test_4xx_is_not_retried_and_says_what_vtex_said(client, fake_vtex, sleeps, body, expected):
    fake_vtex.fail_next(1, 400, body=body)
    with pytest.raises(VTEXError) as caught:
        client.coupon_upsert(**coupon_kwargs())
    assert caught.value.status == 400
    assert caught.value.vtex_message == expected
    assert expected in str(caught.value)
    assert "coupon_upsert" in str(caught.value)
    assert not caught.value.retryable
    assert len(fake_vtex.requests_to("/api/rnb/pvt/coupon")) == 1
    assert sleeps.calls == []


def test_real_validation_error_from_a_missing_field(client, fake_vtex):
    with pytest.raises(VTEXError) as caught:
        client.coupon_upsert(**{**coupon_kwargs(), "utm_source": ""})
    assert "utmSource: The utmSource field is required." in caught.value.vtex_message


def test_bad_credentials_are_a_401_with_the_message(fake_vtex, sleeps):
    client = VTEXClient(account="luxstore", app_key=APP_KEY, app_token="wrong", sleep=sleeps)
    with pytest.raises(VTEXError) as caught:
        client.coupon_get("X")
    assert caught.value.status == 401
    assert "Unauthorized access" in caught.value.vtex_message


def test_slow_answer_times_out_and_is_retried(client, fake_vtex, settings):
    client.read_timeout = 0.3
    fake_vtex.delay_next(1, seconds=1.0)
    coupon = client.coupon_upsert(**coupon_kwargs())
    assert coupon.code == "INFLU-MARIA10"
    assert len(fake_vtex.requests_to("/api/rnb/pvt/coupon")) == 2


def test_unreachable_vtex_raises_unavailable_after_retries(sleeps, settings):
    settings.VTEX_API_BASE_URL = "http://127.0.0.1:9"  # discard port: connection refused
    client = VTEXClient(account="luxstore", app_key=APP_KEY, app_token=APP_TOKEN, sleep=sleeps)
    with pytest.raises(VTEXUnavailable) as caught:
        client.coupon_get("X")
    assert caught.value.status is None
    assert len(sleeps.calls) == 3


def test_missing_credentials_fail_before_any_request(fake_vtex):
    client = VTEXClient(account="luxstore", app_key="", app_token="")
    with pytest.raises(VTEXCredentialsMissing, match="luxstore"):
        client.coupon_get("X")
    assert fake_vtex.requests == []


def test_base_url_comes_from_the_account_unless_overridden(settings):
    settings.VTEX_API_BASE_URL = ""
    assert (
        vtex_base_url(account="luxstore", environment="vtexcommercebeta") == "https://luxstore.vtexcommercebeta.com.br"
    )
    settings.VTEX_API_BASE_URL = "http://127.0.0.1:8080/"
    assert vtex_base_url(account="luxstore", environment="vtexcommercestable") == "http://127.0.0.1:8080"


def test_calls_are_measured_per_account_operation_and_status(client, fake_vtex):
    def count(status):
        return (
            REGISTRY.get_sample_value(
                "mgm_vtex_requests_total", {"account": "luxstore", "operation": "coupon_get", "status": status}
            )
            or 0
        )

    before_404, before_500 = count("404"), count("500")
    fake_vtex.fail_next(1, 500)
    client.coupon_get("NOPE")
    assert count("500") == before_500 + 1
    assert count("404") == before_404 + 1
    assert REGISTRY.get_sample_value(
        "mgm_vtex_request_seconds_count", {"account": "luxstore", "operation": "coupon_get", "status": "404"}
    )


def test_repr_never_shows_the_token(client):
    assert APP_TOKEN not in repr(client)


@pytest.mark.django_db
def test_for_brand_uses_the_brand_credentials(fake_vtex):
    brand = BrandFactory(vtex_account="acme", vtex_environment="vtexcommercestable")
    client = VTEXClient.for_brand(brand)
    client.coupon_upsert(**coupon_kwargs("ACME10"))
    assert client.account == "acme"
    assert "ACME10" in fake_vtex.coupons


@pytest.mark.parametrize("retry_after_case", ["0", "Thu, 01 Jan 1970 00:00:00 GMT"])
def test_429_without_a_real_wait_backs_off_and_gives_up(fake_vtex, sleeps, settings, retry_after_case):
    settings.VTEX_RETRY_AFTER_MAX_WAIT = 20
    settings.VTEX_BACKOFF_BASE_SECONDS, settings.VTEX_BACKOFF_MAX_SECONDS = 0.5, 30.0  # production's
    client = VTEXClient(account="luxstore", app_key=APP_KEY, app_token=APP_TOKEN, sleep=sleeps)
    fake_vtex.fail_next(1000, 429, headers={"Retry-After": retry_after_case})
    with pytest.raises(VTEXRateLimited):
        client.coupon_upsert(**coupon_kwargs())
    assert all(pause > 0 for pause in sleeps.calls)
    assert sum(sleeps.calls) <= 20
    assert len(fake_vtex.requests_to("/api/rnb/pvt/coupon")) < 20  # bounded, never a tight loop
    assert fake_vtex.coupons == {}


def test_a_netrc_never_adds_credentials_to_vtex_requests(client, fake_vtex, tmp_path, monkeypatch):
    """VTEX gets its AppKey/AppToken headers only: a ~/.netrc entry for the host is not looked
    up (requests would read it on every request and send it as Basic auth)."""
    host = fake_vtex.url.split("://", 1)[1].split(":", 1)[0]
    netrc = tmp_path / ".netrc"
    netrc.write_text(f"machine {host} login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))

    client.coupon_get("INFLU-MARIA10")
    request = fake_vtex.requests[-1]
    assert "Authorization" not in request.headers
    assert "authorization" not in {key.lower() for key in request.headers}
    assert request.headers["X-VTEX-API-AppKey"] == APP_KEY
