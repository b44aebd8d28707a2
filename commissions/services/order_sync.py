"""The order sync: commission records kept in step with the VTEX order, and their ledger postings.

`commissions_sync_for_order` is called by orders.services while it holds the order's row lock,
after the order and its lines were reconciled to VTEX. It computes (engine), records (one row
per line and influencer) and posts to the ledger only the difference from what this record
already posted, under stable references, so any number of syncs of the same VTEX state post
exactly once. The states and the base rule are in docs/orders.md.
"""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import router
from django.db.models.signals import post_save
from django.utils import timezone

from audit.services import audit_record
from campaigns.models import Campaign
from campaigns.rules import OrderLineInput
from campaigns.selectors import campaign_engine_inputs
from commissions.engine import commission_compute
from commissions.locks import commissions_lock
from commissions.models import Commission, FraudReview, LedgerStage
from commissions.postings import Accruals as _Accruals
from commissions.referrals import ReferralCache, referral_known_absent, referral_prelock, referral_rewards_sync
from commissions.selectors import commissions_ahead_key
from commissions.services.ledger import commission_ledger_sync
from commissions.services.stage import order_commission_stage
from core import batching, events
from core.bulk import rows_update
from core.ids import ids_reserve
from core.money import round_minor
from orders.models import Order, OrderLine
from tracking.fraud import fraud_hold_active_for

State = Commission.State


def _units_reversed_cents(amount: int, quantity: int, units: int) -> int:
    """The part of a line's commission that `units` of its `quantity` carry. All units give the
    whole amount exactly; a part is rounded once, by core.money.round_minor."""
    if quantity <= 0 or units <= 0:
        return 0
    if units >= quantity:
        return amount
    return min(amount, round_minor(Decimal(amount) * units / quantity))


def _engine_lines(lines: Sequence["OrderLine"], *, order: "Order") -> list[OrderLineInput]:
    """The engine's inputs, in the brand's cents (an order in another currency at its recorded
    rate: `Order.brand_cents`)."""
    return [
        OrderLineInput(
            line_id=str(line.item_index),
            sku_id=line.sku_id,
            quantity=line.quantity,
            base_cents=max(0, order.brand_cents(line.total_cents)),
            product_id=line.product_id,
            category_ids=frozenset(line.category_ids or []),
            brand_id=line.vtex_brand_id,
            collection_ids=frozenset(line.collection_ids or []),
        )
        for line in lines
    ]


def _commissions_lock_of(orders: Sequence["Order"]) -> list[Commission]:
    return commissions_lock(queryset=Commission.objects.filter(order__in=orders).prefetch_related("adjustments"))


def commissions_prefetch(*, orders: list["Order"], created: list["Order"]) -> None:
    """A batch of orders (orders.services.batch) reads their commissions ahead: locked, with
    their adjustments, in one statement each; an order the batch created has none yet. Each
    order's sync takes its own (core.batching.memo_take), and its settled check peeks at them."""
    by_order: dict[int, list[Commission]] = {order.pk: [] for order in [*orders, *created]}
    if orders:
        for commission in _commissions_lock_of(orders):
            by_order[commission.order_id].append(commission)
    for order_id, commissions in by_order.items():
        batching.memo_set(commissions_ahead_key(order_id), commissions)


def commissions_sync_for_order(*, order: "Order", now: datetime | None = None) -> dict[str, int]:
    """Make the order's commissions match the order as VTEX reports it now.

    Precondition: called inside a transaction holding the order's row lock (orders.locks.order_lock), after
    its lines and attribution were written. Returns counts for logs and benchmarks."""
    accruals = _Accruals()
    counts = _commissions_sync_for_order(order=order, now=now, accruals=accruals)
    accruals.post()
    return counts


