"""core.cache.RedisCache: Django's Redis cache with one client per connection pool (Django
builds a client per call), still correct from many threads."""

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.cache import RedisCache

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL")


def test_one_client_serves_every_call_and_every_thread() -> None:
    cache = RedisCache(os.environ["REDIS_URL"], {"KEY_PREFIX": "mgm-test-pooled"})
    client = cache._cache.get_client()
    assert cache._cache.get_client() is client
    assert cache._cache.get_client(write=True) is client  # one server: reads and writes share the pool

    def roundtrip(n: int) -> int:
        cache.set(f"k{n}", n, timeout=30)
        return int(cache.get(f"k{n}"))

    with ThreadPoolExecutor(max_workers=8) as threads:
        assert list(threads.map(roundtrip, range(200))) == list(range(200))
    assert cache.get_many([f"k{n}" for n in range(3)]) == {"k0": 0, "k1": 1, "k2": 2}
    cache.delete_many([f"k{n}" for n in range(200)])
