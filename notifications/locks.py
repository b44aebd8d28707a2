"""Every row lock the notifications context takes (core/locks.py says how and why)."""

from datetime import datetime

from affiliates.models import Influencer
from core.locks import lock_rows
from notifications.models import Notification, NotificationPreference


def preference_lock(*, influencer: Influencer) -> NotificationPreference:
    """The influencer's preferences, created on first use."""
    preference, _created = lock_rows(NotificationPreference.objects.all()).get_or_create(influencer=influencer)
    return preference


def notifications_pending_claim(*, now: datetime) -> list[Notification]:
    """The notices waiting for the digest, skipping those another sender holds."""
    return list(
        lock_rows(
            Notification.objects.filter(email=Notification.Email.PENDING, created_at__lte=now).select_related(
                "influencer__user", "brand"
            ),
            skip_locked=True,
        )
    )
