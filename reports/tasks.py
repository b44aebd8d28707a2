"""Celery entry points of the reports context: thin, idempotent, safe to retry."""

from celery import shared_task


@shared_task(ignore_result=True)
def export_job_run_task(*, job_id: int) -> None:
    from reports.exports import export_job_run

    export_job_run(job_id=job_id)


@shared_task(ignore_result=True)
def scheduled_reports_dispatch_task() -> int:
    """Beat, every 15 minutes: queue the schedules whose period is due in their brand's time zone."""
    from reports.services import scheduled_reports_due

    due = scheduled_reports_due()
    for schedule_id, period in due:
        scheduled_report_send_task.delay(schedule_id=schedule_id, period_key=period)
    return len(due)


@shared_task(ignore_result=True)
def scheduled_report_send_task(*, schedule_id: int, period_key: str) -> None:
    from reports.services import scheduled_report_send

    scheduled_report_send(schedule_id=schedule_id, period_key=period_key)


@shared_task(ignore_result=True)
def rollups_refresh_recent_task() -> int:
    """Beat, nightly: recompute recent days (money the payout cutoff released, say)."""
    from reports.rollups import rollups_refresh_recent

    return rollups_refresh_recent()


@shared_task(ignore_result=True, autoretry_for=(Exception,), retry_backoff=10, max_retries=5)
def rollups_refresh_days_task(*, brand_id: int, days: list[str]) -> int:
    from datetime import date

    from reports.rollups import rollups_refresh_days

    return rollups_refresh_days(brand_id=brand_id, days=[date.fromisoformat(day) for day in days])
