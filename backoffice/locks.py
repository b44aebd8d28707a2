"""Every row lock the backoffice context takes (core/locks.py says how and why)."""

from backoffice.models import OperatorJob
from core.locks import lock_rows


def operator_job_lock(*, pk: int) -> OperatorJob:
    """A job whose chunks report back one at a time (backoffice.services.operator_job_chunk_done)."""
    return lock_rows(OperatorJob.objects.filter(pk=pk).select_related("requested_by")).get()