def _commissions_sync_for_order(*, order: "Order", now: datetime | None, accruals: _Accruals) -> dict[str, int]:
    now = now or timezone.now()
    stage = order_commission_stage(order)
    lines = [line for line in order.lines.all() if not line.is_gift]
    locked = batching.memo_take(commissions_ahead_key(order.pk), lambda: _commissions_lock_of([order]))
    existing = {(c.line_id, c.influencer_id): c for c in locked}
    counts = {"created": 0, "changed": 0, "postings": 0}
    campaign: Campaign | None = None
    wanted: set[tuple[int, int]] = set()
    holds: dict[int, bool] = {}
    referrals = ReferralCache()
    influencer_ids = {key[1] for key in existing}
    if order.influencer_id is not None:
        influencer_ids.add(order.influencer_id)
    referral_prelock(order=order, influencer_ids=influencer_ids, cache=referrals)

    # An order in another currency without a rate is not brand money: it earns nothing (and
    # anything it earned before, under a rate since withdrawn by a reprocess, is taken back).
    if order.influencer_id is not None and order.campaign_id is not None and lines and not order.currency_held:
        influencer_id: int = order.influencer_id
        mine = {line.pk: existing.get((line.pk, influencer_id)) for line in lines}
        frozen = all(c is not None and c.ledger_stage == LedgerStage.CONFIRMED for c in mine.values())
        computed: dict[str, Any] = {}
        variant_id = None
        if not frozen:
            campaign_id = order.campaign_id
            campaign = batching.memo(("campaigns.campaign", campaign_id), lambda: Campaign.objects.get(pk=campaign_id))
            inputs = batching.memo(
                ("campaigns.engine_inputs", campaign_id, influencer_id),
                lambda: campaign_engine_inputs(campaign=campaign, influencer_id=influencer_id),
            )
            variant_id = inputs.variant_id
            if order.code is not None and order.code.variant_id is not None:
                # The code carries the A/B variant the influencer's coupon was issued under.
                variant_id = order.code.variant_id
            result = commission_compute(
                lines=_engine_lines(lines, order=order),
                rules=inputs.rules,
                tier=inputs.tier,
                eligibility=inputs.eligibility,
                order_cap_cents=inputs.order_cap_cents,
            )
            computed = result.by_line()
        rejected = next((c for c in mine.values() if c and c.fraud_review == FraudReview.REJECTED), None)
        new_ids = iter(ids_reserve(Commission, sum(1 for c in mine.values() if c is None)))
        for line in lines:
            wanted.add((line.pk, influencer_id))
            commission = mine[line.pk]
            calc = computed.get(str(line.item_index))
            if commission is None:
                assert calc is not None
                commission = Commission(
                    pk=next(new_ids),
                    brand_id=order.brand_id,
                    order=order,
                    line=line,
                    influencer_id=influencer_id,
                    campaign_id=order.campaign_id,
                    variant_id=variant_id,
                    code_id=order.code_id,
                    quantity=line.quantity,
                    base_cents=calc.base_cents,
                    amount_cents=calc.amount_cents,
                    estimated_at=now,
                )
                _apply_calc(commission, calc)
                if rejected is not None:
                    # A line that appears after the order was rejected as fraud is rejected too.
                    commission.fraud_review = FraudReview.REJECTED
                    commission.fraud_reviewed_at = rejected.fraud_reviewed_at
                    commission.fraud_reason = rejected.fraud_reason
                counts["created"] += 1
            elif (
                calc is not None
                and commission.ledger_stage != LedgerStage.CONFIRMED
                and commission.fraud_review != FraudReview.REJECTED
            ):
                # Until confirmation the estimate follows the rules and the order as they are now.
                commission.quantity = line.quantity
                commission.base_cents = calc.base_cents
                commission.amount_cents = calc.amount_cents
                commission.variant_id = variant_id
                _apply_calc(commission, calc)
            _share_related(commission, order=order, campaign=campaign)
            counts["postings"] += _commission_converge(
                commission=commission,
                line=line,
                order_stage=stage,
                order=order,
                now=now,
                counts=counts,
                holds=holds,
                accruals=accruals,
                referrals=referrals,
            )

    # Commissions of an influencer the order is no longer attributed to: take them back.
    for key, commission in existing.items():
        if key in wanted:
            continue
        _share_related(commission, order=order, campaign=campaign)
        counts["postings"] += _commission_converge(
            commission=commission,
            line=None,
            order_stage=State.REVERSED,
            order=order,
            now=now,
            counts=counts,
            holds=holds,
            accruals=accruals,
            referrals=referrals,
        )
    return counts


