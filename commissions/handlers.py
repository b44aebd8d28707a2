"""What commissions does when a lower floor publishes an event (`core.events`), registered in
`CommissionsConfig.ready()`: referrals recorded or changed by affiliates, payout data changed,
fraud flags resolved by tracking. Thin: each handler calls one service (docs/referrals.md,
docs/commissions.md)."""

from functools import partial
from typing import Any

from django.db import transaction

from affiliates.referrals import referral_recheck
from commissions.referral_fraud import referral_flag_if_suspicious, referral_ring_scan
from commissions.referrals import referral_rewards_void
from commissions.services.fraud_review import commission_fraud_reject, commission_fraud_release


def on_referral_recorded(*, brand_id: int, data: dict[str, Any], **_payload: Any) -> None:
    referral_flag_if_suspicious(referral_id=data["referral_id"])
    referral_ring_scan(brand_id=brand_id, referrer_id=data["referrer_id"])


def on_referral_changed(*, brand_id: int, data: dict[str, Any], **_payload: Any) -> None:
    """A referral stopped earning: take its rewards back; flag it when it is a self-referral."""
    referral_rewards_void(referral_id=data["referral_id"])
    referral_flag_if_suspicious(referral_id=data["referral_id"])


def on_payout_account_changed(*, influencer: Any, actor: Any = None, **_payload: Any) -> None:
    """New payout data may reveal a self-referral (the same account on both sides) or a ring."""
    for referral in referral_recheck(influencer=influencer):
        referral_ring_scan(brand_id=referral.brand_id, referrer_id=referral.referrer_id)


def on_fraud_flag_resolved(*, brand_id: int, data: dict[str, Any], actor: Any = None, **_payload: Any) -> None:
    """A manager released or rejected a fraud flag: after the decision commits, release the
    commissions it held or reverse them (both idempotent, brand-scoped, audited). After commit
    on purpose: the hold check reads the flag's committed status, and a rolled-back decision
    moves no money."""
    service = commission_fraud_release if data["decision"] == "released" else commission_fraud_reject
    transaction.on_commit(
        partial(service, brand_id=brand_id, order_ref=data["subject_ref"], reason=data["reason"], actor=actor)
    )
