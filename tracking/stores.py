"""The tracking context's Redis clients (`TRACKING_*` settings, `REDIS_URL`, Sentinel through
`core.redis`): one synchronous redis-py client per process for Django's side (views, services,
the drain) and one pipelined connection per event loop for the ASGI edge (`config.click_edge`,
tracking/edge_redis.py). Short timeouts: a click must fall back to the spool in well under a
second when Redis is away."""

import asyncio
import weakref
from typing import Any

from core.redis import redis_client
from tracking.conf import tracking_settings
from tracking.edge_redis import EdgeRedis

_sync: dict[str, Any] = {}
_async: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[str, EdgeRedis]]" = weakref.WeakKeyDictionary()


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


def tracking_aredis() -> EdgeRedis:
    """The edge's connection for the running event loop (a connection must not cross loops)."""
    loop = asyncio.get_running_loop()
    conf = tracking_settings()
    held = _async.get(loop)
    if held is None or held[0] != conf.redis_url:
        held = _async[loop] = (conf.redis_url, EdgeRedis(conf.redis_url, timeout=conf.redis_timeout))
    return held[1]


async def tracking_aredis_close() -> None:
    """Close this loop's client (the edge calls it on ASGI lifespan shutdown)."""
    held = _async.pop(asyncio.get_running_loop(), None)
    if held is not None:
        await held[1].aclose()
