"""What the VTEX hook accepts: a 64 KB body limit (413, nothing stored), a budget of refused
requests per brand (a wrong-token flood gets 429 + Retry-After, the right token still gets in),
a budget of notifications per brand, and one drain per burst instead of one Celery message per
notification."""

import json
import threading
import time
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client

from orders import hook_limits
from orders.drain import DrainKick, hook_drain_request
from orders.models import HookEvent
from tests.orders.conftest import hook_payload

URL = "/api/v1/webhooks/vtex/acme/orders/"


@pytest.fixture
def limits(settings: Any) -> Any:
    """The budgets on, over an empty set of counters (Redis keys under the cache prefix)."""
    if not django_settings.REDIS_URL:
        pytest.skip("the hook budgets are counted in Redis")

    client = redis.Redis.from_url(django_settings.REDIS_URL)
    for key in client.scan_iter(match="*:hook:*"):
        client.delete(key)
    hook_limits._leases.clear()  # this process's blocks of tokens go with the counters
    settings.VTEX_HOOK_REFUSALS_PER_MINUTE = 5
    settings.VTEX_HOOK_REQUESTS_PER_SECOND = 1000
    yield settings
    for key in client.scan_iter(match="*:hook:*"):
        client.delete(key)
    hook_limits._leases.clear()


def _post(body: Any, token: str | None, *, change: str = "2024-02-04T20:15:12.7010747Z") -> Any:
    headers = {"HTTP_X_HOOK_TOKEN": token} if token else {}
    data = body if isinstance(body, bytes) else json.dumps(body)
    return Client().post(URL, data=data, content_type="application/json", **headers)


@pytest.mark.django_db
def test_a_3_mb_body_gets_413_and_nothing_is_stored(brand_a: Any) -> None:
    padded = hook_payload()
    padded["Padding"] = "x" * (3 * 1024 * 1024)
    response = _post(padded, brand_a.hook_token)
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert not HookEvent.objects.exists()


@pytest.mark.django_db
def test_the_limit_is_64_kb_exactly(brand_a: Any) -> None:
    body = json.dumps(hook_payload()).encode()
    fits = body[:-1] + b"," + b'"Pad":"' + b"x" * (64 * 1024 - len(body) - 9) + b'"}'
    assert len(fits) == 64 * 1024
    assert _post(fits, brand_a.hook_token).status_code == 200
    over = hook_payload(change="2024-02-04T20:16:00Z")
    over["Pad"] = "x" * (64 * 1024)
    assert _post(over, brand_a.hook_token).status_code == 413
    assert HookEvent.objects.count() == 1


@pytest.mark.django_db
def test_a_wrong_token_flood_gets_429_with_retry_after_and_the_right_token_still_gets_in(
    brand_a: Any, limits: Any
) -> None:
    answers = [_post(hook_payload(), f"guess-{n}").status_code for n in range(12)]
    assert answers[:5] == [401] * 5
    assert set(answers[5:]) == {429}
    throttled = _post(hook_payload(), "one-more-guess")
    assert throttled.status_code == 429
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert throttled.json()["code"] == "refusals_throttled"
    assert not HookEvent.objects.exists()
    # VTEX, with the brand's token, is not locked out by someone else's guesses.
    assert _post(hook_payload(), brand_a.hook_token).status_code == 200
    assert HookEvent.objects.count() == 1


@pytest.mark.django_db
def test_unknown_brand_floods_are_throttled_per_address(brand_a: Any, limits: Any) -> None:
    client = Client(REMOTE_ADDR="203.0.113.9")
    other = "/api/v1/webhooks/vtex/no-such-brand/orders/"
    answers = [
        client.post(other, data=json.dumps(hook_payload()), content_type="application/json").status_code
        for _ in range(7)
    ]
    assert answers[:5] == [404] * 5
    assert set(answers[5:]) == {429}


@pytest.mark.django_db
def test_notifications_past_the_brands_budget_get_429_and_are_not_stored(brand_a: Any, limits: Any) -> None:
    limits.VTEX_HOOK_REQUESTS_PER_SECOND = 2
    answers = [_post(hook_payload(change=f"2024-02-04T20:15:{n:02d}Z"), brand_a.hook_token) for n in range(6)]
    codes = [response.status_code for response in answers]
    assert codes[:2] == [200, 200]
    assert 429 in codes
    assert all(r["Retry-After"] == "1" for r in answers if r.status_code == 429)
    # Only what was answered 200 is stored; VTEX retries the rest (VTEX_API_NOTES §1.4).
    assert HookEvent.objects.count() == codes.count(200)


