"""Issuing codes: one for an influencer in a campaign (chosen by a manager or generated from the
handle), or one in each campaign of the brand they take part in."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from affiliates.assignments import campaign_assign_influencer
from affiliates.models import Influencer, Membership
from audit.services import audit_record
from brands.models import Brand
from campaigns.locks import campaign_lock
from campaigns.models import Campaign, CampaignAssignment
from codes.locks import code_lock_for
from codes.models import Code
from codes.services.status import code_status_desired, code_status_set
from codes.services.sync import code_sync_queue
from codes.services.text import CodeTaken, code_text_candidates, code_text_taken, code_text_validate
from core.errors import ApplicationError, Conflict

GENERATE_ATTEMPTS = 8


def _defaults_for(campaign: Campaign, assignment: CampaignAssignment | None) -> dict[str, Any]:
    variant = assignment.variant if assignment is not None else None
    discount = (
        variant.discount_percent
        if variant is not None and variant.discount_percent is not None
        else campaign.discount_percent
    )
    return {
        "variant": variant,
        "discount_percent": discount,
        "max_usage": campaign.code_max_usage,
        "max_items_per_client": campaign.code_max_items_per_client,
    }


def code_create(
    *,
    campaign: Campaign,
    influencer: Influencer,
    text: str | None = None,
    actor: Any = None,
    discount_percent: Decimal | None = None,
    max_usage: int | None = None,
    max_items_per_client: int | None = None,
) -> Code:
    """A new code for the influencer in the campaign: `text` if a manager chose one (validated;
    refused if the brand already uses it, in any case), else generated from the handle. The
    influencer is assigned to the campaign if they were not. The VTEX sync runs after commit."""
    chosen = code_text_validate(text) if text else None
    with transaction.atomic():
        assignment = campaign_assign_influencer(campaign=campaign, influencer=influencer, actor=actor)
        if Code.objects.filter(campaign=campaign, influencer=influencer).exists():
            existing = Code.objects.get(campaign=campaign, influencer=influencer)
            raise Conflict(
                _("%(influencer)s already has the code %(code)s in this campaign.")
                % {"influencer": influencer, "code": existing.text},
                code="code_exists",
            )
        fields = _defaults_for(campaign, assignment)
        if discount_percent is not None:
            fields["discount_percent"] = discount_percent
        if max_usage is not None:
            fields["max_usage"] = max_usage
        if max_items_per_client is not None:
            fields["max_items_per_client"] = max_items_per_client
        code = _insert_code(campaign=campaign, influencer=influencer, chosen=chosen, fields=fields)
        status, reason = code_status_desired(code)
        if status != code.status:
            code.status, code.status_reason = status, reason
            code.save(update_fields=["status", "status_reason", "updated_at"])
        audit_record(
            action="code.created",
            target=code,
            actor=actor,
            brand_id=campaign.brand_id,
            after={
                "text": code.text,
                "origin": code.origin,
                "campaign": campaign.pk,
                "influencer": influencer.pk,
                "variant": getattr(code.variant, "key", None),
                "status": code.status,
            },
        )
        code_sync_queue(code)
    return code


def _insert_code(*, campaign: Campaign, influencer: Influencer, chosen: str | None, fields: dict[str, Any]) -> Code:
    """Insert with the unique constraints as the judge: a chosen code that is taken is refused;
    a generated one moves to the next candidate (collision-safe under concurrency too)."""
    if chosen is not None:
        candidates: Iterable[str] = [chosen]
    else:
        candidates = code_text_candidates(influencer=influencer, campaign=campaign)
    for attempt, candidate in enumerate(candidates):
        if attempt >= GENERATE_ATTEMPTS:
            break
        if code_text_taken(brand=campaign.brand, text=candidate):
            if chosen is not None:
                raise CodeTaken(
                    _("The code %(code)s is already used in %(brand)s; choose another.")
                    % {"code": candidate, "brand": campaign.brand.name}
                )
            continue
        try:
            with transaction.atomic():
                return Code.objects.create(
                    brand=campaign.brand,
                    campaign=campaign,
                    influencer=influencer,
                    text=candidate,
                    origin=Code.Origin.CHOSEN if chosen else Code.Origin.GENERATED,
                    **fields,
                )
        except IntegrityError as exc:
            if Code.objects.filter(campaign=campaign, influencer=influencer).exists():
                raise Conflict(_("This influencer already has a code in this campaign."), code="code_exists") from exc
            if chosen is not None:
                raise CodeTaken(
                    _("The code %(code)s is already used in %(brand)s; choose another.")
                    % {"code": candidate, "brand": campaign.brand.name}
                ) from exc
    raise ApplicationError(
        _("Could not find a free code for %(influencer)s; choose one by hand.") % {"influencer": influencer}
    )


def codes_issue_for_influencer(
    *, brand: Brand, influencer: Influencer, campaigns: Iterable[Campaign] | None = None, actor: Any = None
) -> list[Code]:
    """Make sure the influencer has one code in each of `campaigns` (default: every active
    campaign of the brand they take part in, after joining the brand's open campaigns).
    Idempotent: existing codes are returned (and reactivated if they should be). VTEX syncs
    run after commit."""
    if not Membership.objects.filter(brand=brand, influencer=influencer, status=Membership.Status.APPROVED).exists():
        raise Conflict(
            _("%(influencer)s is not an approved influencer of %(brand)s; approve them before issuing codes.")
            % {"influencer": influencer, "brand": brand.name},
            code="influencer_not_approved",
        )
    with transaction.atomic():
        if campaigns is None:
            for campaign in Campaign.objects.filter(
                brand=brand, is_template=False, open_to_all=True, status=Campaign.Status.ACTIVE
            ).order_by("pk"):
                campaign_assign_influencer(campaign=campaign, influencer=influencer, actor=actor)
            targets = list(
                Campaign.objects.filter(
                    brand=brand,
                    is_template=False,
                    status=Campaign.Status.ACTIVE,
                    assignments__influencer=influencer,
                    assignments__is_active=True,
                ).order_by("pk")
            )
        else:
            targets = list(campaigns)
            foreign = [c for c in targets if c.brand_id != brand.pk]
            if foreign:
                raise ApplicationError(_("Choose campaigns of %(brand)s only.") % {"brand": brand.name})
        codes = []
        for campaign in targets:
            # Serialise issuing per campaign: without a row to lock, two concurrent calls would
            # both see "no code yet".
            campaign_lock(pk=campaign.pk)
            existing = code_lock_for(campaign_id=campaign.pk, influencer_id=influencer.pk)
            if existing is None:
                codes.append(code_create(campaign=campaign, influencer=influencer, actor=actor))
                continue
            if campaign.status != Campaign.Status.ENDED:
                campaign_assign_influencer(campaign=campaign, influencer=influencer, actor=actor)
            if not existing.manually_archived:
                status, reason = code_status_desired(existing, membership_approved=True)
                code_status_set(existing, status=status, reason=reason, actor=actor)
            codes.append(existing)
    return codes
