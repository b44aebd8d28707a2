"""The biweekly payout cutoff (1–15 and 16–end of month, in the brand's time zone).

One run per (brand, period), resumable: it releases confirmed commissions whose hold ended by
the period's end, puts the period's open withdrawals in the batch, creates automatic
withdrawals where the brand enabled them, then notifies finance. Every step is idempotent and
committed in chunks, so a second run, a concurrent run (serialised by an advisory lock on
PostgreSQL, by the batch's unique constraint elsewhere) or a run after a crash halfway ends
with the same batch, nothing doubled and nothing missing.
"""

import calendar
import logging
import zoneinfo
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import FINANCE
from affiliates.models import Membership
from audit.services import audit_record
from brands.models import Brand
from core import events
from core.errors import ApplicationError
from core.money import format_minor
from integrations.email import email_send
from payments import payout_accounts
from payments.locks import cutoff_lock, payout_batch_lock
from payments.models import (
    AccountKind,
    CommissionPosition,
    LedgerAccount,
    LedgerTransaction,
    PayoutBatch,
    PayoutSettings,
    Withdrawal,
)
from payments.services.ledger import C, D, Posting, accounts_lock, balances_by_account, ledger_release_due, post_many
from payments.services.withdrawals import payout_settings_for, withdrawal_terms

logger = logging.getLogger(__name__)

DEFAULT_CHUNK = 500

# Test seam: called after each committed chunk with (stage, chunk index). The crash-recovery
# test raises from here to stop a run halfway.
after_chunk: Callable[[str, int], None] = lambda stage, index: None  # noqa: E731


# --- Periods --------------------------------------------------------------------------------


def payout_period_for(day: date) -> tuple[date, date]:
    """The biweekly period containing `day`: 1–15 or 16–last day of the month."""
    if day.day <= 15:
        return day.replace(day=1), day.replace(day=15)
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=16), day.replace(day=last)


def period_bounds(*, brand: Any, period_start: date) -> tuple[datetime, datetime]:
    """[start, end) of the period as aware instants: local midnights in the brand's zone."""
    start, end = payout_period_for(period_start)
    tz = zoneinfo.ZoneInfo(brand.time_zone)
    return datetime.combine(start, time.min, tzinfo=tz), datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)


def previous_period(day: date) -> tuple[date, date]:
    start, _end = payout_period_for(day)
    return payout_period_for(start - timedelta(days=1))


# --- Locking --------------------------------------------------------------------------------


def _batch_get_or_create(brand: Any, start: date, end: date) -> PayoutBatch:
    try:
        with transaction.atomic():
            batch, created = PayoutBatch.objects.get_or_create(
                brand=brand, period_start=start, defaults={"period_end": end}
            )
            if created:
                events.publish(
                    "payout_batch.created",
                    brand_id=brand.pk,
                    data={"id": batch.pk, "period_start": start.isoformat(), "period_end": end.isoformat()},
                )
    except IntegrityError:
        batch = PayoutBatch.objects.get(brand=brand, period_start=start)
    return batch


def _progress(batch: PayoutBatch, **fields: Any) -> None:
    PayoutBatch.objects.filter(pk=batch.pk).update(**fields)
    for name, value in fields.items():
        setattr(batch, name, value)


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


# --- The run --------------------------------------------------------------------------------


def payout_cutoff_run(
    *,
    brand: Any,
    period_start: date,
    now: datetime | None = None,
    wait: bool = True,
    chunk_size: int = DEFAULT_CHUNK,
    actor: Any = None,
) -> PayoutBatch:
    """Close the biweekly period containing `period_start` for `brand` (see module docstring).
    Refuses a period that has not ended yet in the brand's time zone."""
    start, end = payout_period_for(period_start)
    _period_from, due_at = period_bounds(brand=brand, period_start=start)
    now = now or timezone.now()
    if now < due_at:
        raise ApplicationError(
            _("The period %(start)s – %(end)s has not ended yet in %(tz)s; run its cutoff from %(due)s.")
            % {"start": start, "end": end, "tz": brand.time_zone, "due": due_at.isoformat()},
            code="period_open",
        )
    with cutoff_lock(brand=brand, wait=wait):
        batch = _batch_get_or_create(brand, start, end)
        if batch.status == PayoutBatch.Status.READY:
            return batch
        _progress(
            batch,
            status=PayoutBatch.Status.BUILDING,
            runs=batch.runs + 1,
            started_at=batch.started_at or timezone.now(),
            last_error="",
        )
        try:
            _release_stage(brand, batch, due_at, chunk_size)
            _assign_stage(brand, batch, due_at)
            _automatic_stage(brand, batch, due_at, chunk_size)
            _finish(brand, batch, actor)
            batch.refresh_from_db()
        except Exception as exc:
            _progress(batch, status=PayoutBatch.Status.FAILED, last_error=f"{type(exc).__name__}: {exc}"[:2000])
            logger.exception("payout cutoff failed for brand %s period %s", brand.slug, start)
            raise
    return batch


