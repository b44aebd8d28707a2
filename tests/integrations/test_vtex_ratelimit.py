import threading
import time
import uuid

import pytest
from django.conf import settings

from integrations.vtex.ratelimit import LocalRateLimiter, RedisRateLimiter


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_local_limiter_waits_for_the_next_window_when_the_budget_is_spent():
    clock = FakeClock()
    limiter = LocalRateLimiter(limit=3, window=1.0, clock=clock, sleep=clock.sleep)
    waits = [limiter.acquire("acme") for _ in range(7)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3] == pytest.approx(1.0)
    assert clock.slept == [pytest.approx(1.0), pytest.approx(1.0)]


def test_local_limiter_budgets_accounts_separately():
    clock = FakeClock()
    limiter = LocalRateLimiter(limit=1, window=1.0, clock=clock, sleep=clock.sleep)
    assert limiter.acquire("acme") == 0
    assert limiter.acquire("globex") == 0
    assert clock.slept == []


def test_local_limiter_is_thread_safe():
    limiter = LocalRateLimiter(limit=5, window=0.2)
    started = time.monotonic()
    threads = [threading.Thread(target=limiter.acquire, args=("acme",)) for _ in range(15)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started >= 0.39  # 15 requests at 5 per 0.2 s need three windows


@pytest.mark.redis
def test_redis_limiter_is_shared_by_workers():
    """Two limiters (two worker processes) on one Redis share one budget per account."""
    account = f"acme-{uuid.uuid4().hex[:8]}"
    first = RedisRateLimiter(url=settings.REDIS_URL or "redis://127.0.0.1:6379/4", limit=2, window=0.5)
    second = RedisRateLimiter(url=settings.REDIS_URL or "redis://127.0.0.1:6379/4", limit=2, window=0.5)
    started = time.monotonic()
    waits = [first.acquire(account), second.acquire(account), first.acquire(account), second.acquire(account)]
    elapsed = time.monotonic() - started
    assert waits[:2] == [0, 0]
    assert waits[2] > 0
    assert elapsed >= 0.45
    first._redis.delete(first.key(account))


def test_redis_limiter_falls_back_to_the_local_budget_when_redis_is_down():
    limiter = RedisRateLimiter(url="redis://127.0.0.1:9/0", limit=2, window=0.5)
    assert limiter.acquire("acme") == 0
