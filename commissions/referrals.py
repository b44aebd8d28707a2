"""Referral commissions: what a referrer earns from the influencers they recruited
(docs/referrals.md). Each reward is a ledger position of its own (`referral:<pk>`) that follows
its source commission exactly: estimated while the source is estimated (or held by fraud
review), confirmed with it at the source's final amount, reversed or clawed back with it.

Called by the order sync (`commissions.services.order_sync`) for every commission that changed, under the
order's row lock, so two syncs of one order cannot both post; the rows' ledger counters are saved
in the same transaction as the postings (`commissions.postings.ledger_converge`). The second
level's cap and the bonus are computed under the recruited influencer's referral row lock, so
two orders of the same person synced at once cannot both fill the cap.

Affiliates tells us about referrals through core.events (`referral.recorded`,
`referral.changed`); payout data changes (`payout_account.changed`) trigger a self-referral check.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from affiliates.locks import referral_lock
from affiliates.models import Influencer, Referral
from campaigns.models import Campaign, ReferralProgram
from commissions.locks import referral_bonus_lock, referral_commissions_lock
from commissions.models import Commission, FraudReview, LedgerStage, ReferralCommission
from commissions.postings import Accruals, ledger_accounts_prelock, ledger_converge
from core import batching
from core.money import round_minor
from orders.locks import orders_lock
from orders.models import Order

Kind = ReferralCommission.Kind


@dataclass
class ReferralCache:
    """What one order sync already read: referrals, programs, parents, influencers."""

    referrals: dict[tuple[int, int, int], Referral | None] = field(default_factory=dict)
    programs: dict[int, ReferralProgram | None] = field(default_factory=dict)
    parents: dict[int, Referral | None] = field(default_factory=dict)
    influencers: dict[int, Influencer] = field(default_factory=dict)
    campaigns: dict[int, Campaign] = field(default_factory=dict)


def _referral_of(*, brand_id: int, influencer_id: int, campaign_id: int, cache: ReferralCache) -> Referral | None:
    key = (brand_id, influencer_id, campaign_id)
    if key not in cache.referrals:
        # Referrals are recorded by affiliates, never by an order sync: a batch reads each once.
        cache.referrals[key] = batching.memo(
            ("commissions.referral_of", *key),
            lambda: Referral.objects.filter(
                brand_id=brand_id, referred_id=influencer_id, campaign_id=campaign_id
            ).first(),
        )
    return cache.referrals[key]


def referral_known_absent(*, brand_id: int, influencer_id: int, campaign_id: int | None, cache: ReferralCache) -> bool:
    """Whether this sync already found that the influencer has no referral in the campaign."""
    key = (brand_id, influencer_id, campaign_id)
    return campaign_id is not None and key in cache.referrals and cache.referrals[key] is None


def _program(campaign_id: int, cache: ReferralCache) -> ReferralProgram | None:
    if campaign_id not in cache.programs:
        cache.programs[campaign_id] = ReferralProgram.objects.filter(campaign_id=campaign_id).first()
    return cache.programs[campaign_id]


def _parent(referral: Referral, cache: ReferralCache) -> Referral | None:
    """The referral of the referrer in the same campaign: whoever earns the second level."""
    if referral.pk not in cache.parents:
        cache.parents[referral.pk] = Referral.objects.filter(
            brand_id=referral.brand_id, campaign_id=referral.campaign_id, referred_id=referral.referrer_id
        ).first()
    return cache.parents[referral.pk]


def _influencer(pk: int, cache: ReferralCache) -> Influencer:
    if pk not in cache.influencers:
        cache.influencers[pk] = Influencer.objects.get(pk=pk)
    return cache.influencers[pk]


def _campaign(pk: int, cache: ReferralCache) -> Campaign:
    if pk not in cache.campaigns:
        cache.campaigns[pk] = Campaign.objects.get(pk=pk)
    return cache.campaigns[pk]


def _in_window(referral: Referral, program: ReferralProgram, placed_at: datetime | None) -> bool:
    """Orders placed from the referral on, for the program's months."""
    if program.months <= 0:
        return False
    placed_at = placed_at or timezone.now()
    return referral.started_at <= placed_at < referral.started_at + relativedelta(months=program.months)


def referral_prelock(*, order: "Order", influencer_ids: set[int], cache: ReferralCache) -> None:
    """Before an order sync posts anything: when its influencers have referrers, lock all their
    stage accounts at once in pk order (theirs and the referrers'), as the cutoff does, so a sync
    that posts for several influencers cannot deadlock with it. Nothing when nobody was referred."""
    if order.campaign_id is None:
        return
    ids = set(influencer_ids)
    for influencer_id in influencer_ids:
        referral = _referral_of(
            brand_id=order.brand_id, influencer_id=influencer_id, campaign_id=order.campaign_id, cache=cache
        )
        if referral is None:
            continue
        ids.add(referral.referrer_id)
        parent = _parent(referral, cache)
        if parent is not None:
            ids.add(parent.referrer_id)
    if len(ids) > len(influencer_ids):
        ledger_accounts_prelock(brand=order.brand, influencer_ids=ids)


