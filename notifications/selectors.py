from typing import Any

from django.db.models import QuerySet

from notifications.models import Notification, NotificationPreference


def notification_list(*, influencer: Any, brand: Any, limit: int = 50) -> QuerySet[Notification]:
    return Notification.objects.filter(influencer=influencer, brand=brand).order_by("-created_at", "-pk")[:limit]


def notification_unread_count(*, influencer: Any, brand: Any) -> int:
    return Notification.objects.filter(influencer=influencer, brand=brand, read_at__isnull=True).count()


def notification_preference_get(*, influencer: Any) -> NotificationPreference:
    """The influencer's preferences, or the defaults (every kind by email, one email per fact)
    when they never changed them. Not saved: reading does not write."""
    found = NotificationPreference.objects.filter(influencer=influencer).first()
    return found or NotificationPreference(influencer=influencer)
