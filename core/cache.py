"""Django's Redis cache, one client per connection pool, and through Redis Sentinel
(`REDIS_SENTINELS`, core.redis): writes go to the current master, reads to a replica when
`OPTIONS["replica_reads"]` is true (a cache may serve a value a moment old), else to the master."""

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.sentinel import Sentinel, SentinelConnectionPool

from core.redis import sentinel_hosts, sentinel_kwargs, url_options


class PooledRedisCacheClient(RedisCacheClient):
    """Django builds a new `redis.Redis` for every cache call, and building one fills its table
    of ~170 response callbacks: about a tenth of a millisecond of CPU per call, several calls per
    portal page. A client is thread-safe (each command borrows a connection from the pool), so
    one per pool is kept and reused."""

    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            # Two threads racing here build two clients on the same pool: harmless.
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = PooledRedisCacheClient  # type: ignore[assignment]


class SentinelRedisCacheClient(PooledRedisCacheClient):
    def __init__(self, servers: list[str], *, service: str, replica_reads: bool = False, **options: Any) -> None:
        super().__init__(servers, **options)

        self._service = service
        self._replica_reads = replica_reads
        self._sentinel = Sentinel(sentinel_hosts(), sentinel_kwargs=sentinel_kwargs())
        connection = url_options(servers[0])
        self._master_pool = SentinelConnectionPool(service, self._sentinel, is_master=True, **connection)
        self._replica_pool = (
            SentinelConnectionPool(service, self._sentinel, is_master=False, **connection) if replica_reads else None
        )

    def _get_connection_pool(self, write: bool) -> Any:
        if write or self._replica_pool is None:
            return self._master_pool
        return self._replica_pool


class SentinelRedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SentinelRedisCacheClient  # type: ignore[assignment]