def _hold_until(order: "Order | None", campaign: Campaign, now: datetime) -> datetime:
    return ((order.invoiced_at if order is not None else None) or now) + timedelta(days=campaign.hold_days)


def _share(rate: Decimal | None, cents: int) -> int:
    return round_minor(Decimal(cents) * (rate or Decimal(0)) / Decimal(100)) if cents > 0 else 0


def _is_final(row: ReferralCommission) -> bool:
    """A reward taken back in full stays taken back (its ledger reference is spent)."""
    return row.ledger_reversal_seq > 0 and row.ledger_posted_cents == 0


def _converge(
    *,
    row: ReferralCommission,
    brand: Any,
    desired: int,
    target: str,
    hold_until: datetime,
    now: datetime,
    accruals: Accruals | None,
    cache: ReferralCache,
    reversal_label: str = "r",
) -> int:
    if row.pk is None:
        row.save(force_insert=True)
    if _is_final(row) or target == LedgerStage.NONE:
        return 0
    postings = ledger_converge(
        tracker=row,
        brand=brand,
        influencer=_influencer(row.beneficiary_id, cache),
        ref=row.ledger_ref,
        desired=desired,
        target=target,
        hold_until=hold_until,
        now=now,
        reversal_label=reversal_label,
        accruals=accruals,
    )
    if postings:
        row.save(
            update_fields=["ledger_stage", "ledger_posted_cents", "ledger_reversal_seq", "amount_cents", "updated_at"]
        )
    return postings


def _second_level_room(*, referral: Referral, program: ReferralProgram | None, row: ReferralCommission) -> int:
    """What the capped second level may still earn from this recruited influencer. Call while
    holding the referral's row lock."""
    if program is None or program.second_level_cap_cents <= 0:
        return 0
    others = (
        ReferralCommission.objects.filter(referral=referral, level=2)
        .exclude(pk=row.pk)
        .aggregate(total=Sum("ledger_posted_cents"))["total"]
        or 0
    )
    return max(0, program.second_level_cap_cents - others)


def _referral_lock(referral: Referral) -> Referral:
    """The recruited influencer's referral row: serialises the second-level cap and the bonus."""
    return referral_lock(pk=referral.pk)


def referral_rewards_sync(
    *,
    commission: Commission,
    order: "Order",
    now: datetime,
    accruals: Accruals | None = None,
    cache: ReferralCache | None = None,
) -> int:
    """Bring the referral rewards of `commission` in line with it. Precondition: inside the
    transaction that holds the order's row lock, after the commission's own ledger sync and save.
    Returns the number of ledger postings."""
    cache = cache or ReferralCache()
    referral = _referral_of(
        brand_id=commission.brand_id,
        influencer_id=commission.influencer_id,
        campaign_id=commission.campaign_id,
        cache=cache,
    )
    if referral is None:
        return 0
    program = _program(referral.campaign_id, cache)
    campaign = commission.campaign
    rows = {
        row.level: row
        for row in referral_commissions_lock(
            queryset=ReferralCommission.objects.filter(source=commission, kind=Kind.PERCENT)
        )
    }
    placed_at = order.created_in_vtex_at
    opening = (
        program is not None
        and program.enabled
        and referral.earns
        and commission.ledger_posted_cents > 0
        and commission.fraud_review != FraudReview.REJECTED
        and _in_window(referral, program, placed_at)
    )
    target = commission.ledger_stage
    hold_until = _hold_until(order, campaign, now)
    postings = 0

    first = rows.get(1)
    if first is None and opening and program is not None and program.rate_percent > 0:
        first = ReferralCommission(
            brand_id=commission.brand_id,
            referral=referral,
            beneficiary_id=referral.referrer_id,
            source=commission,
            kind=Kind.PERCENT,
            level=1,
            rate=program.rate_percent,
        )
    if first is not None:
        desired = _share(first.rate, commission.ledger_posted_cents) if referral.earns else 0
        first.amount_cents = max(first.amount_cents, desired)
        postings += _converge(
            row=first,
            brand=commission.brand,
            desired=desired,
            target=target,
            hold_until=hold_until,
            now=now,
            accruals=accruals,
            cache=cache,
        )

    parent = _parent(referral, cache)
    second = rows.get(2)
    if (
        second is None
        and opening
        and parent is not None
        and parent.earns
        and program is not None
        and program.second_level_rate_percent > 0
    ):
        second = ReferralCommission(
            brand_id=commission.brand_id,
            referral=referral,
            beneficiary_id=parent.referrer_id,
            source=commission,
            kind=Kind.PERCENT,
            level=2,
            rate=program.second_level_rate_percent,
        )
    if second is not None:
        locked = _referral_lock(referral)
        earns = locked.earns and parent is not None and parent.earns
        wanted = _share(second.rate, commission.ledger_posted_cents) if earns else 0
        desired = min(wanted, _second_level_room(referral=locked, program=program, row=second))
        second.amount_cents = max(second.amount_cents, desired)
        postings += _converge(
            row=second,
            brand=commission.brand,
            desired=desired,
            target=target,
            hold_until=hold_until,
            now=now,
            accruals=accruals,
            cache=cache,
        )

    postings += _bonus_sync(
        referral=referral, program=program, brand=commission.brand, campaign=campaign, now=now, cache=cache
    )
    return postings


