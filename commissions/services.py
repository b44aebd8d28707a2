"""Commission records kept in step with the VTEX order, and their ledger postings.

`commissions_sync_for_order` is called by orders.services while it holds the order's row lock,
after the order and its lines were reconciled to VTEX. It computes (engine), records (one row
per line and influencer) and posts to the ledger only the difference from what this record
already posted, under stable references, so any number of syncs of the same VTEX state post
exactly once. The states and the base rule are in docs/orders.md.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from commissions.engine import OrderLineInput, commission_compute
from commissions.models import Commission, CommissionAdjustment, LedgerStage
from core.errors import ApplicationError, NotFound
from core.money import round_minor
from payments.services import ledger_commission_accrue, ledger_commission_confirm, ledger_commission_reverse

if TYPE_CHECKING:
    from orders.models import Order, OrderLine

State = Commission.State
CANCELED_STATUSES = frozenset({"canceled"})
CONFIRMED_STATUSES = frozenset({"invoiced"})


class CommissionAdjustmentInvalid(ApplicationError):
    default_code = "adjustment_invalid"


def order_commission_stage(order: "Order") -> str:
    """What the order's VTEX status means for its commissions: estimated, confirmed or reversed.
    `cancel` (in progress) and `request-cancel` change nothing until VTEX says `canceled`."""
    if order.status in CANCELED_STATUSES:
        return State.REVERSED
    if order.status in CONFIRMED_STATUSES:
        return State.CONFIRMED
    return State.ESTIMATED


def _units_reversed_cents(amount: int, quantity: int, units: int) -> int:
    """The part of a line's commission that `units` of its `quantity` carry. All units give the
    whole amount exactly; a part is rounded once, by core.money.round_minor."""
    if quantity <= 0 or units <= 0:
        return 0
    if units >= quantity:
        return amount
    return min(amount, round_minor(Decimal(amount) * units / quantity))


def _engine_lines(lines: Sequence["OrderLine"]) -> list[OrderLineInput]:
    return [
        OrderLineInput(
            line_id=str(line.item_index),
            sku_id=line.sku_id,
            quantity=line.quantity,
            base_cents=max(0, line.total_cents),
            product_id=line.product_id,
            category_ids=frozenset(line.category_ids or []),
            brand_id=line.vtex_brand_id,
            collection_ids=frozenset(line.collection_ids or []),
        )
        for line in lines
    ]


def commissions_sync_for_order(*, order: "Order", now: datetime | None = None) -> dict[str, int]:
    """Make the order's commissions match the order as VTEX reports it now.

    Precondition: called inside a transaction holding `select_for_update` on the order, after
    its lines and attribution were written. Returns counts for logs and benchmarks."""
    from campaigns.models import Campaign
    from campaigns.selectors import campaign_engine_inputs

    now = now or timezone.now()
    stage = order_commission_stage(order)
    lines = [line for line in order.lines.all() if not line.is_gift]
    existing = {
        (c.line_id, c.influencer_id): c
        for c in Commission.objects.select_for_update()
        .filter(order=order)
        .order_by("pk")
        .prefetch_related("adjustments")
    }
    counts = {"created": 0, "changed": 0, "postings": 0}
    wanted: set[tuple[int, int]] = set()

    if order.influencer_id is not None and order.campaign_id is not None and lines:
        influencer_id: int = order.influencer_id
        mine = {line.pk: existing.get((line.pk, influencer_id)) for line in lines}
        frozen = all(c is not None and c.ledger_stage == LedgerStage.CONFIRMED for c in mine.values())
        computed: dict[str, Any] = {}
        variant_id = None
        if not frozen:
            campaign = Campaign.objects.get(pk=order.campaign_id)
            inputs = campaign_engine_inputs(campaign=campaign, influencer_id=influencer_id)
            variant_id = inputs.variant_id
            if order.code is not None and order.code.variant_id is not None:
                # The code carries the A/B variant the influencer's coupon was issued under.
                variant_id = order.code.variant_id
            result = commission_compute(
                lines=_engine_lines(lines),
                rules=inputs.rules,
                tier=inputs.tier,
                eligibility=inputs.eligibility,
                order_cap_cents=inputs.order_cap_cents,
            )
            computed = result.by_line()
        for line in lines:
            wanted.add((line.pk, influencer_id))
            commission = mine[line.pk]
            calc = computed.get(str(line.item_index))
            if commission is None:
                assert calc is not None
                commission = Commission(
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
                counts["created"] += 1
            elif calc is not None and commission.ledger_stage != LedgerStage.CONFIRMED:
                # Until confirmation the estimate follows the rules and the order as they are now.
                commission.quantity = line.quantity
                commission.base_cents = calc.base_cents
                commission.amount_cents = calc.amount_cents
                commission.variant_id = variant_id
                _apply_calc(commission, calc)
            counts["postings"] += _commission_converge(
                commission=commission, line=line, order_stage=stage, order=order, now=now, counts=counts
            )

    # Commissions of an influencer the order is no longer attributed to: take them back.
    for key, commission in existing.items():
        if key in wanted:
            continue
        counts["postings"] += _commission_converge(
            commission=commission, line=None, order_stage=State.REVERSED, order=order, now=now, counts=counts
        )
    return counts


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
) -> int:
    """Set state and reversed amount from the order, save if changed, post the ledger delta."""
    before = (commission.state, commission.reversed_cents, commission.amount_cents, commission.ledger_posted_cents)
    confirmed = order_stage == State.CONFIRMED or commission.ledger_stage == LedgerStage.CONFIRMED
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
    is_new = commission.pk is None
    if is_new:
        commission.save(force_insert=True)
    postings = _ledger_sync(commission=commission, order=order, confirmed=confirmed, now=now)
    after = (commission.state, commission.reversed_cents, commission.amount_cents, commission.ledger_posted_cents)
    if is_new or after != before or postings:
        commission.save()
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
    return postings


def _ledger_sync(*, commission: Commission, order: "Order", confirmed: bool, now: datetime) -> int:
    """Post to the ledger what separates it from this commission (and its positive adjustments)."""
    target = LedgerStage.CONFIRMED if confirmed else LedgerStage.ESTIMATED
    reversed_all = commission.state == State.REVERSED and order.status in CANCELED_STATUSES
    adjustments = list(commission.adjustments.all()) if commission.pk and commission.adjustment_cents else []
    negative = sum(adj.amount_cents for adj in adjustments if adj.amount_cents < 0)
    desired = 0 if reversed_all else max(0, commission.amount_cents - commission.reversed_cents + negative)
    hold_until = (order.invoiced_at or now) + timedelta(days=commission.campaign.hold_days)
    postings = _ledger_converge(
        tracker=commission,
        commission=commission,
        ref=commission.ledger_ref,
        desired=desired,
        target=target,
        hold_until=hold_until,
        now=now,
    )
    for adj in adjustments:
        if adj.amount_cents <= 0:
            continue
        n = _ledger_converge(
            tracker=adj,
            commission=commission,
            ref=adj.ledger_ref,
            desired=0 if commission.state == State.REVERSED else adj.amount_cents,
            target=target,
            hold_until=hold_until,
            now=now,
        )
        if n:
            adj.save(update_fields=["ledger_stage", "ledger_posted_cents", "ledger_reversal_seq"])
        postings += n
    return postings


def _ledger_converge(
    *,
    tracker: Commission | CommissionAdjustment,
    commission: Commission,
    ref: str,
    desired: int,
    target: str,
    hold_until: datetime,
    now: datetime,
) -> int:
    """Move the ledger position `ref` from what `tracker` says was posted to `desired` at stage
    `target`. Accruals and confirmations are idempotent by `ref`, reversals by (`ref`, r<n>);
    the counters on `tracker` are saved in the same transaction as the postings."""
    brand = commission.brand
    influencer = commission.influencer
    posted = tracker.ledger_posted_cents
    stage = tracker.ledger_stage
    if stage == LedgerStage.NONE:
        if desired <= 0:
            return 0
        if target == LedgerStage.CONFIRMED:
            ledger_commission_confirm(
                brand=brand, influencer=influencer, commission_ref=ref, amount_cents=desired, hold_until=hold_until
            )
        else:
            ledger_commission_accrue(brand=brand, influencer=influencer, commission_ref=ref, amount_cents=desired)
        tracker.ledger_stage = target
        tracker.ledger_posted_cents = desired
        return 1
    if stage == LedgerStage.ESTIMATED and target == LedgerStage.CONFIRMED and desired > 0:
        # The confirmation settles any difference between the estimate and the final amount.
        ledger_commission_confirm(
            brand=brand, influencer=influencer, commission_ref=ref, amount_cents=desired, hold_until=hold_until
        )
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
            reversal_ref=f"r{tracker.ledger_reversal_seq}",
            amount_cents=posted - desired,
        )
        tracker.ledger_posted_cents = desired
        return 1
    # desired > posted: an estimate only grows at confirmation (which settles it); a confirmed
    # commission only shrinks (returns), and manual increases have their own references.
    return 0


def commission_adjust(*, commission_id: int, amount_cents: int, reason: str, actor: Any = None) -> CommissionAdjustment:
    """Add (positive) or take back (negative) an amount of a commission, with a reason. Audited;
    posted to the ledger at once at the commission's stage."""
    from orders.models import Order

    reason = (reason or "").strip()
    if not reason:
        raise CommissionAdjustmentInvalid(_("Say why the commission is adjusted."), code="reason_required")
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents == 0:
        raise CommissionAdjustmentInvalid(_("Enter a non-zero whole number of cents."), code="amount_invalid")
    with transaction.atomic():
        order_id = Commission.objects.filter(pk=commission_id).values_list("order_id", flat=True).first()
        if order_id is None:
            raise NotFound(_("This commission does not exist."))
        # Same lock order as the order sync: order row, then its commissions.
        order = Order.objects.select_for_update().get(pk=order_id)
        commission = (
            Commission.objects.select_for_update()
            .select_related("brand", "influencer", "campaign")
            .get(pk=commission_id)
        )
        if commission.state == State.REVERSED:
            raise CommissionAdjustmentInvalid(
                _("A reversed commission cannot be adjusted; its order was canceled or fully returned."),
                code="commission_reversed",
            )
        net_after = commission.amount_cents - commission.reversed_cents + commission.adjustment_cents + amount_cents
        if net_after < 0:
            raise CommissionAdjustmentInvalid(
                _("The adjustment would make the commission negative (it is %(net)s cents now).")
                % {"net": commission.net_cents},
                code="adjustment_too_large",
            )
        before = {"adjustment_cents": commission.adjustment_cents, "net_cents": commission.net_cents}
        adjustment = CommissionAdjustment.objects.create(
            commission=commission,
            amount_cents=amount_cents,
            reason=reason[:500],
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        commission.adjustment_cents += amount_cents
        confirmed = commission.ledger_stage == LedgerStage.CONFIRMED or order_commission_stage(order) == State.CONFIRMED
        _ledger_sync(commission=commission, order=order, confirmed=confirmed, now=timezone.now())
        commission.save()
        from reports.rollups import rollup_refresh_on_commit

        rollup_refresh_on_commit(points=[(commission.brand_id, order.created_in_vtex_at)])
        audit_record(
            action="commission.adjusted",
            target=commission,
            actor=actor,
            brand_id=commission.brand_id,
            before=before,
            after={
                "adjustment_cents": commission.adjustment_cents,
                "net_cents": commission.net_cents,
                "amount_cents": amount_cents,
                "reason": reason,
            },
        )
    return adjustment
