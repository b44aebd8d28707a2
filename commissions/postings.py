"""Ledger convergence shared by commissions and referral commissions: move one ledger position
(a commission, an adjustment, a referral reward) from what its tracker row says was posted to
what it should be now, at most once per step. The tracker's counters (`ledger_stage`,
`ledger_posted_cents`, `ledger_reversal_seq`) are saved by the caller in the same transaction
as the postings, so a repeated sync posts nothing (docs/ledger.md, docs/referrals.md)."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from commissions.models import LedgerStage
from core import batching
from payments.services import (
    Confirmation,
    ledger_commission_accrue,
    ledger_commission_accrue_each,
    ledger_commission_confirm,
    ledger_commission_confirm_each,
    ledger_commission_reverse,
)
from payments.services.ledger import accounts_lock

if TYPE_CHECKING:
    from commissions.models import Commission, CommissionAdjustment, ReferralCommission


def ledger_accounts_prelock(*, brand: Any, influencer_ids: Iterable[int]) -> None:
    """Lock the stage accounts of several influencers at once, in pk order, before a sync posts
    for more than one of them (a referred influencer and their referrers): the cutoff locks many
    influencers in the same global order, so neither can deadlock the other. Call inside a
    transaction; later postings re-lock rows this transaction already holds, which is free."""
    accounts_lock(brand=brand, influencer_ids=influencer_ids)


@dataclass
class Accruals:
    """Accruals and confirmations collected during one order sync and posted in one go per
    brand (`ledger_commission_accrue_each`, `ledger_commission_confirm_each`): an order's
    lines otherwise cost a dozen ledger round trips each. Inside a batch of orders
    (core.batching) they are posted when the batch ends, once for all its orders, in the
    batch's transaction (`_accruals_post`, `_confirms_post`); an order rolled back to its
    savepoint takes them with it. Passed explicitly down to `ledger_converge`; other callers
    pass None and post at once.

    A reference is either accrued or confirmed by one sync (`ledger_converge` moves it one
    step), and an order appears once in a batch, so the two collections never hold the same
    reference and their order does not matter."""

    batches: dict[tuple[int, int], tuple[Any, Any, list[tuple[str, int]]]] = field(default_factory=dict)
    confirms: dict[tuple[int, int], tuple[Any, Any, list[Confirmation]]] = field(default_factory=dict)

    def add(self, *, brand: Any, influencer: Any, ref: str, amount_cents: int) -> None:
        self.batches.setdefault((brand.pk, influencer.pk), (brand, influencer, []))[2].append((ref, amount_cents))

    def confirm(self, *, brand: Any, influencer: Any, ref: str, amount_cents: int, hold_until: datetime) -> None:
        self.confirms.setdefault((brand.pk, influencer.pk), (brand, influencer, []))[2].append(
            Confirmation(ref=ref, amount_cents=amount_cents, hold_until=hold_until)
        )

    def post(self) -> None:
        by_brand: dict[int, list[tuple[Any, Any, list[Any]]]] = {}
        for (brand_id, _influencer_id), part in self.batches.items():
            if not batching.defer_collect(("commissions.accruals", brand_id), part, _accruals_post):
                by_brand.setdefault(brand_id, []).append(part)
        for parts in by_brand.values():
            _accruals_post(parts)
        by_brand = {}
        for (brand_id, _influencer_id), confirms in self.confirms.items():
            if not batching.defer_collect(("commissions.confirms", brand_id), confirms, _confirms_post):
                by_brand.setdefault(brand_id, []).append(confirms)
        for parts in by_brand.values():
            _confirms_post(parts)
        self.batches.clear()
        self.confirms.clear()


def _accruals_post(parts: list[tuple[Any, Any, list[tuple[str, int]]]]) -> None:
    """A brand's accruals (of an order, or of a whole batch), every influencer in one call."""
    ledger_commission_accrue_each(brand=parts[0][0], accruals=_per_influencer(parts))


def _confirms_post(parts: list[tuple[Any, Any, list[Confirmation]]]) -> None:
    """A brand's confirmations (of an order, or of a whole batch), every influencer in one call."""
    ledger_commission_confirm_each(brand=parts[0][0], confirmations=_per_influencer(parts))


def _per_influencer(parts: list[tuple[Any, Any, list[Any]]]) -> list[tuple[Any, list[Any]]]:
    """One brand's items grouped by influencer, in influencer order. The ledger locks every
    influencer's stage accounts in one statement in pk order, as batches of the brand's other
    lanes do, so two batches that meet on an influencer wait for each other instead of
    deadlocking."""
    by_influencer: dict[int, tuple[Any, list[Any]]] = {}
    for _brand, influencer, items in parts:
        by_influencer.setdefault(influencer.pk, (influencer, []))[1].extend(items)
    return [by_influencer[influencer_id] for influencer_id in sorted(by_influencer)]


def ledger_converge(
    *,
    tracker: "Commission | CommissionAdjustment | ReferralCommission",
    brand: Any,
    influencer: Any,
    ref: str,
    desired: int,
    target: str,
    hold_until: datetime,
    now: datetime,
    reversal_label: str = "r",
    accruals: Accruals | None = None,
) -> int:
    """Move the ledger position `ref` from what `tracker` says was posted to `desired` at stage
    `target`. Accruals and confirmations are idempotent by `ref`, reversals by (`ref`, r<n>);
    the counters on `tracker` are saved in the same transaction as the postings."""
    posted = tracker.ledger_posted_cents
    stage = tracker.ledger_stage
    if stage == LedgerStage.NONE:
        if desired <= 0:
            return 0
        if target == LedgerStage.CONFIRMED:
            _confirm(brand=brand, influencer=influencer, ref=ref, desired=desired, hold_until=hold_until, into=accruals)
        elif accruals is not None:
            # Within an order sync: posted together at the end (commissions_sync_for_order).
            accruals.add(brand=brand, influencer=influencer, ref=ref, amount_cents=desired)
        else:
            ledger_commission_accrue(brand=brand, influencer=influencer, commission_ref=ref, amount_cents=desired)
        tracker.ledger_stage = target
        tracker.ledger_posted_cents = desired
        return 1
    if stage == LedgerStage.ESTIMATED and target == LedgerStage.CONFIRMED and desired > 0:
        # The confirmation settles any difference between the estimate and the final amount.
        _confirm(brand=brand, influencer=influencer, ref=ref, desired=desired, hold_until=hold_until, into=accruals)
        tracker.ledger_stage = LedgerStage.CONFIRMED
        tracker.ledger_posted_cents = desired
        return 1
    if desired < posted:
        # After a payout the ledger turns this into a clawback; paid rows are never edited.
        tracker.ledger_reversal_seq += 1
        ledger_commission_reverse(
            brand=brand,
            influencer=influencer,
            commission_ref=ref,
            reversal_ref=f"{reversal_label}{tracker.ledger_reversal_seq}",
            amount_cents=posted - desired,
        )
        tracker.ledger_posted_cents = desired
        return 1
    # desired > posted: an estimate only grows at confirmation (which settles it); a confirmed
    # commission only shrinks (returns), and manual increases have their own references.
    return 0


def _confirm(
    *, brand: Any, influencer: Any, ref: str, desired: int, hold_until: datetime, into: Accruals | None
) -> None:
    """Confirm now, or with the sync's (or batch's) others when it collects them."""
    if into is not None:
        into.confirm(brand=brand, influencer=influencer, ref=ref, amount_cents=desired, hold_until=hold_until)
    else:
        ledger_commission_confirm(
            brand=brand, influencer=influencer, commission_ref=ref, amount_cents=desired, hold_until=hold_until
        )