def _share_related(commission: Commission, *, order: "Order", campaign: Any) -> None:
    """Hand the commission the brand, campaign and influencer the order sync already loaded,
    so the ledger postings do not select them again for every line."""
    if commission.brand_id == order.brand_id and "brand" in order._state.fields_cache:
        commission.brand = order.brand
    if campaign is not None and commission.campaign_id == campaign.pk:
        commission.campaign = campaign
    if commission.influencer_id == order.influencer_id and order.influencer_id is not None:
        influencer = order.influencer  # one query per order, cached on the order
        if influencer is not None:
            commission.influencer = influencer


def _fraud_hold_active(commission: Commission, order: "Order", holds: dict[int, bool]) -> bool:
    """Whether tracking holds this commission (an open or rejected flag on its order, or an
    open influencer-level flag). The answer depends only on (brand, influencer, order), so it
    is asked once per influencer of the order; `holds` caches it for one sync."""
    if commission.influencer_id not in holds:
        holds[commission.influencer_id] = fraud_hold_active_for(
            brand_id=commission.brand_id, influencer_id=commission.influencer_id, order_ref=order.vtex_order_id
        )
    return holds[commission.influencer_id]


def _apply_calc(commission: Commission, calc: Any) -> None:
    commission.rate = calc.rate
    commission.rule_id = calc.rule_id
    commission.rule_name = calc.rule_name[:160]
    commission.explanation = {
        "text": calc.explanation,
        "eligible": calc.eligible,
        "base_cents": calc.base_cents,
        "rule_id": calc.rule_id,
        "rule": calc.rule_name,
        "kind": str(calc.kind) if calc.kind else None,
        "rate": str(calc.rate) if calc.rate is not None else None,
        "tier_id": calc.tier_id,
        "uncapped_cents": calc.uncapped_cents,
        "caps": [str(cap) for cap in calc.caps_applied],
        "base_rule": "line total after item discounts (priceDefinition.total), no shipping or tax",
    }


def _commission_converge(
    *,
    commission: Commission,
    line: "OrderLine | None",
    order_stage: str,
    order: "Order",
    now: datetime,
    counts: dict[str, int],
    holds: dict[int, bool],
    accruals: _Accruals | None,
    referrals: ReferralCache | None = None,
) -> int:
    """Set state and reversed amount from the order, save if changed, post the ledger delta.

    Fraud: a REJECTED commission is final (reversed when rejected; nothing here touches it
    again). A HELD one follows the order but is posted at most as *estimated*: its
    confirmation waits for the release, so nothing of it reaches *hold* or the cutoff."""
    if commission.fraud_review == FraudReview.REJECTED:
        if commission._state.adding:
            commission.state = State.REVERSED
            commission.units_reversed = commission.quantity
            commission.reversed_cents = commission.amount_cents
            commission.reversed_at = now
            commission.save(force_insert=True)
        return 0
    before = (
        commission.state,
        commission.reversed_cents,
        commission.amount_cents,
        commission.ledger_posted_cents,
        commission.fraud_review,
    )
    # A new commission is inserted once, complete, at the end, with the id reserved for it
    # (core.ids); without one (SQLite) it is inserted now: its ledger reference is its id.
    is_new = commission._state.adding
    if is_new and commission.pk is None:
        commission.save(force_insert=True)
    if _fraud_hold_active(commission, order, holds):
        commission.fraud_review = FraudReview.HELD
    elif commission.fraud_review == FraudReview.HELD:
        # Every flag that held it was released (normally through commission_fraud_release).
        commission.fraud_review = FraudReview.RELEASED
    held = commission.fraud_review == FraudReview.HELD
    confirmed = (order_stage == State.CONFIRMED and not held) or commission.ledger_stage == LedgerStage.CONFIRMED
    if order_stage == State.REVERSED or line is None:
        units = commission.quantity
    else:
        units = min(commission.quantity, line.units_taken_back)
    commission.units_reversed = units
    commission.reversed_cents = _units_reversed_cents(commission.amount_cents, commission.quantity, units)
    if order_stage == State.REVERSED or (commission.quantity and units >= commission.quantity):
        state = State.REVERSED
    elif units > 0:
        state = State.PARTIALLY_REVERSED
    else:
        state = State.CONFIRMED if confirmed else State.ESTIMATED
    if confirmed and commission.confirmed_at is None and order_stage != State.REVERSED:
        commission.confirmed_at = order.invoiced_at or now
    if state == State.REVERSED and commission.reversed_at is None:
        commission.reversed_at = now
    commission.state = state
    postings = commission_ledger_sync(
        commission=commission, order=order, confirmed=confirmed, now=now, accruals=accruals
    )
    after = (
        commission.state,
        commission.reversed_cents,
        commission.amount_cents,
        commission.ledger_posted_cents,
        commission.fraud_review,
    )
    if is_new or after != before or postings:
        adding = commission._state.adding
        if not _save_deferred(commission, referrals):
            commission.save(force_insert=adding)
        if is_new or before[0] != commission.state:
            _publish_state(commission, order=order)
        if not is_new:
            counts["changed"] += 1
        if not is_new and before[0] != commission.state:
            audit_record(
                action="commission.state_changed",
                target=commission,
                brand_id=commission.brand_id,
                before={"state": before[0], "reversed_cents": before[1]},
                after={
                    "state": commission.state,
                    "reversed_cents": commission.reversed_cents,
                    "order_status": order.status,
                },
            )
        if before[4] != commission.fraud_review:
            audit_record(
                action="commission.fraud_held" if held else "commission.fraud_hold_lifted",
                target=commission,
                brand_id=commission.brand_id,
                before={"fraud_review": before[4]},
                after={"fraud_review": commission.fraud_review, "order_status": order.status},
            )
        # The referrer's share follows this commission's ledger position (docs/referrals.md).
        postings += referral_rewards_sync(
            commission=commission, order=order, now=now, accruals=accruals, cache=referrals
        )
    return postings


