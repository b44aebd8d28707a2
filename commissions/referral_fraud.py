"""Fraud rules for referrals (docs/referrals.md, "Fraud"): a self-referral, and a referral ring
(one person recruiting "several" influencers who share a payout account or a browser). Findings
are tracking's fraud flags (rule `referral_ring`), reviewed in the same queue as the others:
releasing restores nothing by itself, rejecting blocks the referrals concerned
(`referral_flags_decided`, called by `commission_fraud_release` / `commission_fraud_reject`)."""

from collections import defaultdict
from typing import Any

from affiliates.locks import referrals_lock
from affiliates.models import PayoutAccount, Referral
from affiliates.referrals import payout_fingerprint, referral_status_set
from tracking.fraud import fraud_flag_record
from tracking.models import FraudFlag

Rule, Subject = FraudFlag.Rule, FraudFlag.Subject
REFERRAL_PREFIX = "referral:"
RING_PREFIX = "ring:"


def referral_flag_if_suspicious(*, referral_id: int) -> FraudFlag | None:
    """Flag a self-referral for review (once per referral)."""
    referral = Referral.objects.get(pk=referral_id)
    if referral.status != Referral.Status.SELF:
        return None
    return fraud_flag_record(
        brand_id=referral.brand_id,
        influencer_id=referral.referrer_id,
        rule=Rule.REFERRAL_RING,
        subject=Subject.INFLUENCER,
        subject_ref=f"{REFERRAL_PREFIX}{referral.pk}",
        evidence={
            "kind": "self_referral",
            "signals": list(referral.self_signals),
            "referrer_id": referral.referrer_id,
            "referred_id": referral.referred_id,
        },
    )


def referral_ring_scan(*, brand_id: int, referrer_id: int) -> FraudFlag | None:
    """Influencers recruited by the same referrer who share a payout account or a browser are
    probably one person collecting rewards several times: flag the referrer."""
    referrals = list(Referral.objects.filter(brand_id=brand_id, referrer_id=referrer_id).order_by("pk"))
    if len(referrals) < 2:
        return None
    accounts = {
        a.influencer_id: a for a in PayoutAccount.objects.filter(influencer_id__in=[r.referred_id for r in referrals])
    }
    by_payout: dict[str, list[int]] = defaultdict(list)
    by_device: dict[str, list[int]] = defaultdict(list)
    for referral in referrals:
        fingerprint = payout_fingerprint(accounts.get(referral.referred_id))
        if fingerprint:
            by_payout[fingerprint].append(referral.referred_id)
        if referral.device_hash:
            by_device[referral.device_hash].append(referral.referred_id)
    shared_payout = sorted({i for ids in by_payout.values() if len(ids) > 1 for i in ids})
    shared_device = sorted({i for ids in by_device.values() if len(ids) > 1 for i in ids})
    if not shared_payout and not shared_device:
        return None
    return fraud_flag_record(
        brand_id=brand_id,
        influencer_id=referrer_id,
        rule=Rule.REFERRAL_RING,
        subject=Subject.INFLUENCER,
        subject_ref=f"{RING_PREFIX}{referrer_id}",
        evidence={
            "kind": "ring",
            "referrer_id": referrer_id,
            "shared_payout_account": shared_payout,
            "shared_device": shared_device,
        },
    )


def referral_flags_decided(*, brand_id: int, subject_ref: str, rejected: bool, reason: str, actor: Any) -> int:
    """A manager decided a referral flag. Rejected (fraud confirmed): the referral, or every
    referral of the ring's referrer, is blocked and its rewards are taken back. Released: a
    self-referral is restored from then on (what was taken back stays taken back). Call inside a
    transaction. Returns how many referrals changed."""
    queryset = referrals_lock(Referral.objects.filter(brand_id=brand_id))
    if subject_ref.startswith(REFERRAL_PREFIX) and subject_ref[len(REFERRAL_PREFIX) :].isdigit():
        queryset = queryset.filter(pk=int(subject_ref[len(REFERRAL_PREFIX) :]))
    elif subject_ref.startswith(RING_PREFIX) and subject_ref[len(RING_PREFIX) :].isdigit():
        if not rejected:
            return 0
        queryset = queryset.filter(referrer_id=int(subject_ref[len(RING_PREFIX) :]))
    else:
        return 0
    changed = 0
    for referral in queryset:
        status = Referral.Status.BLOCKED if rejected else Referral.Status.ACTIVE
        if referral.status == status:
            continue
        referral_status_set(referral=referral, status=status, reason=reason, actor=actor)
        changed += 1
    return changed


def is_referral_flag_ref(subject_ref: str) -> bool:
    return subject_ref.startswith((REFERRAL_PREFIX, RING_PREFIX))
