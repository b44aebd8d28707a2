from celery import shared_task

from accounts.api_idempotency import idempotency_records_purge


@shared_task
def idempotency_purge_task() -> int:
    return idempotency_records_purge()
