"""Panels that many read and few change, cached until their facts move.

A brand's community opens the portal the day payouts land; every manager opens the dashboard
each morning. Their panels are sums over the daily rollups, which only change when
`reports.rollups.rollup_refresh` rewrites them. So a panel is cached under its *scopes'
generations*: reports publishes `rollups.moved` (core/events.py) with the brand and the
influencers whose rows actually changed, and the handler below bumps those generations. Readers
never see an entry of an older generation again; no key is ever deleted or pattern-matched.

Scopes:
- `brand_scope(brand_id)`: anything computed from the brand's rollups (manager dashboards);
- `influencer_scope(brand_id, influencer_id)`: one influencer's rollups with one brand (portal).

A generation is the time (nanoseconds) its scope last moved; one that is missing (evicted,
Redis flushed) restarts at the current time, never at a number an older entry could carry.
Panels are built inside `replica_reads()` (core/db_router.py): with a read replica configured
they read from it, and what was built within `DATABASE_REPLICA_MAX_LAG_SECONDS` of its scope
moving is kept only that long (the replica may not have had the new rows yet). Entries also expire after
`PANEL_CACHE_SECONDS`, a safety net, not the invalidation. A cache that fails (Redis away) only
costs the read: the panel is computed from the database.
"""

import time
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from django.conf import settings

from core.db_router import REPLICA, replica_reads
from core.generations import generation_cached, generations_move


def brand_scope(brand_id: int) -> str:
    return f"b{brand_id}"


def influencer_scope(brand_id: int, influencer_id: int) -> str:
    return f"b{brand_id}:i{influencer_id}"


def panel_cached[T](*, scopes: list[str], key: str, build: Callable[[], T]) -> T:
    """`build()`'s value for `key`, computed once per generation of `scopes` (core.generations),
    from the read replica when there is one. The value must be picklable plain data (numbers,
    dates, dicts, lists), never a model instance or a lazy label."""
    read_from: list[str] = []

    def build_on_replica() -> T:
        with replica_reads() as alias:
            read_from.append(alias)
            return build()

    def seconds(moved: list[int]) -> int:
        # What the replica gave within its lag of the scope moving may predate the move.
        lag = settings.DATABASE_REPLICA_MAX_LAG_SECONDS
        if read_from == [REPLICA] and time.time_ns() - max(moved) < lag * 1_000_000_000:
            return min(settings.PANEL_CACHE_SECONDS, lag)
        return int(settings.PANEL_CACHE_SECONDS)

    return generation_cached(scopes=scopes, key=f"panels:{key}", build=build_on_replica, timeout=seconds)


def panels_invalidate(scopes: Iterable[str]) -> None:
    """Move these scopes to a new generation (now): every panel cached under them is recomputed."""
    generations_move(scopes)


def on_rollups_moved(*, brand_id: int, influencer_ids: Iterable[int], days: Iterable[date], **_: Any) -> None:
    """`rollups.moved` handler: the brand's dashboards and these influencers' portal panels."""
    panels_invalidate([brand_scope(brand_id), *(influencer_scope(brand_id, pk) for pk in influencer_ids)])