def referred_confirmed_sales(*, referral: Referral) -> int:
    """The recruited influencer's confirmed sales in the referral's campaign: the bases of their
    confirmed commission lines, less the units returned, not counting fraud rejections."""
    total = 0
    rows = Commission.objects.filter(
        brand_id=referral.brand_id,
        influencer_id=referral.referred_id,
        campaign_id=referral.campaign_id,
        ledger_stage=LedgerStage.CONFIRMED,
        state__in=[Commission.State.CONFIRMED, Commission.State.PARTIALLY_REVERSED],
    ).exclude(fraud_review=FraudReview.REJECTED)
    for base, quantity, units_back in rows.values_list("base_cents", "quantity", "units_reversed"):
        if quantity:
            total += base * (quantity - min(units_back, quantity)) // quantity
    return total


def _bonus_sync(
    *,
    referral: Referral,
    program: ReferralProgram | None,
    brand: Any,
    campaign: Campaign,
    now: datetime,
    cache: ReferralCache,
) -> int:
    """The one-off bonus: confirmed once the recruited influencer's confirmed sales reach the
    threshold; taken back if a reversal brings them under it before or after the release."""
    existing = ReferralCommission.objects.filter(referral=referral, kind=Kind.BONUS).exists()
    if not existing and (program is None or not program.enabled or program.bonus_cents <= 0):
        return 0
    locked = _referral_lock(referral)
    row = referral_bonus_lock(referral_id=locked.pk)
    sales = referred_confirmed_sales(referral=locked)
    threshold = program.bonus_threshold_cents if program is not None else 0
    reached = locked.earns and sales > 0 and sales >= threshold
    if row is None:
        if not (reached and program is not None and program.enabled and program.bonus_cents > 0):
            return 0
        row = ReferralCommission(
            brand_id=locked.brand_id,
            referral=locked,
            beneficiary_id=locked.referrer_id,
            kind=Kind.BONUS,
            level=1,
            amount_cents=program.bonus_cents,
        )
    desired = row.amount_cents if reached else 0
    return _converge(
        row=row,
        brand=brand,
        desired=desired,
        target=LedgerStage.CONFIRMED,
        hold_until=_hold_until(None, campaign, now),
        now=now,
        accruals=None,
        cache=cache,
    )


def referral_rewards_void(*, referral_id: int, now: datetime | None = None) -> int:
    """A referral stopped earning (self-referral found, blocked by a manager): take back every
    reward it gave, at level 1 and 2, and the second level its referrer's upline earned through
    it. Locks the source orders first (pk order), as the order sync does. Returns postings."""

    now = now or timezone.now()
    referral = Referral.objects.get(pk=referral_id)
    if referral.earns:
        return 0
    affected = ReferralCommission.objects.filter(referral=referral) | ReferralCommission.objects.filter(
        level=2,
        referral__referrer_id=referral.referred_id,
        beneficiary_id=referral.referrer_id,
        referral__brand_id=referral.brand_id,
        referral__campaign_id=referral.campaign_id,
    )
    order_ids = sorted(set(affected.exclude(source=None).values_list("source__order_id", flat=True)))
    postings = 0
    cache = ReferralCache()
    with transaction.atomic():
        orders_lock(pks=order_ids)
        rows = referral_commissions_lock(queryset=affected.select_related("source", "referral"))
        if not rows:
            return 0
        ledger_accounts_prelock(brand=referral.brand, influencer_ids={row.beneficiary_id for row in rows})
        for row in rows:
            if row.ledger_posted_cents == 0:
                continue
            postings += _converge(
                row=row,
                brand=referral.brand,
                desired=0,
                target=row.ledger_stage,
                hold_until=now,
                now=now,
                accruals=None,
                cache=cache,
                reversal_label="void",
            )
    return postings
