"""Manual adjustments: a manager adds or takes back an amount of a commission, with a reason;
audited and posted to the ledger at once at the commission's stage."""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from commissions.locks import commission_lock
from commissions.models import Commission, CommissionAdjustment, LedgerStage
from commissions.referrals import ReferralCache, referral_prelock, referral_rewards_sync
from commissions.services.ledger import commission_ledger_sync
from commissions.services.stage import order_commission_stage
from core.errors import ApplicationError, NotFound
from core.events import facts_changed
from orders.locks import order_lock

State = Commission.State


class CommissionAdjustmentInvalid(ApplicationError):
    default_code = "adjustment_invalid"


def commission_adjust(*, commission_id: int, amount_cents: int, reason: str, actor: Any = None) -> CommissionAdjustment:
    """Add (positive) or take back (negative) an amount of a commission, with a reason. Audited;
    posted to the ledger at once at the commission's stage."""

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
        order = order_lock(pk=order_id)
        commission = commission_lock(pk=commission_id)
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
        confirmed = commission.ledger_stage == LedgerStage.CONFIRMED or (
            order_commission_stage(order) == State.CONFIRMED and not commission.is_fraud_held
        )
        now = timezone.now()
        referrals = ReferralCache()
        referral_prelock(order=order, influencer_ids={commission.influencer_id}, cache=referrals)
        commission_ledger_sync(commission=commission, order=order, confirmed=confirmed, now=now)
        commission.save()
        referral_rewards_sync(commission=commission, order=order, now=now, cache=referrals)

        facts_changed(points=[(commission.brand_id, order.created_in_vtex_at)])
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
