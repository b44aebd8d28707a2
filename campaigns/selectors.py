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


def campaign_engine_inputs(*, campaign: Campaign, influencer_id: int) -> EngineInputs:
    assignment = campaign_assignment_get(campaign=campaign, influencer_id=influencer_id)
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
        rules=campaign_rule_specs(campaign=campaign, variant=variant),
        tier=tier,
        eligibility=campaign_eligibility_spec(campaign=campaign),
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
