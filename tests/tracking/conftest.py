from typing import Any

import pytest
from django.test import Client

from tests.asgi_client import AsgiClient
from tests.factories import CampaignFactory
from tracking.buffer import SpoolClickBuffer, click_buffer
from tracking.conf import tracking_settings
from tracking.services import link_create
from tracking.stores import tracking_redis


@pytest.fixture(autouse=True)
def _tracking_settings(settings: Any, tmp_path: Any, request: Any) -> None:
    settings.TRACKING_SPOOL_DIR = str(tmp_path / "spool")
    settings.TRACKING_LINK_L1_SECONDS = 0
    settings.TRACKING_STREAM_KEY = f"test:clicks:{request.node.name}:{tmp_path.name}"
    if not request.node.get_closest_marker("redis"):
        settings.TRACKING_BUFFER = "spool"
    elif settings.REDIS_URL:
        # Every test clicks from 127.0.0.1: an earlier test's flood counter must not screen
        # this one's clicks.

        client = tracking_redis()
        stale = list(client.scan_iter(f"{tracking_settings().key_prefix}trk:fl:*"))
        if stale:
            client.delete(*stale)


@pytest.fixture
def campaign_a(brand_a: Any) -> Any:
    return CampaignFactory(brand=brand_a, slug="summer", attribution_window_days=30)


@pytest.fixture
def link_a(campaign_a: Any, influencer_a: Any) -> Any:
    return link_create(
        campaign=campaign_a, influencer=influencer_a, destination_url="https://www.acme.example/shoes?color=red"
    )


async def django_must_not_run(scope: Any, receive: Any, send: Any) -> None:
    """The application behind a click edge that must answer every request itself."""
    raise AssertionError(f"Django was asked for {scope['path']}")


def drain_all() -> int:
    buffer = click_buffer()
    if isinstance(buffer, SpoolClickBuffer):
        return buffer.drain(include_open=True).stored
    return buffer.drain().stored


BROWSER = {
    "HTTP_USER_AGENT": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "HTTP_ACCEPT_LANGUAGE": "es-CO,es;q=0.9",
    "HTTP_SEC_FETCH_MODE": "navigate",
    "HTTP_SEC_FETCH_DEST": "document",
}


@pytest.fixture(
    params=[
        "wsgi",
        "asgi",
        pytest.param("asgi-redis", marks=pytest.mark.redis),
    ]
)
def click_server(request: Any) -> str:
    """Which server answers the click tests: Django's view (test client), the ASGI edge in
    front of Django (config.asgi) with the spool buffer, and the edge with Redis (the
    production path: link entries and the stream through redis.asyncio)."""
    return str(request.param)


@pytest.fixture
def new_client(click_server: str) -> Any:
    return Client if click_server == "wsgi" else AsgiClient


@pytest.fixture
def click_client(new_client: Any) -> Any:
    return new_client()
