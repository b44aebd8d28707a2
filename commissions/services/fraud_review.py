"""Fraud review: tracking's review queue calls these after a flag is resolved. A release lifts
the hold and posts what the order implies; a rejection reverses the commissions for good."""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from commissions.locks import commissions_lock
from commissions.models import Commission, FraudReview, LedgerStage
from commissions.referral_fraud import is_referral_flag_ref, referral_flags_decided
from commissions.referrals import ReferralCache, referral_prelock, referral_rewards_sync
from commissions.services.ledger import commission_ledger_sync
from commissions.services.order_sync import commissions_sync_for_order
from core.errors import ApplicationError
from core.events import facts_changed
from orders.locks import order_find_lock
from orders.models import Order

State = Commission.State


class FraudDecisionInvalid(ApplicationError):
    default_code = "fraud_decision_invalid"


def _fraud_decision_lock(*, brand_id: int, order_ref: str, reason: str) -> tuple["Order | None", list[Commission]]:
    """Lock the order (brand-scoped) and then its commissions, in the order sync's lock order.
    Call inside a transaction. (None, []) when the brand has no such order: influencer-level
    flags carry a period key, not an order id, and concern no commission here."""

    if not (reason or "").strip():
        raise FraudDecisionInvalid(_("Say why the fraud flag was decided."), code="reason_required")
    order = order_find_lock(brand_id=brand_id, vtex_order_id=(order_ref or "")[:64])
    if order is None:
        return None, []
    commissions = commissions_lock(
        queryset=Commission.objects.filter(order=order)
        .select_related("brand", "influencer", "campaign")
        .prefetch_related("adjustments")
    )
    return order, commissions


def _referral_flag_decided(*, brand_id: int, subject_ref: str, rejected: bool, reason: str, actor: Any) -> None:
    """A referral flag (self-referral or ring) concerns no order: it blocks or restores
    referrals, whose rewards follow (commissions.referral_fraud)."""
    if not (reason or "").strip():
        raise FraudDecisionInvalid(_("Say why the fraud flag was decided."), code="reason_required")
    with transaction.atomic():
        referral_flags_decided(
            brand_id=brand_id, subject_ref=subject_ref, rejected=rejected, reason=reason.strip(), actor=actor
        )


def commission_fraud_release(*, brand_id: int, order_ref: str, reason: str, actor: Any = None) -> list[Commission]:
    """A manager released a fraud flag of the order: lift the hold of its commissions and post
    what the order's current state implies (its confirmation, when VTEX already invoiced it).

    Brand-scoped, audited, idempotent; a commission another open flag still holds stays held,
    and a rejected one stays rejected. Returns the commissions released now."""

    now = timezone.now()
    if is_referral_flag_ref(order_ref or ""):
        _referral_flag_decided(brand_id=brand_id, subject_ref=order_ref, rejected=False, reason=reason, actor=actor)
        return []
    with transaction.atomic():
        order, commissions = _fraud_decision_lock(brand_id=brand_id, order_ref=order_ref, reason=reason)
        if order is None:
            return []
        held = [c for c in commissions if c.fraud_review == FraudReview.HELD]
        if not held:
            return []
        for commission in held:
            commission.fraud_review = FraudReview.RELEASED
            commission.fraud_reviewed_at = now
            commission.fraud_reason = reason.strip()[:500]
            commission.save(update_fields=["fraud_review", "fraud_reviewed_at", "fraud_reason", "updated_at"])
        # Re-derives the hold from tracking's flags (another open flag puts it back on hold)
        # and posts the difference to the ledger, exactly as an order sync would.
        commissions_sync_for_order(order=order, now=now)
        released = list(
            Commission.objects.filter(pk__in=[c.pk for c in held], fraud_review=FraudReview.RELEASED).order_by("pk")
        )
        for commission in released:
            audit_record(
                action="commission.fraud_released",
                target=commission,
                actor=actor,
                brand_id=commission.brand_id,
                before={"fraud_review": FraudReview.HELD},
                after={
                    "fraud_review": commission.fraud_review,
                    "state": commission.state,
                    "ledger_stage": commission.ledger_stage,
                    "reason": reason,
                },
            )
        if released:
            facts_changed(points=[(order.brand_id, order.created_in_vtex_at)])
    return released


def commission_fraud_reject(*, brand_id: int, order_ref: str, reason: str, actor: Any = None) -> list[Commission]:
    """A manager rejected a fraud flag of the order: reverse its commissions through the ledger
    (whatever was posted, a clawback once released) and mark them rejected, which is final: a
    later order sync never posts them again. Brand-scoped, audited, idempotent. Returns the
    commissions rejected now."""

    now = timezone.now()
    rejected: list[Commission] = []
    if is_referral_flag_ref(order_ref or ""):
        _referral_flag_decided(brand_id=brand_id, subject_ref=order_ref, rejected=True, reason=reason, actor=actor)
        return []
    with transaction.atomic():
        order, commissions = _fraud_decision_lock(brand_id=brand_id, order_ref=order_ref, reason=reason)
        if order is None:
            return []
        referrals = ReferralCache()
        referral_prelock(order=order, influencer_ids={c.influencer_id for c in commissions}, cache=referrals)
        for commission in commissions:
            if commission.fraud_review == FraudReview.REJECTED:
                continue
            before = {
                "fraud_review": commission.fraud_review,
                "state": commission.state,
                "ledger_posted_cents": commission.ledger_posted_cents,
            }
            commission.fraud_review = FraudReview.REJECTED
            commission.fraud_reviewed_at = now
            commission.fraud_reason = reason.strip()[:500]
            commission.state = State.REVERSED
            commission.units_reversed = commission.quantity
            commission.reversed_cents = commission.amount_cents
            commission.reversed_at = commission.reversed_at or now
            commission_ledger_sync(
                commission=commission,
                order=order,
                confirmed=commission.ledger_stage == LedgerStage.CONFIRMED,
                now=now,
                reversal_label="fraud",
            )
            commission.save()
            referral_rewards_sync(commission=commission, order=order, now=now, cache=referrals)
            audit_record(
                action="commission.fraud_rejected",
                target=commission,
                actor=actor,
                brand_id=commission.brand_id,
                before=before,
                after={
                    "fraud_review": commission.fraud_review,
                    "state": commission.state,
                    "ledger_posted_cents": commission.ledger_posted_cents,
                    "reason": reason,
                },
            )
            rejected.append(commission)
        if rejected:
            facts_changed(points=[(order.brand_id, order.created_in_vtex_at)])
    return rejected
