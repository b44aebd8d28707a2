"""Celery entry points: take ids, call one service, safe to retry."""

import logging
from datetime import date

from celery import shared_task
from django.core.mail import mail_admins

from brands.models import Brand
from core.errors import Conflict

logger = logging.getLogger(__name__)


@shared_task(name="payments.tasks.payout_cutoff_dispatch_task")
def payout_cutoff_dispatch_task() -> list[list[object]]:
    """Hourly: queue the cutoff of every brand whose latest biweekly period ended and is not
    closed yet (each brand's own time zone decides when that is)."""
    from payments.services import payout_cutoff_dispatch  # noqa: PLC0415 payments.tasks↔services cycle (services→withdrawals→tasks)

    due = payout_cutoff_dispatch()
    for brand_id, period_start in due:
        payout_cutoff_task.delay(brand_id=brand_id, period_start=period_start.isoformat())
    return [[brand_id, start.isoformat()] for brand_id, start in due]


@shared_task(name="payments.tasks.payout_cutoff_task", acks_late=True)
def payout_cutoff_task(*, brand_id: int, period_start: str) -> int | None:
    from payments.services import payout_cutoff_run  # noqa: PLC0415 payments.tasks↔services cycle (services→withdrawals→tasks)

    brand = Brand.objects.get(pk=brand_id)
    try:
        batch = payout_cutoff_run(brand=brand, period_start=date.fromisoformat(period_start), wait=False)
    except Conflict:
        logger.info("cutoff for brand %s already running; skipped", brand.slug)
        return None
    return batch.pk


@shared_task(name="payments.tasks.withdrawals_notify_task")
def withdrawals_notify_task(*, withdrawal_ids: list[int]) -> int:
    """Tell the influencers (and the brand's webhooks) of the automatic withdrawals a cutoff
    created, after it committed."""
    from payments.services.withdrawals import withdrawals_announce  # noqa: PLC0415 payments.tasks↔services cycle (services→withdrawals→tasks)

    return withdrawals_announce(withdrawal_ids=withdrawal_ids)


@shared_task(name="payments.tasks.payment_job_run_task", acks_late=True, reject_on_worker_lost=True)
def payment_job_run_task(*, job_id: int) -> str:
    """Mark a batch's withdrawals paid or failed in the background (idempotent: re-delivered
    after a worker died, it skips what is already done)."""
    from payments.services.withdrawals import payment_job_run  # noqa: PLC0415 payments.tasks↔services cycle (services→withdrawals→tasks)

    return str(payment_job_run(job_id=job_id).status)


@shared_task(name="payments.tasks.ledger_verify_task")
def ledger_verify_task() -> int:
    """Daily: every ledger invariant, recorded for the health panel (alert LedgerBroken)."""

    from payments.integrity import ledger_integrity_run  # noqa: PLC0415 payments.tasks↔services cycle (services→withdrawals→tasks)

    problems = ledger_integrity_run()
    if problems:
        logger.error("ledger verification found %s problem(s): %s", len(problems), problems[:5])
        mail_admins("Ledger verification failed", "\n".join(problems[:50]))
    return len(problems)