def _release_stage(brand: Any, batch: PayoutBatch, due_at: datetime, chunk_size: int) -> None:
    influencer_ids = list(
        CommissionPosition.objects.filter(brand=brand, held_cents__gt=0, hold_until__lte=due_at)
        .order_by("influencer_id")
        .values_list("influencer_id", flat=True)
        .distinct()
    )
    _progress(batch, stage="release", progress_total=len(influencer_ids), progress_done=0)
    for index, chunk in enumerate(_chunks(influencer_ids, chunk_size)):
        with transaction.atomic():
            count, cents = ledger_release_due(brand=brand, influencer_ids=chunk, due_at=due_at, batch=batch)
            _progress(
                batch,
                progress_done=batch.progress_done + len(chunk),
                released_count=batch.released_count + count,
                released_cents=batch.released_cents + cents,
            )
        after_chunk("release", index)


def _assign_stage(brand: Any, batch: PayoutBatch, due_at: datetime) -> None:
    """Open withdrawals requested before the period ended and not yet in a batch join it."""
    _progress(batch, stage="assign")
    with transaction.atomic():
        Withdrawal.objects.filter(
            brand=brand, batch__isnull=True, status__in=Withdrawal.OPEN_STATUSES, requested_at__lt=due_at
        ).update(batch=batch)


def _automatic_stage(brand: Any, batch: PayoutBatch, due_at: datetime, chunk_size: int) -> None:
    options = payout_settings_for(brand=brand)
    if not options.automatic_payouts:
        return

    approved = Membership.objects.filter(brand=brand, influencer_id=OuterRef("influencer_id"), status="approved")
    already = Withdrawal.objects.filter(batch=batch, automatic=True, influencer_id=OuterRef("influencer_id"))
    candidates = list(
        LedgerAccount.objects.filter(brand=brand, kind=AccountKind.AVAILABLE, influencer__isnull=False)
        .filter(Exists(approved))
        .exclude(Exists(already))
        .order_by("influencer_id")
        .values_list("influencer_id", flat=True)
    )
    _progress(batch, stage="automatic", progress_total=len(candidates), progress_done=0)
    for index, chunk in enumerate(_chunks(candidates, chunk_size)):
        labels = payout_accounts.payout_accounts_on_file(influencer_ids=chunk, brand_id=brand.pk)
        with transaction.atomic():
            created = _automatic_chunk(brand, batch, chunk, labels, options)
            _progress(batch, progress_done=batch.progress_done + len(chunk))
            if created:
                audit_record(
                    action="withdrawal.automatic_created",
                    target=batch,
                    brand_id=brand.pk,
                    after={"withdrawals": [[w.pk, w.influencer_id, w.amount_cents] for w in created]},
                )
        after_chunk("automatic", index)


