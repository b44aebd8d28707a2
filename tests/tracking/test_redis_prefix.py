"""Two deployments can share one Redis database: every key the platform writes there outside
Django's cache starts with the deployment's prefix (`CACHE_KEY_PREFIX`), so their clicks, link
entries, counters and request budgets never meet."""

import json
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

from config.click_edge import ClickEdge
from integrations.vtex.ratelimit import order_read_limiter, rate_limiter
from tests.asgi_client import AsgiClient
from tests.tracking.conftest import BROWSER, django_must_not_run
from tracking.link_cache import link_cache_key, link_entry_load
from tracking.models import Link
from tracking.stores import tracking_redis

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


def _deployment(settings: Any, prefix: str) -> None:
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}
    settings.TRACKING_STREAM_KEY = ""  # the default: "<prefix>:clicks"
    settings.TRACKING_BUFFER = "redis"
    settings.TRACKING_LINK_L1_SECONDS = 0


def test_a_click_writes_only_keys_under_its_deployments_prefix(link_a: Link, settings: Any) -> None:
    first, second = f"mgm-test-{uuid.uuid4().hex[:8]}", f"mgm-test-{uuid.uuid4().hex[:8]}"
    client = tracking_redis()

    _deployment(settings, first)
    link_entry_load(link_a.slug)
    # The second deployment has its own link under the same slug, somewhere else in the store.
    _deployment(settings, second)
    assert client.get(link_cache_key(link_a.slug)) is None  # the first deployment's entry is not seen here
    link_entry_load(link_a.slug)
    client.set(
        link_cache_key(link_a.slug),
        json.dumps({**json.loads(client.get(link_cache_key(link_a.slug))), "id": 999_999}),
    )

    _deployment(settings, first)
    edge = AsgiClient(ClickEdge(django_must_not_run))
    response = edge.get(f"/r/{link_a.slug}", **BROWSER)
    assert response.status_code == 302
    assert urlsplit(response["Location"]).hostname == "www.acme.example"

    written = set(client.scan_iter(f"{first}:*", count=1000))
    assert f"{first}:clicks" in written
    assert f"{first}:trk:link:v2:{link_a.slug}" in written
    assert any(key.startswith(f"{first}:trk:dd:{link_a.pk}:v:") for key in written)
    assert any(key.startswith(f"{first}:trk:fl:") for key in written)
    (entry,) = client.xrange(f"{first}:clicks")
    assert json.loads(entry[1]["c"])["link"] == str(link_a.pk)  # its own link, not the other's 999999
    assert not list(client.scan_iter(f"trk:dd:{link_a.pk}:*", count=1000))  # nothing outside a prefix
    assert client.xlen(f"{second}:clicks") == 0
    assert not [key for key in client.scan_iter(f"{second}:trk:dd:*", count=1000)]

    for key in written | set(client.scan_iter(f"{second}:*", count=1000)):
        client.delete(key)


def test_vtex_request_budgets_are_counted_under_the_prefix(settings: Any, brand_a: Any) -> None:
    prefix = f"mgm-test-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}
    settings.VTEX_ORDER_READS_PER_MINUTE = 6000

    limiter = rate_limiter()
    reads = order_read_limiter(brand=brand_a)

    assert limiter.key("acme").startswith(f"{prefix}:vtex:")  # type: ignore[attr-defined]
    assert reads.key("acme").startswith(f"{prefix}:vtex:")  # type: ignore[attr-defined]
    limiter.acquire("acme")
    assert tracking_redis().exists(limiter.key("acme"))  # type: ignore[attr-defined]
    tracking_redis().delete(limiter.key("acme"), reads.key("acme"))  # type: ignore[attr-defined]
