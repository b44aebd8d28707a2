"""Celery entry points of the reports context: thin, idempotent, safe to retry."""

from datetime import date

from celery import shared_task

from reports.exports import export_job_run
from reports.rollups import rollups_refresh_days, rollups_refresh_recent
from reports.services import scheduled_report_send, scheduled_reports_due


@shared_task(ignore_result=True)
def export_job_run_task(*, job_id: int) -> None:
    export_job_run(job_id=job_id)


@shared_task(ignore_result=True)
def scheduled_reports_dispatch_task() -> int:
    """Beat, every 15 minutes: queue the schedules whose period is due in their brand's time zone."""

    due = scheduled_reports_due()
    for schedule_id, period in due:
        scheduled_report_send_task.delay(schedule_id=schedule_id, period_key=period)
    return len(due)


@shared_task(ignore_result=True)
def scheduled_report_send_task(*, schedule_id: int, period_key: str) -> None:
    scheduled_report_send(schedule_id=schedule_id, period_key=period_key)


@shared_task(ignore_result=True)
def rollups_refresh_recent_task() -> int:
    """Beat, nightly: recompute recent days (money the payout cutoff released, say)."""

    return rollups_refresh_recent()


@shared_task(ignore_result=True, autoretry_for=(Exception,), retry_backoff=10, max_retries=5)
def rollups_refresh_days_task(*, brand_id: int, days: list[str]) -> int:
    return rollups_refresh_days(brand_id=brand_id, days=[date.fromisoformat(day) for day in days])
