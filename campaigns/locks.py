"""Every row lock the campaigns context takes (core/locks.py says how and why). Affiliates,
which assigns influencers to campaigns, locks campaign rows through here too."""

from campaigns.models import Campaign, CampaignAssignment, CampaignEligibility
from core.locks import lock_rows


def campaign_lock(*, pk: int) -> Campaign:
    """One campaign, with its brand loaded (not locked). Also what serialises the writes that
    add rows under a campaign (assignments, codes): they lock it first."""
    return lock_rows(Campaign.objects.filter(pk=pk).select_related("brand")).get()


def campaign_assignment_lock(*, campaign_id: int, influencer_id: int) -> CampaignAssignment | None:
    """The influencer's assignment to the campaign, if there is one."""
    return lock_rows(CampaignAssignment.objects.filter(campaign_id=campaign_id, influencer_id=influencer_id)).first()


def campaign_assignments_lock(*, campaign_id: int, influencer_ids: list[int]) -> list[CampaignAssignment]:
    """The campaign's active assignments of these influencers, in pk order."""
    return list(
        lock_rows(
            CampaignAssignment.objects.filter(campaign_id=campaign_id, is_active=True, influencer_id__in=influencer_ids)
        )
    )


def campaign_eligibility_lock(*, campaign_id: int, dimension: str, mode: str) -> CampaignEligibility | None:
    return lock_rows(
        CampaignEligibility.objects.filter(campaign_id=campaign_id, dimension=dimension, mode=mode)
    ).first()
