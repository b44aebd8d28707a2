"""Placing each participant in the tier their confirmed performance reaches (by hand and Beat)."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from campaigns.locks import campaign_assignments_lock
from campaigns.models import Campaign, CampaignAssignment
from campaigns.performance import performance_for
from campaigns.selectors import campaign_tier_specs
from campaigns.tiers import TierPeriod, tier_period_bounds, tier_select

Status = Campaign.Status


def campaign_tiers_reevaluate(*, campaign: Campaign, at: datetime | None = None, actor: Any = None) -> int:
    """Place every active participant in the tier their confirmed performance in the current
    tier period reaches. Returns how many changed tier."""

    at = at or timezone.now()
    specs = campaign_tier_specs(campaign=campaign)
    start, end = tier_period_bounds(
        period=TierPeriod(campaign.tier_period), at=at, tz=campaign.brand.tz, campaign_start=campaign.starts_at
    )
    influencer_ids = list(
        CampaignAssignment.objects.filter(campaign=campaign, is_active=True).values_list("influencer_id", flat=True)
    )
    performance = performance_for(campaign_id=campaign.pk, influencer_ids=influencer_ids, start=start, end=min(end, at))
    changed = 0
    with transaction.atomic():
        for assignment in campaign_assignments_lock(campaign_id=campaign.pk, influencer_ids=influencer_ids):
            value = performance[assignment.influencer_id].metric(campaign.tier_metric)
            spec = tier_select(value=value, tiers=specs)
            new_tier_id = spec.tier_id if spec is not None else None
            previous_tier_id = assignment.tier_id
            assignment.tier_id = new_tier_id
            assignment.tier_metric_value = value
            assignment.tier_evaluated_at = at
            assignment.save(update_fields=["tier", "tier_metric_value", "tier_evaluated_at", "updated_at"])
            if previous_tier_id != new_tier_id:
                changed += 1
                audit_record(
                    action="campaign.tier_changed",
                    target=assignment,
                    actor=actor,
                    brand_id=campaign.brand_id,
                    before={"tier": previous_tier_id},
                    after={"tier": new_tier_id, "metric": campaign.tier_metric, "value": value},
                )
    return changed


def campaign_tiers_reevaluate_all(*, at: datetime | None = None) -> int:
    """Beat: re-evaluate tiers of every running campaign that has tiers."""
    changed = 0
    running = Campaign.objects.filter(
        is_template=False, status__in=[Status.ACTIVE, Status.PAUSED], tiers__isnull=False
    ).distinct()
    for campaign in running.select_related("brand").order_by("pk"):
        changed += campaign_tiers_reevaluate(campaign=campaign, at=at)
    return changed
