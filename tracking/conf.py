"""Tracking settings, each with a default; override any of them in Django settings."""

from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed

from core.redis import redis_key_prefix


@dataclass(frozen=True)
class TrackingSettings:
    cookie_name: str
    cookie_secure: bool
    dedupe_seconds: int
    flood_limit: int
    flood_seconds: int
    fingerprint_minutes: int
    link_cache_seconds: int
    link_l1_seconds: float
    missing_cache_seconds: int
    stream_key: str
    stream_group: str
    claim_idle_ms: int
    drain_batch: int
    spool_dir: str
    expose_validity: bool
    utm_source: str
    utm_medium: str
    hash_key: str
    redis_url: str
    buffer_mode: str  # "redis" or "spool"
    redis_timeout: float
    key_prefix: str  # "<deployment prefix>:": every tracking key in Redis starts with it


_cached: TrackingSettings | None = None


def _reset(*, setting: str = "", **kwargs: object) -> None:
    global _cached
    if setting.startswith("TRACKING_") or setting in (
        "SECRET_KEY",
        "BASE_DIR",
        "REDIS_URL",
        "REDIS_SENTINELS",
        "REDIS_SENTINEL_MASTER",
        "CACHES",
    ):
        _cached = None


# `override_settings` (tests) sends `setting_changed`; settings do not change otherwise.
setting_changed.connect(_reset, dispatch_uid="tracking.conf.reset")


def tracking_settings() -> TrackingSettings:
    """The tracking settings, read once per process (the redirect calls this several times
    per request, and 18 lazy-settings lookups cost more than its Redis round trip) and read
    again after `override_settings` changes one of them."""
    global _cached
    if _cached is None:
        _cached = _load()
    return _cached


def _load() -> TrackingSettings:
    get = getattr
    redis_url = get(settings, "REDIS_URL", "") or ""
    prefix = redis_key_prefix()
    return TrackingSettings(
        cookie_name=get(settings, "TRACKING_COOKIE_NAME", "mgm_vid"),
        cookie_secure=get(settings, "TRACKING_COOKIE_SECURE", True),
        dedupe_seconds=get(settings, "TRACKING_DEDUPE_SECONDS", 30),
        flood_limit=get(settings, "TRACKING_FLOOD_LIMIT", 60),
        flood_seconds=get(settings, "TRACKING_FLOOD_SECONDS", 60),
        fingerprint_minutes=get(settings, "TRACKING_FINGERPRINT_MINUTES", 60),
        link_cache_seconds=get(settings, "TRACKING_LINK_CACHE_SECONDS", 24 * 3600),
        link_l1_seconds=get(settings, "TRACKING_LINK_L1_SECONDS", 5),
        missing_cache_seconds=get(settings, "TRACKING_MISSING_CACHE_SECONDS", 60),
        stream_key=get(settings, "TRACKING_STREAM_KEY", "") or f"{prefix}:clicks",
        stream_group=get(settings, "TRACKING_STREAM_GROUP", "click-drain"),
        claim_idle_ms=get(settings, "TRACKING_CLAIM_IDLE_MS", 60_000),
        drain_batch=get(settings, "TRACKING_DRAIN_BATCH", 1000),
        spool_dir=str(get(settings, "TRACKING_SPOOL_DIR", settings.BASE_DIR / "var" / "click-spool")),
        expose_validity=get(settings, "TRACKING_EXPOSE_VALIDITY", False),
        utm_source=get(settings, "TRACKING_UTM_SOURCE", "mgm-link"),
        utm_medium=get(settings, "TRACKING_UTM_MEDIUM", "influencer"),
        hash_key=get(settings, "TRACKING_HASH_KEY", "") or settings.SECRET_KEY,
        redis_url=redis_url,
        buffer_mode=get(settings, "TRACKING_BUFFER", "redis" if redis_url else "spool"),
        # Seconds a click waits on Redis before it goes to the spool instead.
        redis_timeout=get(settings, "TRACKING_REDIS_TIMEOUT", 0.5),
        key_prefix=f"{prefix}:",
    )