def _automatic_chunk(
    brand: Any,
    batch: PayoutBatch,
    influencer_ids: list[int],
    labels: dict[int, str],
    options: PayoutSettings,
) -> list[Withdrawal]:
    eligible_ids = [i for i in influencer_ids if i in labels]
    if not eligible_ids:
        return []
    accounts = accounts_lock(brand=brand, influencer_ids=eligible_ids)
    # Re-checked under the locks: a concurrent or earlier run may have created some already.
    done = set(
        Withdrawal.objects.filter(batch=batch, automatic=True, influencer_id__in=eligible_ids).values_list(
            "influencer_id", flat=True
        )
    )
    # One open withdrawal per influencer and brand: whoever already has one waits for it.
    done |= set(
        Withdrawal.objects.filter(
            brand=brand, influencer_id__in=eligible_ids, status__in=Withdrawal.OPEN_STATUSES
        ).values_list("influencer_id", flat=True)
    )
    balances = balances_by_account(accounts[(i, AccountKind.AVAILABLE)].pk for i in eligible_ids)
    now = timezone.now()
    withdrawals = []
    for influencer_id in eligible_ids:
        if influencer_id in done:
            continue
        available = balances[accounts[(influencer_id, AccountKind.AVAILABLE)].pk]
        try:
            terms = withdrawal_terms(brand=brand, options=options, cents=available, payout_label=labels[influencer_id])
        except ApplicationError:
            continue  # below the minimum: it waits for a later period
        withdrawals.append(
            Withdrawal(
                brand=brand,
                influencer_id=influencer_id,
                amount_cents=available,
                currency=brand.currency,
                automatic=True,
                batch=batch,
                requested_at=now,
                approvals_required=terms.approvals_required,
                payout_account_label=terms.payout_account_label,
            )
        )
    if not withdrawals:
        return []
    created = Withdrawal.objects.bulk_create(withdrawals)
    post_many(
        brand=brand,
        postings=[
            Posting(
                kind=LedgerTransaction.Kind.WITHDRAWAL_RESERVE,
                reference=f"W-{w.pk}",
                influencer_id=w.influencer_id,
                withdrawal_id=w.pk,
                batch_id=batch.pk,
                occurred_at=now,
                memo="automatic",
                lines=[
                    (accounts[(w.influencer_id, AccountKind.AVAILABLE)], D, w.amount_cents),
                    (accounts[(w.influencer_id, AccountKind.RESERVED)], C, w.amount_cents),
                ],
            )
            for w in created
        ],
    )
    ids = [w.pk for w in created]
    transaction.on_commit(lambda: _notify_automatic(ids))
    return created


def _notify_automatic(withdrawal_ids: list[int]) -> None:
    from payments.tasks import withdrawals_notify_task  # noqa: PLC0415 tasks↔services cycle inside the app

    withdrawals_notify_task.delay(withdrawal_ids=withdrawal_ids)


def finance_recipients(*, brand: Any) -> list[str]:
    return list(
        User.objects.filter(is_active=True, groups__name=FINANCE, brand_access__brand=brand)
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )


def _finish(brand: Any, batch: PayoutBatch, actor: Any) -> None:
    with transaction.atomic():
        batch = payout_batch_lock(pk=batch.pk)
        if batch.status == PayoutBatch.Status.READY:
            return
        withdrawals = Withdrawal.objects.filter(batch=batch)
        count = withdrawals.count()
        total = sum(withdrawals.values_list("amount_cents", flat=True))
        batch.status = PayoutBatch.Status.READY
        batch.stage = "done"
        batch.finished_at = timezone.now()
        batch.save(update_fields=["status", "stage", "finished_at"])
        audit_record(
            action="payout_batch.cutoff_completed",
            target=batch,
            actor=actor,
            brand_id=brand.pk,
            after={
                "period": [batch.period_start, batch.period_end],
                "released_commissions": batch.released_count,
                "released_cents": batch.released_cents,
                "withdrawals": count,
                "withdrawals_cents": total,
                "runs": batch.runs,
            },
        )
        email_send(
            to=finance_recipients(brand=brand),
            template="payout_batch_ready",
            context={
                "brand": brand.name,
                "batch_id": batch.pk,
                "period_start": batch.period_start.isoformat(),
                "period_end": batch.period_end.isoformat(),
                "released": format_minor(batch.released_cents, brand.currency),
                "released_count": batch.released_count,
                "withdrawals": count,
                "withdrawals_total": format_minor(total, brand.currency),
            },
        )


# --- Beat dispatcher ------------------------------------------------------------------------


def payout_cutoff_dispatch(*, now: datetime | None = None) -> list[tuple[int, date]]:
    """For each active brand, the period that most recently ended in its time zone, when its
    batch is not ready yet: the (brand id, period start) pairs to run. Cheap and idempotent,
    so Beat can call it every hour."""

    now = now or timezone.now()
    due: list[tuple[int, date]] = []
    for brand in Brand.objects.filter(is_active=True).order_by("pk"):
        local_today = timezone.localtime(now, zoneinfo.ZoneInfo(brand.time_zone)).date()
        start, _end = previous_period(local_today)
        if not PayoutBatch.objects.filter(brand=brand, period_start=start, status=PayoutBatch.Status.READY).exists():
            due.append((brand.pk, start))
    return due
