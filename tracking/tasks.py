"""Celery entry points: thin, idempotent, safe to retry."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from tracking.buffer import click_buffer
from tracking.fraud import fraud_scan_clicks, fraud_scan_conversion_rates, fraud_scan_payout_accounts
from tracking.partitions import click_partitions_maintain


@shared_task(ignore_result=True)
def clicks_drain_task() -> int:
    """Move buffered clicks into the database (Beat: every 10 seconds)."""

    return click_buffer().drain().stored


@shared_task(ignore_result=True)
def fraud_scan_task() -> int:
    """Click floods of the last day, conversion-rate outliers and shared payout accounts."""

    now = timezone.now()
    flags = fraud_scan_clicks(since=now - timedelta(days=1), until=now)
    flags += fraud_scan_conversion_rates(now=now)
    flags += fraud_scan_payout_accounts()
    return len(flags)


@shared_task(ignore_result=True)
def click_partitions_maintain_task() -> dict[str, list[str]]:
    """Monthly click partitions: create the coming months, archive and drop the expired ones
    (Beat: daily; tracking/partitions.py)."""

    report = click_partitions_maintain()
    return {"created": report.created, "archived": [a.file for a in report.archived]}
