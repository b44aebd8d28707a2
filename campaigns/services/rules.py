"""Commission rules, tiers and eligibility filters added to a campaign."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from campaigns.locks import campaign_eligibility_lock
from campaigns.models import Campaign, CampaignEligibility, CampaignVariant, CommissionRule, CommissionTier
from campaigns.services.validation import CampaignInvalid, campaign_full_clean


def campaign_rule_add(
    *,
    campaign: Campaign,
    name: str,
    kind: str,
    rate_percent: Decimal | str | None = None,
    amount_cents: int | None = None,
    dimension: str = "all",
    ids: Iterable[str] | str = (),
    priority: int = 100,
    variant: CampaignVariant | None = None,
    cap_per_line_cents: int | None = None,
    cap_per_order_cents: int | None = None,
    actor: Any = None,
) -> CommissionRule:
    rule = CommissionRule(
        campaign=campaign,
        variant=variant,
        name=name,
        kind=kind,
        rate_percent=Decimal(str(rate_percent)) if rate_percent is not None else None,
        amount_cents=amount_cents,
        dimension=dimension,
        ids=ids if isinstance(ids, str) else list(ids),
        priority=priority,
        cap_per_line_cents=cap_per_line_cents,
        cap_per_order_cents=cap_per_order_cents,
    )
    campaign_full_clean(rule)
    with transaction.atomic():
        rule.save()
        audit_record(
            action="campaign.rule_added",
            target=rule,
            actor=actor,
            brand_id=campaign.brand_id,
            after={"rule": str(rule), "dimension": rule.dimension, "ids": rule.ids, "priority": rule.priority},
        )
    return rule


def campaign_tier_add(
    *, campaign: Campaign, name: str, threshold: int, bonus_percent: Decimal | str, actor: Any = None
) -> CommissionTier:
    tier = CommissionTier(campaign=campaign, name=name, threshold=threshold, bonus_percent=Decimal(str(bonus_percent)))
    campaign_full_clean(tier)
    with transaction.atomic():
        try:
            with transaction.atomic():
                tier.save()
        except IntegrityError as exc:
            raise CampaignInvalid(
                _("This campaign already has a tier with that name or threshold; each tier needs its own.")
            ) from exc
        audit_record(
            action="campaign.tier_added",
            target=tier,
            actor=actor,
            brand_id=campaign.brand_id,
            after={"name": name, "threshold": threshold, "bonus_percent": str(tier.bonus_percent)},
        )
    return tier


def campaign_eligibility_set(
    *, campaign: Campaign, dimension: str, mode: str, ids: Iterable[str] | str, actor: Any = None
) -> CampaignEligibility | None:
    """Set the ids a campaign includes or excludes by one dimension; empty ids remove the filter."""
    with transaction.atomic():
        existing = campaign_eligibility_lock(campaign_id=campaign.pk, dimension=dimension, mode=mode)
        raw = ids if isinstance(ids, str) else list(ids)
        if not raw:
            if existing is not None:
                existing.delete()
                audit_record(
                    action="campaign.eligibility_removed",
                    target=campaign,
                    actor=actor,
                    brand_id=campaign.brand_id,
                    before={"dimension": dimension, "mode": mode, "ids": existing.ids},
                )
            return None
        filter_row = existing or CampaignEligibility(campaign=campaign, dimension=dimension, mode=mode)
        before = list(filter_row.ids) if existing else None
        filter_row.ids = raw
        campaign_full_clean(filter_row)
        filter_row.save()
        audit_record(
            action="campaign.eligibility_set",
            target=campaign,
            actor=actor,
            brand_id=campaign.brand_id,
            before={"ids": before} if before is not None else None,
            after={"dimension": dimension, "mode": mode, "ids": filter_row.ids},
        )
    return filter_row
