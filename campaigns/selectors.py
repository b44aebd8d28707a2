from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from campaigns.models import (
    Campaign,
    CampaignAssignment,
    CampaignEligibility,
    CampaignVariant,
    CommissionRule,
    CommissionTier,
)
from campaigns.rules import Dimension, EligibilitySpec, RuleKind, RuleSpec
from campaigns.tiers import TierSpec
from core import batching


def campaign_assignment_get(*, campaign: Campaign, influencer_id: int) -> CampaignAssignment | None:
    return (
        CampaignAssignment.objects.select_related("variant", "tier")
        .filter(campaign=campaign, influencer_id=influencer_id)
        .first()
    )


def campaign_rule_specs(*, campaign: Campaign, variant: CampaignVariant | None = None) -> list[RuleSpec]:
    """The rules that apply to an influencer in `variant`: the campaign's common rules plus that
    variant's own, as engine specs (rates as fractions)."""
    rules = CommissionRule.objects.filter(campaign=campaign).filter(
        Q(variant__isnull=True) | Q(variant=variant) if variant is not None else Q(variant__isnull=True)
    )
    return [
        RuleSpec(
            rule_id=rule.pk,
            name=rule.name,
            kind=RuleKind(rule.kind),
            priority=rule.priority,
            rate=(rule.rate_percent / 100) if rule.rate_percent is not None else Decimal(0),
            amount_cents=rule.amount_cents or 0,
            dimension=Dimension(rule.dimension),
            ids=frozenset(rule.ids),
            cap_per_line_cents=rule.cap_per_line_cents,
            cap_per_order_cents=rule.cap_per_order_cents,
        )
        for rule in rules.order_by("priority", "pk")
    ]


def campaign_tier_specs(*, campaign: Campaign) -> list[TierSpec]:
    return [
        TierSpec(tier_id=tier.pk, name=tier.name, threshold=tier.threshold, bonus_rate=tier.bonus_percent / 100)
        for tier in CommissionTier.objects.filter(campaign=campaign).order_by("threshold")
    ]


def campaign_eligibility_spec(*, campaign: Campaign) -> EligibilitySpec:
    include: dict[Dimension, frozenset[str]] = {}
    exclude: dict[Dimension, frozenset[str]] = {}
    for row in CampaignEligibility.objects.filter(campaign=campaign):
        target = include if row.mode == CampaignEligibility.Mode.INCLUDE else exclude
        target[Dimension(row.dimension)] = frozenset(row.ids)
    return EligibilitySpec(include=include, exclude=exclude)


@dataclass(frozen=True)
class EngineInputs:
    """Everything `commissions.engine.commission_compute` needs for one influencer's order in a
    campaign, with the variant to record on the commission."""

    rules: list[RuleSpec]
    tier: TierSpec | None
    eligibility: EligibilitySpec
    order_cap_cents: int | None
    variant_id: int | None
    variant_key: str | None


def _assignment_key(campaign_id: int, influencer_id: int) -> tuple[str, int, int]:
    return ("campaigns.assignment", campaign_id, influencer_id)


def campaign_assignments_read_ahead(*, pairs: Iterable[tuple[int, int]]) -> None:
    """Inside a batch (core.batching): the assignments (with variant and tier) of these
    (campaign, influencer) pairs in one query, so `campaign_engine_inputs` takes each from the
    memo; a pair without one is remembered as such. A batch of orders does not assign
    influencers, so what it reads stays true until it ends."""
    wanted = set(pairs)
    if batching.current() is None or not wanted:
        return
    campaign_ids = {campaign_id for campaign_id, _influencer_id in wanted}
    influencer_ids = {influencer_id for _campaign_id, influencer_id in wanted}
    found = {
        (assignment.campaign_id, assignment.influencer_id): assignment
        for assignment in CampaignAssignment.objects.select_related("variant", "tier").filter(
            campaign_id__in=campaign_ids, influencer_id__in=influencer_ids
        )
    }
    for pair in wanted:
        batching.memo_set(_assignment_key(*pair), found.get(pair))


def campaign_engine_inputs(*, campaign: Campaign, influencer_id: int) -> EngineInputs:
    """What the engine needs for one influencer's order in `campaign`. Inside a batch
    (core.batching) the campaign's rules (per variant) and eligibility are read once, whatever
    the number of its influencers, and the assignment comes from the read-ahead when there is
    one (`campaign_assignments_read_ahead`)."""
    assignment = batching.memo(
        _assignment_key(campaign.pk, influencer_id),
        lambda: campaign_assignment_get(campaign=campaign, influencer_id=influencer_id),
    )
    variant = assignment.variant if assignment is not None else None
    tier = None
    if assignment is not None and assignment.tier is not None:
        tier = TierSpec(
            tier_id=assignment.tier.pk,
            name=assignment.tier.name,
            threshold=assignment.tier.threshold,
            bonus_rate=assignment.tier.bonus_percent / 100,
        )
    return EngineInputs(
        rules=batching.memo(
            ("campaigns.rule_specs", campaign.pk, variant.pk if variant is not None else None),
            lambda: campaign_rule_specs(campaign=campaign, variant=variant),
        ),
        tier=tier,
        eligibility=batching.memo(
            ("campaigns.eligibility", campaign.pk), lambda: campaign_eligibility_spec(campaign=campaign)
        ),
        order_cap_cents=campaign.order_cap_cents,
        variant_id=variant.pk if variant is not None else None,
        variant_key=variant.key if variant is not None else None,
    )


@dataclass(frozen=True)
class CampaignOffer:
    """What a campaign offers an influencer who joins it, for the join page: the commission
    (percentage of the sale and/or a fixed amount per unit, lowest to highest over the
    campaign's common rules), the tier bonus on top, the shoppers' discount and the hold."""

    campaign: Campaign
    rate_min: Decimal | None
    rate_max: Decimal | None
    amount_min: int | None
    amount_max: int | None
    tier_bonus_max: Decimal | None
    discount_percent: Decimal
    hold_days: int
    attribution_window_days: int

    @property
    def has_commission(self) -> bool:
        return self.rate_max is not None or self.amount_max is not None


def campaign_offer(*, campaign: Campaign) -> CampaignOffer:
    rules = list(CommissionRule.objects.filter(campaign=campaign, variant__isnull=True))
    if not rules:  # every rule belongs to a variant: the offer spans them all
        rules = list(CommissionRule.objects.filter(campaign=campaign))
    rates = [r.rate_percent for r in rules if r.kind == RuleKind.PERCENTAGE and r.rate_percent is not None]
    amounts = [r.amount_cents for r in rules if r.kind == RuleKind.FIXED_PER_UNIT and r.amount_cents]
    bonuses = list(CommissionTier.objects.filter(campaign=campaign).values_list("bonus_percent", flat=True))
    return CampaignOffer(
        campaign=campaign,
        rate_min=min(rates) if rates else None,
        rate_max=max(rates) if rates else None,
        amount_min=min(amounts) if amounts else None,
        amount_max=max(amounts) if amounts else None,
        tier_bonus_max=max(bonuses) if bonuses and rates else None,
        discount_percent=campaign.discount_percent,
        hold_days=campaign.hold_days,
        attribution_window_days=campaign.attribution_window_days,
    )