def _save_deferred(commission: Commission, referrals: ReferralCache | None) -> bool:
    """Inside a batch (core.batching), a new commission (its id reserved) is inserted, and a
    changed one updated (`_updates_write`, one UPDATE), with the batch's others when it ends:
    nothing in the batch reads it back from the table (the ledger knows it by reference, its
    history and notification rows are deferred too, and a referral commission's foreign key to
    it is checked at commit). The one reader is the referral bonus, which sums the referred
    influencer's commissions: a commission of an influencer with a referral in the campaign is
    saved at once. False: save it now."""
    if commission.pk is None or batching.current() is None or referrals is None:
        return False
    if not referral_known_absent(
        brand_id=commission.brand_id,
        influencer_id=commission.influencer_id,
        campaign_id=commission.campaign_id,
        cache=referrals,
    ):
        return False
    created = commission._state.adding
    for field in Commission._meta.concrete_fields:
        if getattr(field, "auto_now", False) or (created and getattr(field, "auto_now_add", False)):
            field.pre_save(commission, created)  # the timestamps save() sets; the history row copies them
    if created:
        batching.defer_insert(commission)
        commission._state.adding = False
        commission._state.db = router.db_for_write(Commission)
    else:
        batching.defer_collect("commissions.updates", commission, _updates_write)
    # What save() would tell: simple-history records the change (deferred in a batch too).
    post_save.send(
        sender=Commission,
        instance=commission,
        created=created,
        update_fields=None,
        raw=False,
        using=commission._state.db,
    )
    return True


def _updates_write(commissions: list[Commission]) -> None:
    """The changed commissions of a batch, every column as save() writes it, in one UPDATE;
    a commission changed twice in the batch (not done today: an order is once in a batch) is
    written once, as it is last."""
    latest = list({commission.pk: commission for commission in commissions}.values())
    rows_update(latest, _UPDATED_FIELDS)


_UPDATED_FIELDS = [field.name for field in Commission._meta.concrete_fields if not field.primary_key]


_STATE_EVENTS = {
    State.ESTIMATED: "commission.estimated",
    State.CONFIRMED: "commission.confirmed",
    State.PARTIALLY_REVERSED: "commission.reversed",
    State.REVERSED: "commission.reversed",
}


def _publish_state(commission: Commission, *, order: "Order") -> None:
    """Tell subscribers (outgoing webhooks) the commission's new state, in its transaction."""
    events.publish(
        _STATE_EVENTS[State(commission.state)],
        brand_id=commission.brand_id,
        data={
            "id": commission.pk,
            "order_id": order.vtex_order_id,
            "influencer_id": commission.influencer_id,
            "campaign_id": commission.campaign_id,
            "state": commission.state,
            # Commission amounts are brand money, whatever currency the order was in.
            "currency": commission.brand.currency,
            "amount_cents": commission.amount_cents,
            "reversed_cents": commission.reversed_cents,
            "fraud_review": commission.fraud_review,
        },
    )
