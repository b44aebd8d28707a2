"""The redirect's view of a link, kept in the cache so `/r/<slug>` answers without a query.

An entry is a small dict built by `_entry_for` from the link, its campaign and the influencer's
membership with the brand. Keys carry a schema version (`<prefix>:trk:link:v<N>:<slug>`) so a deploy that
changes the entry's shape never reads old entries. Unknown slugs are cached too, briefly, so a
flood of made-up slugs does not reach the database.

Invalidation: every service that changes a link deletes its key (and warms it again); a change
to a campaign, a membership, an influencer or a brand calls `link_cache_invalidate_for`
(wired to their `post_save` in `tracking.apps`, after commit, and callable by other apps).
"""

import json
import logging
import time
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction

from affiliates.models import Membership
from campaigns.models import Campaign
from tracking.conf import tracking_settings
from tracking.models import Link
from tracking.selectors import attribution_policy_for
from tracking.stores import tracking_aredis, tracking_redis

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
_MISSING = {"missing": True}
# A per-process copy of hot entries for `TRACKING_LINK_L1_SECONDS` (default 5 s), so the
# redirect does one Redis round trip (the click) instead of two. Other processes see an
# invalidation at most that late; this process at once.
_l1: dict[str, tuple[float, dict[str, Any] | None]] = {}


def link_cache_key(slug: str) -> str:
    return f"{tracking_settings().key_prefix}trk:link:v{SCHEMA_VERSION}:{slug}"


# Where entries live: with the Redis buffer, as JSON in the tracking Redis (`tracking.stores`),
# which the ASGI edge reads with its asyncio client; otherwise in Django's cache.


def _redis_mode() -> bool:
    return tracking_settings().buffer_mode == "redis"


def _store_get(key: str) -> Any:
    if _redis_mode():
        try:
            raw = tracking_redis().get(key)
        except Exception:
            # Redis away: read the link from the database (the click itself goes to the spool).
            logger.warning("link cache unreachable; reading %s from the database", key, exc_info=True)
            return None
        return json.loads(raw) if raw else None
    return cache.get(key)


def _store_set(key: str, value: dict[str, Any], ttl: int) -> None:
    if _redis_mode():
        try:
            tracking_redis().set(key, json.dumps(value, separators=(",", ":")), ex=ttl)
        except Exception:
            logger.warning("link cache unreachable; %s not cached", key, exc_info=True)
    else:
        cache.set(key, value, ttl)


def _store_delete(keys: list[str]) -> None:
    if _redis_mode():
        tracking_redis().delete(*keys)
    else:
        cache.delete_many(keys)


def _entry_for(link: Any) -> dict[str, Any]:
    campaign = link.campaign
    approved = Membership.objects.filter(
        influencer_id=link.influencer_id, brand_id=link.brand_id, status=Membership.Status.APPROVED
    ).exists()
    running = campaign.status == Campaign.Status.ACTIVE and link.brand.is_active
    return {
        "id": link.pk,
        "brand": link.brand_id,
        "campaign": link.campaign_id,
        "campaign_slug": campaign.slug,
        "influencer": link.influencer_id,
        "dest": link.destination_url,
        "hosts": list(link.brand.store_domains or []),
        "window_days": _window_days(campaign),
        # Tracking stops (the shopper still reaches the store, untracked) when the campaign is
        # not running, has ended, or the influencer is no longer approved with the brand.
        "track": bool(running and approved),
        "ends": campaign.ends_at.timestamp() if campaign.ends_at else None,
    }


def _window_days(campaign: Any) -> int:
    return attribution_policy_for(campaign).window_days


def link_entry_load(slug: str) -> dict[str, Any] | None:
    """Read the link from the database and cache it (or cache that it does not exist)."""

    settings = tracking_settings()
    link = Link.objects.select_related("campaign", "brand").filter(slug=slug).first()
    if link is None or not link.is_active:
        _store_set(link_cache_key(slug), _MISSING, settings.missing_cache_seconds)
        return None
    entry = _entry_for(link)
    _store_set(link_cache_key(slug), entry, settings.link_cache_seconds)
    return entry


