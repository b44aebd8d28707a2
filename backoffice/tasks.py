from celery import shared_task

from backoffice.services import operator_job_run


@shared_task(name="backoffice.tasks.operator_job_task")
def operator_job_task(*, job_id: int) -> str:
    """Run one operator job (idempotent: a retry finds it claimed and leaves it)."""
    return str(operator_job_run(job_id=job_id).status)
