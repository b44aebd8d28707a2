"""Every row lock the payments context takes, in one place (saleor's `lock_objects.py`).

Row locks go through core.locks.lock_rows: `SELECT … FOR NO KEY UPDATE OF <the table itself>` on
primary-key-ordered querysets. A lock that joins (`select_related`) never locks the brand or the
influencer row, so inserts that reference them do not wait, and two callers locking overlapping
sets always take the rows in the same order, so they cannot deadlock. NO KEY UPDATE conflicts
with itself: two approvals of one withdrawal, or two postings to one ledger account, still run one
after the other, so the overdraw checks read a balance nobody else is changing. Call every
function here inside a transaction.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.errors import Conflict
from core.locks import lock_rows
from payments.models import LedgerAccount, PaymentJob, PayoutBatch, Withdrawal

CUTOFF_LOCK_NAMESPACE = 7_301_006  # pg advisory lock (namespace, brand id): one cutoff per brand


def ledger_accounts_lock(*, brand_id: int, influencer_ids: Iterable[int]) -> list[LedgerAccount]:
    """Every stage account of these influencers in the brand (they must exist already)."""
    return list(
        lock_rows(LedgerAccount.objects.filter(brand_id=brand_id, influencer_id__in=sorted(set(influencer_ids))))
    )


def withdrawal_lock(*, pk: int) -> Withdrawal:
    """One withdrawal, with its brand and influencer loaded (not locked)."""
    return lock_rows(Withdrawal.objects.filter(pk=pk).select_related("brand", "influencer__user")).get()


def withdrawals_lock(*, queryset: QuerySet[Withdrawal]) -> list[Withdrawal]:
    """The withdrawals of `queryset`, locked in pk order."""
    return list(lock_rows(queryset.select_related("brand", "influencer__user")))


def payout_batch_lock(*, pk: int) -> PayoutBatch:
    return lock_rows(PayoutBatch.objects.filter(pk=pk).select_related("brand")).get()


def payment_job_lock(*, pk: int) -> PaymentJob:
    return lock_rows(PaymentJob.objects.filter(pk=pk)).get()


@contextmanager
def cutoff_lock(*, brand: Any, wait: bool) -> Iterator[None]:
    """One cutoff per brand at a time: a session-level advisory lock on PostgreSQL (released by
    the database if the process dies). It keeps the batch's progress and statistics exact; the
    money itself is guarded by constraints (docs/ledger.md). Elsewhere (SQLite, one writer) it
    is a no-op."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [CUTOFF_LOCK_NAMESPACE, brand.pk])
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [CUTOFF_LOCK_NAMESPACE, brand.pk])
            if not cursor.fetchone()[0]:
                raise Conflict(_("A payout cutoff for %(brand)s is already running.") % {"brand": brand.name})
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [CUTOFF_LOCK_NAMESPACE, brand.pk])
