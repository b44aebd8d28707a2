import logging

from celery import shared_task

from backoffice.models import OperatorJob
from backoffice.services import operator_job_chunk_done, operator_job_run
from orders.services import orders_reprocess_chunk

logger = logging.getLogger(__name__)


@shared_task(name="backoffice.tasks.operator_job_task")
def operator_job_task(*, job_id: int) -> str:
    """Run one operator job (idempotent: a retry finds it claimed and leaves it)."""
    return str(operator_job_run(job_id=job_id).status)


@shared_task(name="backoffice.tasks.operator_job_chunk_task")
def operator_job_chunk_task(*, job_id: int, chunk: int, lane: int, order_ids: list[int]) -> str:
    """Re-apply one chunk of a fanned-out "re-apply stored orders" job and report it. An order
    that fails is counted as failed (and logged by the batch); a chunk that fails as a whole
    counts all its orders as failed, so the job always finishes."""
    job = OperatorJob.objects.select_related("brand").get(pk=job_id)
    assert job.brand is not None
    try:
        reapplied, failed = orders_reprocess_chunk(brand=job.brand, lane=lane, order_ids=order_ids)
    except Exception:
        logger.exception("chunk %s of operator job %s failed", chunk, job_id)
        reapplied, failed = 0, len(order_ids)
    return str(
        operator_job_chunk_done(
            job_id=job_id, chunk=chunk, orders=len(order_ids), reapplied=reapplied, failed=failed
        ).status
    )
