"""The tracking context's Redis clients (`TRACKING_*` settings, `REDIS_URL`, Sentinel through
`core.redis`): one synchronous client per process for Django's side (views, services, the drain)
and one asyncio client per event loop for the ASGI edge (`config.click_edge`). Short socket
timeouts: a click must fall back to the spool in well under a second when Redis is away."""

import asyncio
import weakref
from typing import Any

from core.redis import redis_async_client, redis_client
from tracking.conf import tracking_settings

_sync: dict[str, Any] = {}
_async: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[str, Any]]" = weakref.WeakKeyDictionary()


def _options() -> dict[str, Any]:
    timeout = tracking_settings().redis_timeout
    return {
        "decode_responses": True,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "health_check_interval": 30,
    }


def tracking_redis() -> Any:
    """The synchronous client for the tracking Redis (`REDIS_URL`)."""
    url = tracking_settings().redis_url
    client = _sync.get(url)
    if client is None:
        client = _sync[url] = redis_client(url, **_options())
    return client


def tracking_aredis() -> Any:
    """The asyncio client of the running event loop (a client must not cross loops)."""
    loop = asyncio.get_running_loop()
    url = tracking_settings().redis_url
    held = _async.get(loop)
    if held is None or held[0] != url:
        held = _async[loop] = (url, redis_async_client(url, **_options()))
    return held[1]


async def tracking_aredis_close() -> None:
    """Close this loop's client (the edge calls it on ASGI lifespan shutdown)."""
    held = _async.pop(asyncio.get_running_loop(), None)
    if held is not None:
        await held[1].aclose()
