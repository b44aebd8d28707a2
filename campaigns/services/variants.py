"""A/B variants of a campaign: their weights and which variant an influencer falls into."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from campaigns.locks import campaign_lock
from campaigns.models import Campaign, CampaignVariant
from campaigns.services.validation import CampaignInvalid, campaign_full_clean
from core.errors import Conflict


@dataclass(frozen=True)
class VariantInput:
    key: str
    weight: int
    name: str = ""
    discount_percent: Decimal | None = None


def campaign_variant_weights_validate(weights: Sequence[int]) -> None:
    """A/B weights split influencers into non-overlapping shares: each 1–100 and all together
    exactly 100."""
    if not weights:
        return
    if any(w is None or w < 1 or w > 100 for w in weights):
        raise CampaignInvalid(_("Each variant's weight is a percentage between 1 and 100."))
    total = sum(weights)
    if total != 100:
        raise CampaignInvalid(
            _(
                "The variants' weights add up to %(total)s%%. They split influencers without overlap, so they "
                "must add up to exactly 100%%."
            )
            % {"total": total}
        )


def campaign_variants_set(
    *, campaign: Campaign, variants: Sequence[VariantInput], actor: Any = None
) -> list[CampaignVariant]:
    """Replace the campaign's A/B variants by key. Variants that influencers already fell into
    cannot be removed (their history would lose its variant)."""
    keys = [v.key for v in variants]
    if len(set(keys)) != len(keys):
        raise CampaignInvalid(_("Each variant needs its own key."))
    campaign_variant_weights_validate([v.weight for v in variants])
    with transaction.atomic():
        campaign_lock(pk=campaign.pk)
        existing = {v.key: v for v in CampaignVariant.objects.filter(campaign=campaign)}
        removed = [v for key, v in existing.items() if key not in keys]
        for variant in removed:
            if variant.assignments.exists():
                raise Conflict(
                    _("Variant %(key)s already has influencers; keep it (you may change its weight).")
                    % {"key": variant.key}
                )
            variant.delete()
        result = []
        for data in variants:
            variant = existing.get(data.key) or CampaignVariant(campaign=campaign, key=data.key)
            variant.name = data.name
            variant.weight = data.weight
            variant.discount_percent = data.discount_percent
            campaign_full_clean(variant)
            variant.save()
            result.append(variant)
        audit_record(
            action="campaign.variants_set",
            target=campaign,
            actor=actor,
            brand_id=campaign.brand_id,
            after={"variants": {v.key: v.weight for v in result}},
        )
    return result


def variant_pick(
    *, campaign_id: int, influencer_id: int, variants: Sequence[CampaignVariant]
) -> CampaignVariant | None:
    """The influencer's A/B variant: a stable hash of (campaign, influencer) placed on the
    cumulative weights of the variants in key order. The same pair always lands in the same
    variant, on every machine, whatever order assignments happen in."""
    if not variants:
        return None
    ordered = sorted(variants, key=lambda v: v.key)
    total = sum(v.weight for v in ordered)
    digest = hashlib.sha256(f"mgm-ab:{campaign_id}:{influencer_id}".encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") % total
    cumulative = 0
    for variant in ordered:
        cumulative += variant.weight
        if bucket < cumulative:
            return variant
    return ordered[-1]
