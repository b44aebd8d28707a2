"""How much the VTEX hook accepts: a body size limit, and request budgets per brand.

- **Body**: a notification is a few hundred bytes (VTEX_API_NOTES §1.3); anything over
  `VTEX_HOOK_MAX_BODY_BYTES` (64 KB) is refused with 413 before it is parsed or stored.
- **Refused requests** (wrong or missing token, unknown brand): `VTEX_HOOK_REFUSALS_PER_MINUTE`
  per brand (per client address for an unknown brand). Past it, refused requests get 429 with
  `Retry-After` instead of 401/404, so a flood of guesses costs one Redis round trip each and
  tells the sender to stop. The token is checked first: a request with the right token never
  counts here, so a flood of wrong tokens cannot lock VTEX out.
- **Accepted requests**: `VTEX_HOOK_REQUESTS_PER_SECOND` per brand, generous (VTEX delivers one
  POST per status change). Past it, 429 with `Retry-After: 1`: VTEX retries a delivery that did
  not get 200 (§1.4) and the nightly reconciliation heals anything it gave up on, so a valid
  notification is delayed, never lost. This budget is counted on the hook's hot path, so a
  process takes its tokens from Redis in blocks (`_Lease`: one round trip per block instead of
  one per request, and none while the budget of the window is known to be spent). Tokens a
  process took and did not use lapse with their window: the budget is never exceeded, and is
  at most one block per process short of it.

Counters are fixed windows in Redis (REDIS_URL, keys under the cache prefix), shared by every
web process. If Redis cannot be reached the limits are not applied (logged): the hook must keep
storing notifications, the limit is protection, not correctness.
"""

import logging
import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import redis
from django.conf import settings

from core.redis import WINDOW_COUNT_LUA, redis_client, redis_key_prefix

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds, at least 1 when refused


@cache
def _take_script(url: str) -> Any:
    client = redis_client(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    return client.register_script(WINDOW_COUNT_LUA)


def _hit(key: str, *, limit: int, window_seconds: float) -> Verdict:
    if limit <= 0 or not settings.REDIS_URL:
        return Verdict(allowed=True)

    window_ms = max(1, int(window_seconds * 1000))
    try:
        count, ttl_ms = _take_script(settings.REDIS_URL)(keys=[f"{redis_key_prefix()}:{key}"], args=[window_ms, 1])
    except redis.RedisError as exc:
        logger.warning("VTEX hook limits: Redis unavailable (%s); not limiting", exc)
        return Verdict(allowed=True)
    if int(count) <= limit:
        return Verdict(allowed=True)
    return Verdict(allowed=False, retry_after=max(1, -(-int(ttl_ms) // 1000)))


@dataclass
class _Lease:
    """Tokens of one window this process took and has not used yet."""

    remaining: int
    until: float  # time.monotonic() when the window ends
    retry_after: int


_leases: dict[str, _Lease] = {}
_leases_lock = threading.Lock()


def _block_size(limit: int) -> int:
    """Small against the budget (a twentieth, at most 25), so processes share it fairly."""
    return max(1, min(25, limit // 20))


def _hit_leased(key: str, *, limit: int, window_seconds: float) -> Verdict:
    """`_hit` for the hot path: count from a block of tokens taken from the shared window."""
    if limit <= 0 or not settings.REDIS_URL:
        return Verdict(allowed=True)
    now = time.monotonic()
    slot = f"{settings.REDIS_URL}|{key}"  # leases are of one Redis's windows
    with _leases_lock:
        lease = _leases.get(slot)
        if lease is not None and now < lease.until:
            if lease.remaining > 0:
                lease.remaining -= 1
                return Verdict(allowed=True)
            if lease.retry_after:  # the window's budget is spent: no need to ask Redis again
                return Verdict(allowed=False, retry_after=lease.retry_after)
    block = _block_size(limit)
    window_ms = max(1, int(window_seconds * 1000))
    try:
        count, ttl_ms = _take_script(settings.REDIS_URL)(keys=[f"{redis_key_prefix()}:{key}"], args=[window_ms, block])
    except redis.RedisError as exc:
        logger.warning("VTEX hook limits: Redis unavailable (%s); not limiting", exc)
        return Verdict(allowed=True)
    granted = max(0, min(block, limit - (int(count) - block)))
    until = time.monotonic() + int(ttl_ms) / 1000
    retry_after = max(1, -(-int(ttl_ms) // 1000))
    with _leases_lock:
        if granted:
            # One token for this request; a concurrent lease of this process is replaced (its
            # tokens lapse: fewer requests pass, never more).
            _leases[slot] = _Lease(
                remaining=granted - 1, until=until, retry_after=0 if granted == block else retry_after
            )
            return Verdict(allowed=True)
        _leases[slot] = _Lease(remaining=0, until=until, retry_after=retry_after)
    return Verdict(allowed=False, retry_after=retry_after)


def hook_request_allow(*, brand_slug: str) -> Verdict:
    """Count one accepted (authenticated) notification of the brand in this second."""
    return _hit_leased(
        f"hook:accepted:{brand_slug}",
        limit=int(settings.VTEX_HOOK_REQUESTS_PER_SECOND),
        window_seconds=1.0,
    )


def hook_refusal_allow(*, brand_slug: str | None, client: str) -> Verdict:
    """Count one refused request (bad token for `brand_slug`, or no such brand from `client`).
    Refused (429) once the brand's (or that address's) refusals of this minute are used up."""
    subject = f"brand:{brand_slug}" if brand_slug else f"addr:{client}"
    return _hit(
        f"hook:refused:{subject}",
        limit=int(settings.VTEX_HOOK_REFUSALS_PER_MINUTE),
        window_seconds=60.0,
    )
