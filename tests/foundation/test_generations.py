"""core/generations.py: a value cached under scopes is computed once per generation; moving a
scope makes every value under it unreachable, including one a slow reader stores after the
move; a move inside a transaction happens again at its commit; a cache outage costs a read. On
Redis a cached value and its generations are one round trip."""

from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction

from core.generations import (
    CachedRead,
    cached_reads_prefetch,
    generation_cached,
    generations_move,
    generations_move_on_commit,
    reads_memo,
)
from tests.redis_commands import redis_commands_sent


class Builds:
    def __init__(self, *values: Any) -> None:
        self.values = list(values)
        self.calls = 0

    def __call__(self) -> Any:
        self.calls += 1
        return self.values[min(self.calls, len(self.values)) - 1]


def cached(build: Builds, *, scopes: list[str] | None = None, timeout: Any = 60) -> Any:
    return generation_cached(scopes=scopes or ["s1"], key="fact", build=build, timeout=timeout)


def test_a_value_is_built_once_until_its_scope_moves() -> None:
    build = Builds("old", "new")
    assert cached(build) == "old"
    assert cached(build) == "old"
    assert build.calls == 1

    generations_move(["s2"])  # another scope: nothing to do with it
    assert cached(build) == "old"

    generations_move(["s1"])
    assert cached(build) == "new"
    assert build.calls == 2


def test_a_reader_that_stores_after_the_move_stores_where_nobody_reads() -> None:
    # The slow reader read the generation, then its facts, and only stores after the writer
    # moved the scope: a plain delete would let it put the old value back for everyone.
    def slow_build() -> str:
        generations_move(["s1"])  # the writer commits and moves while this reader computes
        return "old"

    assert generation_cached(scopes=["s1"], key="fact", build=slow_build, timeout=60) == "old"
    fresh = Builds("new")
    assert cached(fresh) == "new"
    assert fresh.calls == 1


def test_falsy_values_are_cached_but_none_is_not() -> None:
    zero, nothing = Builds(0), Builds(None)
    for _ in range(2):
        assert generation_cached(scopes=["s1"], key="zero", build=zero, timeout=60) == 0
        assert generation_cached(scopes=["s1"], key="none", build=nothing, timeout=60) is None
    assert (zero.calls, nothing.calls) == (1, 2)


def test_a_timeout_computed_after_building_bounds_the_entry(monkeypatch: Any) -> None:
    stored: list[Any] = []
    original = cache.set
    monkeypatch.setattr(
        cache, "set", lambda key, value, timeout: stored.append(timeout) or original(key, value, timeout)
    )
    cached(Builds("v"), timeout=lambda moved: 7)
    cached(Builds("w"), scopes=["s3"], timeout=lambda moved: 0)  # true only until now: not stored
    assert stored == [7]


@pytest.mark.django_db(transaction=True)
def test_a_move_inside_a_transaction_happens_again_when_it_commits() -> None:
    build = Builds("before", "stale", "after")
    with transaction.atomic():
        generations_move_on_commit(["s1"])
        # A reader outside the transaction still sees the old facts and caches them under
        # the generation it read (after the first move)...
        assert cached(build) == "before"
        assert cached(build) == "before"
    # ...which the commit leaves behind.
    assert cached(build) == "stale"
    assert build.calls == 2


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_moves_nothing_at_its_end() -> None:
    build = Builds("v1", "v2", "v3")

    def change_then_fail() -> None:
        with transaction.atomic():
            generations_move_on_commit(["s1"])
            cached(build)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert cached(build) == "v1"  # no second move: the entry built after the first one stands


def test_a_cache_outage_costs_a_read_not_the_page(monkeypatch: Any) -> None:
    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("redis away")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "set_many", down)
    build = Builds("a", "b")
    assert cached(build) == "a"
    assert cached(build) == "b"
    generations_move(["s1"])  # logged, not raised


def test_within_a_request_a_value_is_read_once_and_a_move_forgets_what_was_read(monkeypatch: Any) -> None:
    reads: list[str] = []
    original = cache.get

    def get(key: str, *args: Any, **kwargs: Any) -> Any:
        if "gen:" not in str(key):  # the values' reads, not their generations'
            reads.append(key)
        return original(key, *args, **kwargs)

    monkeypatch.setattr(cache, "get", get)
    build = Builds("v1", "v2")
    cached(build)  # stored in the cache, outside any request
    with reads_memo():
        assert [cached(build) for _ in range(4)] == ["v1"] * 4
        assert len(reads) == 2  # the first one's, and this request's single read
        generations_move(["s1"])  # the request changed something
        assert cached(build) == "v2"
    assert build.calls == 2