def link_entry_get(slug: str) -> dict[str, Any] | None:
    """The cached entry, or None for an unknown or inactive slug. Queries the database only on
    a cache miss."""
    ttl = tracking_settings().link_l1_seconds
    now = time.monotonic()
    if ttl:
        hit = _l1.get(slug)
        if hit is not None and hit[0] > now:
            return hit[1]
    entry = _store_get(link_cache_key(slug))
    if entry is None:
        entry = link_entry_load(slug)
    elif entry.get("missing"):
        entry = None
    _l1_keep(slug, entry, now=now, ttl=ttl)
    return entry


def _l1_keep(slug: str, entry: dict[str, Any] | None, *, now: float, ttl: float) -> None:
    if ttl:
        if len(_l1) > 10_000:
            _l1.clear()
        _l1[slug] = (now + ttl, entry)


async def link_entry_aget(slug: str) -> tuple[bool, dict[str, Any] | None]:
    """For an event loop (the ASGI edge): `(True, entry)` when the cache knows the slug
    (`entry` None for an unknown or inactive one), `(False, None)` on a miss, which only
    Django's side answers (it reads the database). Never queries the database."""
    conf = tracking_settings()
    ttl = conf.link_l1_seconds
    now = time.monotonic()
    if ttl:
        hit = _l1.get(slug)
        if hit is not None and hit[0] > now:
            return True, hit[1]
    if conf.buffer_mode == "redis":
        try:
            raw = await tracking_aredis().get(link_cache_key(slug))
        except Exception:
            logger.warning("link cache unreachable from the edge; Django answers %s", slug, exc_info=True)
            return False, None
        entry = json.loads(raw) if raw else None
    elif _cache_is_local():
        entry = cache.get(link_cache_key(slug))  # in-process memory: nothing to wait for
    else:
        return False, None
    if entry is None:
        return False, None
    found = None if entry.get("missing") else entry
    _l1_keep(slug, found, now=now, ttl=ttl)
    return True, found


def _cache_is_local() -> bool:
    return isinstance(caches["default"], LocMemCache)


def link_entry_tracks(entry: dict[str, Any], *, now: float) -> bool:
    """Whether a click on this entry is recorded at `now` (a Unix timestamp): the campaign is
    running, the influencer approved, and the campaign has not ended."""
    ends = entry.get("ends")
    return bool(entry["track"]) and (ends is None or now < ends)


def link_cache_invalidate(*, slugs: list[str]) -> None:
    for slug in slugs:
        _l1.pop(slug, None)
    if slugs:
        _store_delete([link_cache_key(s) for s in slugs])


def link_cache_clear() -> None:
    """Forget every cached link entry kept by tracking itself: this process's copies and, with
    the Redis buffer, the Redis entries (Django's cache, the other store, has `cache.clear()`)."""
    _l1.clear()
    if _redis_mode():
        client = tracking_redis()
        keys = list(client.scan_iter(f"{tracking_settings().key_prefix}trk:link:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])


def link_cache_invalidate_for(*, influencer: Any = None, campaign: Any = None, brand: Any = None) -> int:
    """Drop the cached entries of every link of an influencer, a campaign or a brand (any
    combination narrows the set). Call after the change commits; returns how many were dropped."""

    links = Link.objects.all()
    if influencer is not None:
        links = links.filter(influencer=influencer)
    if campaign is not None:
        links = links.filter(campaign=campaign)
    if brand is not None:
        links = links.filter(brand=brand)
    if influencer is None and campaign is None and brand is None:
        return 0
    slugs = list(links.values_list("slug", flat=True))
    link_cache_invalidate(slugs=slugs)
    return len(slugs)


def link_cache_invalidate_on_commit(**filters: Any) -> None:
    transaction.on_commit(lambda: link_cache_invalidate_for(**filters))
