"""The ledger hand-off: post to the ledger what separates it from a commission and its
positive adjustments, under stable references (commissions.postings.ledger_converge)."""

from datetime import datetime, timedelta

from commissions.models import Commission, LedgerStage
from commissions.postings import Accruals as _Accruals
from commissions.postings import ledger_converge
from commissions.services.stage import CANCELED_STATUSES
from orders.models import Order

State = Commission.State


def commission_ledger_sync(
    *,
    commission: Commission,
    order: "Order",
    confirmed: bool,
    now: datetime,
    reversal_label: str = "r",
    accruals: _Accruals | None = None,
) -> int:
    """Post to the ledger what separates it from this commission (and its positive adjustments).
    Reversals are referenced `<reversal_label><n>` (`r1`, `r2`, …; `fraud1` for a rejection).
    New accruals go to `accruals` when given (the caller posts them), else are posted now."""
    target = LedgerStage.CONFIRMED if confirmed else LedgerStage.ESTIMATED
    reversed_all = commission.state == State.REVERSED and order.status in CANCELED_STATUSES
    adjustments = list(commission.adjustments.all()) if commission.pk and commission.adjustment_cents else []
    negative = sum(adj.amount_cents for adj in adjustments if adj.amount_cents < 0)
    desired = 0 if reversed_all else max(0, commission.amount_cents - commission.reversed_cents + negative)
    hold_until = (order.invoiced_at or now) + timedelta(days=commission.campaign.hold_days)
    postings = ledger_converge(
        tracker=commission,
        brand=commission.brand,
        influencer=commission.influencer,
        ref=commission.ledger_ref,
        desired=desired,
        target=target,
        hold_until=hold_until,
        now=now,
        reversal_label=reversal_label,
        accruals=accruals,
    )
    for adj in adjustments:
        if adj.amount_cents <= 0:
            continue
        n = ledger_converge(
            tracker=adj,
            brand=commission.brand,
            influencer=commission.influencer,
            ref=adj.ledger_ref,
            desired=0 if commission.state == State.REVERSED else adj.amount_cents,
            target=target,
            hold_until=hold_until,
            now=now,
            reversal_label=reversal_label,
            accruals=accruals,
        )
        if n:
            adj.save(update_fields=["ledger_stage", "ledger_posted_cents", "ledger_reversal_seq"])
        postings += n
    return postings