def test_processes_take_the_budget_in_blocks_and_together_never_exceed_it(limits: Any, monkeypatch: Any) -> None:
    """The accepted-notification budget is counted from blocks of tokens (one Redis round trip
    per block): two processes sharing a window pass at most the budget between them, and once
    it is spent a process answers 429 without asking Redis again."""

    # hook_request_allow's counting, over a 30 s window so a slow machine stays in one window.
    def allow() -> Any:
        return hook_limits._hit_leased("hook:accepted:acme", limit=100, window_seconds=30)  # blocks of 5

    calls: list[int] = []
    real = hook_limits._take_script

    def counting(url: str) -> Any:
        script = real(url)

        def call(**kwargs: Any) -> Any:
            calls.append(1)
            return script(**kwargs)

        return call

    monkeypatch.setattr(hook_limits, "_take_script", counting)
    other_process: dict[str, Any] = {}
    passed = 0
    for n in range(300):
        # Alternate between this process's leases and another process's.
        hook_limits._leases, other_process = other_process, hook_limits._leases
        passed += allow().allowed
        if n == 59:
            assert passed == 60  # within the budget every request passes
            assert len(calls) == 12  # one round trip per block of 5
    assert passed == 100
    refused = allow()
    assert refused.allowed is False
    assert 1 <= refused.retry_after <= 30
    before = len(calls)
    for _ in range(50):
        assert not allow().allowed
    assert len(calls) == before  # the spent window is known locally: no Redis round trip


@pytest.mark.django_db
def test_without_redis_the_hook_keeps_accepting(brand_a: Any, settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.VTEX_HOOK_REFUSALS_PER_MINUTE = 1
    settings.VTEX_HOOK_REQUESTS_PER_SECOND = 1
    assert [_post(hook_payload(), "wrong").status_code for _ in range(3)] == [401, 401, 401]
    assert _post(hook_payload(), brand_a.hook_token).status_code == 200
    assert _post(hook_payload(change="2024-02-04T20:16:00Z"), brand_a.hook_token).status_code == 200


@pytest.mark.django_db
def test_a_stored_notification_asks_for_one_drain_after_commit(
    brand_a: Any, django_capture_on_commit_callbacks: Any
) -> None:

    with django_capture_on_commit_callbacks() as callbacks:
        assert _post(hook_payload(), brand_a.hook_token).status_code == 200
    assert callbacks == [hook_drain_request]
    with django_capture_on_commit_callbacks() as callbacks:
        assert _post(hook_payload(), brand_a.hook_token).json()["duplicate"] is True
    assert callbacks == []


def test_a_burst_of_requests_publishes_once_at_once_and_once_after_the_window() -> None:
    stamps: list[float] = []
    kick = DrainKick(lambda: stamps.append(time.monotonic()), window=0.3)
    threads = [threading.Thread(target=kick.request) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    last_request = time.monotonic()
    assert len(stamps) == 1  # the first request of a quiet period publishes at once
    time.sleep(0.6)
    # One trailing publish for the 49 others, after every one of them was made.
    assert len(stamps) == 2
    assert stamps[1] >= last_request
    assert stamps[1] - stamps[0] >= 0.29


def test_a_request_after_a_quiet_window_publishes_at_once_and_a_zero_window_always_does() -> None:
    stamps: list[float] = []
    kick = DrainKick(lambda: stamps.append(time.monotonic()), window=0.05)
    kick.request()
    time.sleep(0.1)
    kick.request()
    assert len(stamps) == 2
    eager = DrainKick(lambda: stamps.append(0.0), window=0)
    for _ in range(3):
        eager.request()
    assert len(stamps) == 5


def test_a_failing_publish_is_logged_not_raised(caplog: Any) -> None:
    def broken() -> None:
        raise ConnectionError("broker down")

    DrainKick(broken, window=0).request()
    assert "could not queue the hook drain" in caplog.text


@pytest.mark.django_db
def test_the_hook_runs_no_connection_health_query(brand_a: Any, monkeypatch: Any) -> None:
    """With CONN_HEALTH_CHECKS a reused connection is probed (`is_usable`, a SELECT 1) before
    the request's first query; the hook skips it (decision 0042)."""

    connection = connections["default"]  # the wrapper itself, not the thread-local proxy
    probes: list[bool] = []
    monkeypatch.setattr(connection, "is_usable", lambda: probes.append(True) or True)
    monkeypatch.setattr(connection, "health_check_enabled", True)
    monkeypatch.setattr(connection, "health_check_done", False)
    assert _post(hook_payload(), brand_a.hook_token).status_code == 200
    assert HookEvent.objects.count() == 1
    assert probes == []
    # The same connection state on an ordinary view is probed: the test would see a regression.
    monkeypatch.setattr(connection, "health_check_done", False)
    Client().get("/healthz")
    assert probes == [True]
