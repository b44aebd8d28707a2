"""A code's status follows its campaign, the influencer's place in it and their membership with the
brand: what it should be, and the one place it changes (audited, VTEX sync queued)."""

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from affiliates.models import Membership
from audit.services import audit_record
from campaigns.models import Campaign, CampaignAssignment
from codes.models import Code
from codes.services.sync import code_sync_mark, code_sync_queue


def code_status_desired(code: Code, *, membership_approved: bool | None = None) -> tuple[str, str]:
    """What the code's status should be, and why, from its campaign, the influencer's place in
    it and their membership with the brand."""
    campaign = code.campaign
    if campaign.status != Campaign.Status.ACTIVE:
        return Code.Status.ARCHIVED, _("campaign is %(status)s") % {"status": campaign.get_status_display()}
    if not CampaignAssignment.objects.filter(campaign=campaign, influencer=code.influencer_id, is_active=True).exists():
        return Code.Status.ARCHIVED, _("influencer left the campaign")
    if membership_approved is None:
        membership_approved = Membership.objects.filter(
            brand_id=code.brand_id, influencer_id=code.influencer_id, status=Membership.Status.APPROVED
        ).exists()
    if not membership_approved:
        return Code.Status.ARCHIVED, _("influencer is not approved with the brand")
    return Code.Status.ACTIVE, ""


def code_status_set(code: Code, *, status: str, reason: str, actor: Any) -> bool:
    """Call while holding the code's row lock. Returns whether anything changed; queues the sync."""
    if code.status == status:
        if code.status_reason != reason:
            code.status_reason = reason
            code.save(update_fields=["status_reason", "updated_at"])
        return False
    previous = code.status
    code.status = status
    code.status_reason = reason[:200]
    code.status_changed_at = timezone.now()
    code_sync_mark(code)
    code.save(
        update_fields=[
            "status",
            "status_reason",
            "status_changed_at",
            "sync_version",
            "sync_status",
            "sync_attempts",
            "next_sync_at",
            "updated_at",
        ]
    )
    audit_record(
        action="code.status_changed",
        target=code,
        actor=actor,
        brand_id=code.brand_id,
        before={"status": previous},
        after={"status": status, "reason": reason},
    )
    code_sync_queue(code)
    return True
