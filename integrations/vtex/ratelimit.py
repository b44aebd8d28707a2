"""Our own per-account request budget for VTEX, shared by every worker.

VTEX limits "per IP, per account, per route" without publishing most numbers (Get order: 6000
requests per minute per account). We stay under a configured budget per account so a burst from
one brand (a reconciliation, a mass code sync) slows itself down instead of collecting 429s that
would also hurt the brand's other integrations.

Algorithm: a fixed window that starts with the first request. `INCR` a counter per account; the
first increment sets the window's expiry; while the counter is over the budget, wait for the
window to expire. With Redis (settings.REDIS_URL) the counter is shared by every process; without
it (demo, tests) it is per process. If Redis cannot be reached we fall back to the local counter
rather than stopping every VTEX call: the limit is a courtesy, VTEX's 429 is the real guard.
"""

import logging
import threading
import time
from collections.abc import Callable
from functools import cache
from typing import Any, Protocol

import redis
from django.conf import settings

from core.redis import WINDOW_COUNT_LUA, redis_key_prefix

logger = logging.getLogger(__name__)


class RateLimiter(Protocol):
    def acquire(self, account: str) -> float:
        """Block until a request for `account` fits the budget; return the seconds waited."""
        ...


class LocalRateLimiter:
    """Per-process fixed window: fine for the demo and for tests, not shared between workers."""

    def __init__(
        self,
        *,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # account -> (window end, count)

    def acquire(self, account: str) -> float:
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                end, count = self._windows.get(account, (0.0, 0))
                if now >= end:
                    end, count = now + self.window, 0
                if count < self.limit:
                    self._windows[account] = (end, count + 1)
                    return waited
                pause = end - now
            self._sleep(pause)
            waited += pause


class RedisRateLimiter:
    """Fixed window in Redis, shared by every worker that uses the same REDIS_URL."""

    def __init__(
        self,
        *,
        url: str,
        limit: int,
        window: float,
        key_prefix: str = "mgm:vtex:ratelimit:",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:

        self.limit = limit
        self.key_prefix = key_prefix
        self.window_ms = max(1, int(window * 1000))
        self._sleep = sleep
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self._script = self._redis.register_script(WINDOW_COUNT_LUA)
        self._fallback = LocalRateLimiter(limit=limit, window=window, sleep=sleep)

    def key(self, account: str) -> str:
        return f"{self.key_prefix}{account}"

    def acquire(self, account: str) -> float:
        waited = 0.0
        while True:
            try:
                count, ttl_ms = self._script(keys=[self.key(account)], args=[self.window_ms, 1])
            except redis.RedisError as exc:
                logger.warning("VTEX rate limiter: Redis unavailable (%s); using the per-process limit", exc)
                return waited + self._fallback.acquire(account)
            if int(count) <= self.limit:
                return waited
            pause = max(int(ttl_ms), 1) / 1000
            self._sleep(pause)
            waited += pause


@cache
def _limiter(url: str, prefix: str, limit: int, window: float) -> RateLimiter:
    if url:
        return RedisRateLimiter(url=url, limit=limit, window=window, key_prefix=f"{prefix}:vtex:ratelimit:")
    return LocalRateLimiter(limit=limit, window=window)


def rate_limiter() -> RateLimiter:
    """The limiter for the current settings (one instance per configuration and process)."""
    return _limiter(
        settings.REDIS_URL,
        redis_key_prefix(),
        int(settings.VTEX_RATE_LIMIT_REQUESTS),
        float(settings.VTEX_RATE_LIMIT_WINDOW_SECONDS),
    )


class UnlimitedRateLimiter:
    """No budget of ours (a budget of 0): VTEX's own 429 is the only limit."""

    def acquire(self, account: str) -> float:
        return 0.0


@cache
def _order_read_limiter(url: str, prefix: str, per_minute: int) -> RateLimiter:
    if per_minute <= 0:
        return UnlimitedRateLimiter()
    # A one-second window of per_minute / 60 reads: a budget of 6,000 a minute is spread as
    # 100 a second instead of allowing a 6,000-read burst and then a minute of silence.
    per_second = max(1, -(-per_minute // 60))
    if url:
        return RedisRateLimiter(url=url, limit=per_second, window=1.0, key_prefix=f"{prefix}:vtex:order_reads:")
    return LocalRateLimiter(limit=per_second, window=1.0)


def order_read_budget(*, brand_slug: str) -> int:
    """The brand's VTEX order reads per minute: VTEX_ORDER_READS_PER_MINUTE_BY_BRAND[slug], else
    VTEX_ORDER_READS_PER_MINUTE (VTEX's documented ~6,000 Get order per minute and account)."""
    per_brand = settings.VTEX_ORDER_READS_PER_MINUTE_BY_BRAND
    return int(per_brand.get(brand_slug, settings.VTEX_ORDER_READS_PER_MINUTE))


def order_read_limiter(*, brand: "Any") -> RateLimiter:
    """The shared (Redis, keys under the cache prefix) budget of a brand's VTEX order reads."""
    return _order_read_limiter(
        settings.REDIS_URL,
        redis_key_prefix(),
        order_read_budget(brand_slug=brand.slug),
    )
