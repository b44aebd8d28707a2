from celery import shared_task

from campaigns.models import Campaign
from campaigns.services.status import campaign_status_sync_by_dates
from campaigns.services.tier_placement import campaign_tiers_reevaluate, campaign_tiers_reevaluate_all


@shared_task(name="campaigns.tasks.campaign_status_sync_task")
def campaign_status_sync_task() -> dict[str, int]:
    """Beat: start scheduled campaigns and end expired ones, by their dates."""

    return campaign_status_sync_by_dates()


@shared_task(name="campaigns.tasks.campaign_tiers_reevaluate_task")
def campaign_tiers_reevaluate_task(*, campaign_id: int | None = None) -> int:
    """Beat (all running campaigns) or on demand (one campaign)."""

    if campaign_id is None:
        return campaign_tiers_reevaluate_all()
    return campaign_tiers_reevaluate(campaign=Campaign.objects.select_related("brand").get(pk=campaign_id))
