"""Django's Redis cache through Redis Sentinel (`REDIS_SENTINELS`, core.redis): writes go to the
current master, reads to a replica when `OPTIONS["replica_reads"]` is true (a cache may serve a
value a moment old), else to the master."""

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.sentinel import Sentinel, SentinelConnectionPool

from core.redis import _sentinel_kwargs, sentinel_hosts, url_options


class SentinelRedisCacheClient(RedisCacheClient):
    def __init__(self, servers: list[str], *, service: str, replica_reads: bool = False, **options: Any) -> None:
        super().__init__(servers, **options)

        self._service = service
        self._replica_reads = replica_reads
        self._sentinel = Sentinel(sentinel_hosts(), sentinel_kwargs=_sentinel_kwargs())
        connection = url_options(servers[0])
        self._master_pool = SentinelConnectionPool(service, self._sentinel, is_master=True, **connection)
        self._replica_pool = (
            SentinelConnectionPool(service, self._sentinel, is_master=False, **connection) if replica_reads else None
        )

    def _get_connection_pool(self, write: bool) -> Any:
        if write or self._replica_pool is None:
            return self._master_pool
        return self._replica_pool


class SentinelRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SentinelRedisCacheClient  # type: ignore[assignment]
