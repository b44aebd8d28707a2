"""Values cached until their facts move, by generation.

What is cached lives under one or more *scopes* (one person's authenticators, one influencer's
rollups with a brand, ...). Each scope has a generation: the time (nanoseconds) it last moved.
A value is stored under its key *and* the generations of its scopes, so moving a scope makes
every value cached under it unreachable at once: no key is deleted or pattern-matched, and a
reader that computed a value from the old facts while the scope moved stores it under the old
generation, where nobody reads it again (a plain delete would let that reader put the stale
value back). A missing generation (evicted, Redis flushed) restarts at the current time, never
at a number an older entry could carry.

On Redis a value and its scopes' generations are read in one round trip (a Lua script), and a
page can read several values at once into its request's memo (`cached_reads_prefetch`).

A cache that fails (Redis away) only costs the read: the value is computed from the database.
core/panel_cache.py builds the dashboards' panels on this; accounts, affiliates and
notifications cache the facts every portal page asks (an authenticator, the policies in force,
unread notifications).
"""

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.base import default_key_func
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

logger = logging.getLogger(__name__)

_GEN = "panels:gen:"  # the prefix panel generations always had: deploying this keeps their entries

# Values already read in this request (core.request_context opens one per request): the portal's
# dashboard asks its rollup panel for four figures, one read serves them all. Any move clears it.
_request_reads: ContextVar[dict[str, Any] | None] = ContextVar("mgm_generation_reads", default=None)


@contextmanager
def reads_memo() -> Iterator[None]:
    """Within this block a cached value is read from the cache once, then from memory."""
    token = _request_reads.set({})
    try:
        yield
    finally:
        _request_reads.reset(token)


def memo_get(key: str) -> Any:
    reads = _request_reads.get()
    return None if reads is None else reads.get(key)


def memo_put(key: str, value: Any) -> None:
    reads = _request_reads.get()
    if reads is not None:
        reads[key] = value


def generations(scopes: list[str]) -> list[int]:
    """The current generation of each scope (raises if the cache is unreachable)."""
    keys = [_GEN + scope for scope in scopes]
    found = cache.get_many(keys)
    out = []
    for key in keys:
        value = found.get(key)
        if value is None:
            fresh = time.time_ns()
            # add(): two readers that both found nothing agree on the first one's value.
            cache.add(key, fresh, timeout=None)
            value = cache.get(key, fresh)
        out.append(int(value))
    return out


def versioned_key(key: str, generations_: list[int]) -> str:
    return f"{key}:" + ".".join(map(str, generations_))


@dataclass(frozen=True)
class CachedRead:
    """Where a cached fact lives (what `generation_cached` is given besides how to build it),
    so a page can ask several facts in one round trip (`cached_reads_prefetch`)."""

    scopes: tuple[str, ...]
    key: str


# Each read's scopes' generations and the value stored under them, in one round trip for any
# number of reads (a portal page asks three or four cached facts, each under its own scopes,
# which took two round trips each). KEYS: every read's generation keys, in order; ARGV: per
# read, its number of scopes and its value's key up to the generations. Redis runs the script
# atomically. A value's key is built in the script from the generations it read, as
# `versioned_key` builds it: fine on one server or under Sentinel, not on Redis Cluster (a key
# not passed in KEYS), which the platform does not use. A read with a missing generation gets
# no value: its reader restarts the generation through `generations()`.
_VERSIONED_READS = """
local out = {}
local k = 1
for i = 1, #ARGV, 2 do
  local n = tonumber(ARGV[i])
  local found = redis.call('MGET', unpack(KEYS, k, k + n - 1))
  k = k + n
  local value = false
  local complete = true
  for j = 1, n do
    if not found[j] then complete = false end
  end
  if complete then value = redis.call('GET', ARGV[i + 1] .. table.concat(found, '.')) end
  out[#out + 1] = {found, value}
end
return out
"""
_scripts: dict[int, Any] = {}


