"""Celery entry points: call one service, safe to retry."""

from celery import shared_task

from notifications.services import notifications_digest_send


@shared_task(name="notifications.tasks.notifications_digest_task")
def notifications_digest_task() -> int:
    """Daily: each influencer's summary of what waited for it (commission news, and everything
    for those who chose one email a day)."""

    return notifications_digest_send()
