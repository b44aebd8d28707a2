from celery import shared_task

from codes.services.sync import code_sync, codes_sync_due
from codes.services.usage import code_usage_refresh


@shared_task(name="codes.tasks.code_sync_task")
def code_sync_task(*, code_id: int) -> None:
    """Push one code to VTEX. Failures are recorded on the code and retried by
    `codes_sync_due_task` with backoff, so this task never retries by itself."""

    code_sync(code_id=code_id)


@shared_task(name="codes.tasks.codes_sync_due_task")
def codes_sync_due_task() -> int:
    return codes_sync_due()


@shared_task(name="codes.tasks.code_usage_refresh_task")
def code_usage_refresh_task(*, code_id: int) -> None:
    code_usage_refresh(code_id=code_id)
