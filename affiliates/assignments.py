"""Writes for the link between a campaign and an influencer (`CampaignAssignment`): who takes
part in which campaign, in which A/B variant. The table lives with the campaign, but the rule
needs the influencer's standing with the brand (a membership), so the service lives here, one
floor above campaigns. Codes follow through the `assignment.changed` event (codes/handlers.py).
Every function owns its transaction and writes its audit record."""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from affiliates.models import Influencer, Membership
from audit.services import audit_record
from campaigns.locks import campaign_assignment_lock, campaign_lock
from campaigns.models import Campaign, CampaignAssignment
from campaigns.services.variants import variant_pick
from core import events
from core.errors import Conflict


def _membership_status(*, brand_id: int, influencer_id: int) -> str | None:
    return (
        Membership.objects.filter(brand_id=brand_id, influencer_id=influencer_id)
        .values_list("status", flat=True)
        .first()
    )


def campaign_assign_influencer(*, campaign: Campaign, influencer: Influencer, actor: Any = None) -> CampaignAssignment:
    """Put an approved influencer of the brand in the campaign (idempotent: a second call returns
    the same assignment; a former participant comes back in the same A/B variant)."""
    if campaign.is_template:
        raise Conflict(_("Templates never run; assign influencers to a campaign created from it."))
    if campaign.status == Campaign.Status.ENDED:
        raise Conflict(_("This campaign has ended; assign the influencer to a running campaign."))
    membership_status = _membership_status(brand_id=campaign.brand_id, influencer_id=influencer.pk)
    if membership_status != Membership.Status.APPROVED:
        raise Conflict(
            _("%(influencer)s is not an approved influencer of %(brand)s; approve them first.")
            % {"influencer": influencer, "brand": campaign.brand.name},
            code="influencer_not_approved",
        )
    with transaction.atomic():
        campaign_lock(pk=campaign.pk)  # serialise per campaign
        assignment = campaign_assignment_lock(campaign_id=campaign.pk, influencer_id=influencer.pk)
        if assignment is not None and assignment.is_active:
            return assignment
        now = timezone.now()
        if assignment is None:
            variant = variant_pick(
                campaign_id=campaign.pk, influencer_id=influencer.pk, variants=list(campaign.variants.all())
            )
            assignment = CampaignAssignment.objects.create(
                campaign=campaign,
                influencer=influencer,
                variant=variant,
                assigned_at=now,
                assigned_by=actor if getattr(actor, "pk", None) else None,
            )
        else:
            assignment.is_active = True
            assignment.unassigned_at = None
            assignment.assigned_at = now
            assignment.save(update_fields=["is_active", "unassigned_at", "assigned_at", "updated_at"])
        audit_record(
            action="campaign.influencer_assigned",
            target=assignment,
            actor=actor,
            brand_id=campaign.brand_id,
            after={
                "campaign": campaign.pk,
                "influencer": influencer.pk,
                "variant": getattr(assignment.variant, "key", None),
            },
        )
    return assignment


def campaign_unassign_influencer(
    *, campaign: Campaign, influencer: Influencer, actor: Any = None
) -> CampaignAssignment | None:
    """Take the influencer out of the campaign: their code for it is archived in VTEX."""
    with transaction.atomic():
        assignment = campaign_assignment_lock(campaign_id=campaign.pk, influencer_id=influencer.pk)
        if assignment is None or not assignment.is_active:
            return assignment
        assignment.is_active = False
        assignment.unassigned_at = timezone.now()
        assignment.save(update_fields=["is_active", "unassigned_at", "updated_at"])
        audit_record(
            action="campaign.influencer_unassigned",
            target=assignment,
            actor=actor,
            brand_id=campaign.brand_id,
            before={"active": True},
            after={"active": False},
        )
        # Codes (a floor up) archive the influencer's code of this campaign, in this transaction.
        events.publish("assignment.changed", campaign=campaign, influencer=influencer, actor=actor)
    return assignment
