"""What the events about a membership (applied, approved, rejected, ...) carry, the same for
every subscriber (notifications, webhooks)."""

from typing import Any

from affiliates.models import Membership


def membership_event_data(membership: Membership) -> dict[str, Any]:
    influencer = membership.influencer
    return {
        "membership_id": membership.pk,
        "influencer_id": influencer.pk,
        "name": influencer.display_name,
        "email": influencer.user.email,
        "country": influencer.country,
        "status": membership.status,
        "campaign": membership.campaign.slug if membership.campaign_id and membership.campaign else None,
    }
