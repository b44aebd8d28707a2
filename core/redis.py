"""Redis clients for the whole platform, direct or through Redis Sentinel.

With `REDIS_SENTINELS` set (``host:port,host:port``), every client asks the sentinels for the
current master of `REDIS_SENTINEL_MASTER` and follows a failover by itself; the database number
and password still come from the `redis://` URL the caller passes (`REDIS_URL`). Without it, the
URL is used directly. The Django cache (`core.cache.SentinelRedisCache`) and Celery's broker
(`sentinel://` URLs, settings/base.py) read the same settings.
"""

from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from django.conf import settings
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.sentinel import Sentinel


def sentinel_hosts() -> list[tuple[str, int]]:
    """`REDIS_SENTINELS` as (host, port) pairs; empty when Sentinel is not configured."""
    return parse_sentinels(getattr(settings, "REDIS_SENTINELS", []) or [])


def parse_sentinels(values: list[str]) -> list[tuple[str, int]]:
    hosts = []
    for value in values:
        host, _sep, port = value.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"REDIS_SENTINELS entries are host:port, not {value!r}")
        hosts.append((host.strip("[]"), int(port)))
    return hosts


def url_options(url: str) -> dict[str, Any]:
    """Database number and password of a `redis://[:password@]host:port/db` URL."""
    parts = urlsplit(url)
    path = parts.path.strip("/")
    options: dict[str, Any] = {"db": int(path) if path.isdigit() else 0}
    if parts.password:
        options["password"] = unquote(parts.password)
    if parts.username:
        options["username"] = unquote(parts.username)
    return options


def redis_key_prefix() -> str:
    """The deployment's namespace in Redis (`CACHE_KEY_PREFIX`, "mgm" by default): every key
    the platform writes outside Django's cache starts with it and a colon, as the cache's own
    keys do, so two deployments can share one Redis database."""
    return str(settings.CACHES["default"].get("KEY_PREFIX") or "mgm")


def sentinel_kwargs() -> dict[str, Any]:
    password = getattr(settings, "REDIS_SENTINEL_PASSWORD", "")
    return {"password": password} if password else {}


def redis_client(url: str, **options: Any) -> Any:
    """A synchronous client for `url` (the master through Sentinel when configured)."""
    hosts = sentinel_hosts()
    if not hosts:
        return redis.Redis.from_url(url, **options)
    sentinel = Sentinel(hosts, sentinel_kwargs=sentinel_kwargs(), socket_timeout=options.get("socket_timeout"))
    return sentinel.master_for(settings.REDIS_SENTINEL_MASTER, **url_options(url), **options)


async def sentinel_master_address(*, timeout: float) -> tuple[str, int]:
    """The current master's address, asked of the sentinels (for connections that are not
    redis-py clients: the click edge's, tracking/edge_redis.py)."""
    sentinel = AsyncSentinel(sentinel_hosts(), sentinel_kwargs=sentinel_kwargs(), socket_timeout=timeout)
    try:
        host, port = await sentinel.discover_master(settings.REDIS_SENTINEL_MASTER)
    finally:
        for client in sentinel.sentinels:
            await client.aclose()
    return str(host), int(port)


# A fixed-window counter: INCRBY the window's key by ARGV[2] (1 for one request, more for a
# block of tokens), the first hit of a window sets its expiry, and answer (count, ms left).
# Used by the VTEX client's request budget and the hook's budgets.
WINDOW_COUNT_LUA = """
local current = redis.call('INCRBY', KEYS[1], ARGV[2])
if current == tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}
"""