def _versioned_reads(reads: Sequence[CachedRead]) -> list[tuple[list[int], Any] | None] | None:
    """Per read, (generations, value or None), all in one round trip; a read with a missing
    generation gets None. None for all when the cache is not Redis behind Django's default key
    function (the caller then reads as any cache allows)."""
    backend = caches["default"]  # the backend itself; `cache` is a proxy to it
    if not isinstance(backend, RedisCache) or backend.key_func is not default_key_func:
        return None
    client = backend._cache.get_client()
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts.setdefault(id(client), client.register_script(_VERSIONED_READS))
    keys: list[str] = []
    args: list[Any] = []
    for read in reads:
        keys += [backend.make_key(_GEN + scope) for scope in read.scopes]
        # With the default key function, make_key(f"{key}:") + "1.2" == make_key(f"{key}:1.2").
        args += [len(read.scopes), backend.make_key(f"{read.key}:")]
    serializer = backend._cache._serializer  # type: ignore[attr-defined]  # what the backend's own get() decodes with
    out: list[tuple[list[int], Any] | None] = []
    for raw_generations, raw_value in script(keys=keys, args=args, client=client):
        if any(raw is None for raw in raw_generations):
            out.append(None)
        else:
            value = None if raw_value is None else serializer.loads(raw_value)
            out.append(([int(raw) for raw in raw_generations], value))
    return out


def cached_reads_prefetch(reads: Sequence[CachedRead]) -> None:
    """Read these cached facts in one round trip into this request's memo (`reads_memo`): each
    `generation_cached` that asks one of them afterwards answers from memory. What is not
    cached (or not under the current generations) is left to its reader, which builds it.
    Outside a request, on a cache other than Redis, or when Redis is away: nothing."""
    if _request_reads.get() is None or not reads:
        return
    try:
        found = _versioned_reads(reads)
    except Exception:  # the readers will try again, and compute if the cache is really away
        logger.warning("cache unavailable; not prefetching %s", [read.key for read in reads], exc_info=True)
        return
    for read, hit in zip(reads, found or [], strict=False):
        if hit is not None and hit[1] is not None:
            memo_put(read.key, hit[1])


def generation_cached[T](
    *, scopes: list[str], key: str, build: Callable[[], T], timeout: int | Callable[[list[int]], int]
) -> T:
    """`build()`'s value, computed once per generation of `scopes` and kept at most `timeout`
    seconds: a safety net, or a function called after `build()` with the generations the value
    was built under, for how long it stays true (until a scheduled change; a short while when
    it was read from a lagging replica). The value must be picklable plain data. `None` is
    never cached."""
    value = memo_get(key)
    if value is not None:
        return value  # type: ignore[no-any-return]
    try:
        found = _versioned_reads([CachedRead(scopes=tuple(scopes), key=key)]) if scopes else None
        read = found[0] if found else None
        if read is None:
            moved = generations(scopes)
            value = cache.get(versioned_key(key, moved))
        else:
            moved, value = read
        versioned = versioned_key(key, moved)
    except Exception:  # a cache outage must not take the page down with it
        logger.warning("cache unavailable; computing %s", key, exc_info=True)
        return build()
    if value is not None:
        memo_put(key, value)
        return value  # type: ignore[no-any-return]
    value = build()
    memo_put(key, value)
    seconds = timeout(moved) if callable(timeout) else timeout
    if value is not None and seconds > 0:
        try:
            cache.set(versioned, value, timeout=seconds)
        except Exception:
            logger.warning("could not cache %s", key, exc_info=True)
    return value


def generations_move(scopes: Iterable[str]) -> None:
    """Move these scopes to a new generation (now): every value cached under them is recomputed."""
    scopes = list(scopes)
    reads = _request_reads.get()
    if reads:
        reads.clear()  # this request changed something: what it read before may be stale
    now = time.time_ns()
    try:
        cache.set_many({_GEN + scope: now for scope in scopes}, timeout=None)
    except Exception:
        # The entries of the old generation stay readable until their timeout.
        logger.warning("could not move cache scopes %s", scopes, exc_info=True)


def generations_move_on_commit(scopes: Iterable[str]) -> None:
    """Move the scopes of facts a transaction is changing: now, and again once it commits (at
    once outside one). A reader in between still sees the old facts in the database and caches
    them under the generation it read, which the move at commit leaves behind. Moving now as
    well costs nothing and keeps a reader in this same transaction (a test, a service that
    reads back what it wrote) from getting the value cached before the change."""
    scopes = list(scopes)
    generations_move(scopes)
    transaction.on_commit(lambda: generations_move(scopes))