@pytest.fixture
def redis_cache(settings: Any) -> Any:
    """The platform's Redis cache (core.cache.RedisCache) instead of the tests' local memory."""
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": "mgm-test-generations",
        }
    }
    cache.clear()
    yield cache
    cache.clear()


@pytest.mark.redis
def test_on_redis_a_cached_value_is_one_round_trip_and_moves_like_anywhere(redis_cache: Any, monkeypatch: Any) -> None:
    build = Builds({"pending": 0}, {"pending": 2})
    scopes = ["b1:policies", "i7:consent"]
    assert generation_cached(scopes=scopes, key="facts", build=build, timeout=60) == {"pending": 0}
    sent = redis_commands_sent(monkeypatch)
    assert generation_cached(scopes=scopes, key="facts", build=build, timeout=60) == {"pending": 0}
    assert (sent, build.calls) == (["EVALSHA"], 1)  # both generations and the value: one call

    generations_move(["i7:consent"])
    assert generation_cached(scopes=scopes, key="facts", build=build, timeout=60) == {"pending": 2}
    assert build.calls == 2
    # Falsy values are values (0 is stored as a plain integer by Django's serializer).
    zero = Builds(0)
    assert [generation_cached(scopes=scopes, key="zero", build=zero, timeout=60) for _ in range(2)] == [0, 0]
    assert zero.calls == 1


@pytest.mark.redis
def test_on_redis_a_lost_generation_restarts_and_the_value_is_built_again(redis_cache: Any) -> None:
    build = Builds("old", "new")
    assert cached(build) == "old"
    redis_cache.delete("panels:gen:s1")  # evicted, or Redis restarted without it
    assert cached(build) == "new"
    assert cached(build) == "new"
    assert build.calls == 2


@pytest.mark.redis
def test_on_redis_with_another_key_function_values_are_read_in_two_round_trips(
    settings: Any, redis_cache: Any, monkeypatch: Any
) -> None:
    # The script builds the value's key as Django's default key function does; any other
    # function gets the plain reads, and the same answers.
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "KEY_FUNCTION": _reversed_key}}
    build = Builds("v1", "v2")
    assert cached(build) == "v1"
    sent = redis_commands_sent(monkeypatch)
    assert cached(build) == "v1"
    assert sent == ["MGET", "GET"]
    generations_move(["s1"])
    assert cached(build) == "v2"


def _reversed_key(key: str, key_prefix: str, version: int) -> str:
    return f"{version}:{key_prefix}:{key}"


@pytest.mark.redis
def test_on_redis_a_page_prefetches_several_facts_in_one_round_trip(redis_cache: Any, monkeypatch: Any) -> None:
    totp, unread, panel = Builds(False), Builds(3), Builds({"clicks": 9})
    generation_cached(scopes=["u1:otp"], key="otp", build=totp, timeout=60)
    generation_cached(scopes=["b1:i1:unread"], key="unread", build=unread, timeout=60)
    generations_move(["b1:i1:unread"])  # the count's cached value is now of an older generation
    reads = [
        CachedRead(scopes=("u1:otp",), key="otp"),
        CachedRead(scopes=("b1:i1:unread",), key="unread"),
        CachedRead(scopes=("b1:i1", "b1"), key="panel"),  # never cached
    ]
    sent = redis_commands_sent(monkeypatch)
    with reads_memo():
        cached_reads_prefetch(reads)
        assert sent == ["EVALSHA"]
        assert generation_cached(scopes=["u1:otp"], key="otp", build=totp, timeout=60) is False
        assert sent == ["EVALSHA"]  # from memory
        # What was not there under the current generations is built by its reader, as always.
        assert generation_cached(scopes=["b1:i1:unread"], key="unread", build=unread, timeout=60) == 3
        assert generation_cached(scopes=["b1:i1", "b1"], key="panel", build=panel, timeout=60) == {"clicks": 9}
    assert (totp.calls, unread.calls, panel.calls) == (1, 2, 1)


def test_prefetching_outside_a_request_or_with_the_cache_away_changes_nothing(monkeypatch: Any) -> None:
    build = Builds("v1")
    cached(build)
    cached_reads_prefetch([CachedRead(scopes=("s1",), key="fact")])  # no request: nothing kept
    with reads_memo():
        monkeypatch.setattr("core.generations._versioned_reads", _redis_away)
        cached_reads_prefetch([CachedRead(scopes=("s1",), key="fact")])  # logged, not raised
        monkeypatch.undo()
        assert cached(build) == "v1"
    assert build.calls == 1


def _redis_away(reads: Any) -> Any:
    raise ConnectionError("redis away")
