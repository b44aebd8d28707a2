from typing import Any

from django.db.models import QuerySet

from core.generations import CachedRead, generation_cached
from notifications.models import Notification, NotificationPreference

_UNREAD_CACHE_SECONDS = 10 * 60  # a safety net: telling and reading move the scope


def notification_list(*, influencer: Any, brand: Any, limit: int = 50) -> QuerySet[Notification]:
    return Notification.objects.filter(influencer=influencer, brand=brand).order_by("-created_at", "-pk")[:limit]


def unread_scope(*, influencer_id: int, brand_id: int) -> str:
    return f"b{brand_id}:i{influencer_id}:unread"


def unread_cached_read(*, influencer_id: int, brand_id: int) -> CachedRead:
    """Where `notification_unread_count`'s answer is cached (for a page that prefetches its facts)."""
    return CachedRead(
        scopes=(unread_scope(influencer_id=influencer_id, brand_id=brand_id),),
        key=f"notifications:unread:{brand_id}:{influencer_id}",
    )


def notification_unread_count(*, influencer: Any, brand: Any) -> int:
    """The bell's number, on every portal page: cached until a notification is told or read."""
    read = unread_cached_read(influencer_id=influencer.pk, brand_id=brand.pk)
    return generation_cached(
        scopes=list(read.scopes),
        key=read.key,
        build=lambda: Notification.objects.filter(influencer=influencer, brand=brand, read_at__isnull=True).count(),
        timeout=_UNREAD_CACHE_SECONDS,
    )


def notification_preference_get(*, influencer: Any) -> NotificationPreference:
    """The influencer's preferences, or the defaults (every kind by email, one email per fact)
    when they never changed them. Not saved: reading does not write."""
    found = NotificationPreference.objects.filter(influencer=influencer).first()
    return found or NotificationPreference(influencer=influencer)
