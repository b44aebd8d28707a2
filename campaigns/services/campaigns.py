"""Creating and editing campaigns (by hand, from a template) and auditing the bulk edits of
their child tables (variants, eligibility, rules, tiers) made in the admin."""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.forms.models import model_to_dict
from django.utils.text import slugify
from django.utils.translation import gettext as _

from audit.services import audit_record
from brands.models import Brand
from campaigns.models import Campaign, CampaignEligibility, CampaignVariant, CommissionRule, CommissionTier
from campaigns.services.validation import CampaignInvalid, campaign_full_clean

Status = Campaign.Status


def _unique_slug(*, brand: Brand, name: str, slug: str | None) -> str:
    base = slugify(slug or name)[:70] or "campaign"
    candidate, n = base, 2
    while Campaign.objects.filter(brand=brand, slug=candidate).exists():
        candidate = f"{base}-{n}"
        n += 1
    return candidate


def campaign_create(
    *,
    brand: Brand,
    name: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    slug: str | None = None,
    actor: Any = None,
    **fields: Any,
) -> Campaign:
    """Create a draft campaign. `fields` are other Campaign fields (attribution_window_days,
    hold_days, utm_source, ...); they are validated like the admin form validates them."""
    fields.setdefault("hold_days", brand.default_hold_days)
    campaign = Campaign(
        brand=brand,
        name=name.strip(),
        slug=_unique_slug(brand=brand, name=name, slug=slug),
        starts_at=starts_at,
        ends_at=ends_at,
        status=Status.DRAFT,
        **fields,
    )
    campaign_full_clean(campaign)
    with transaction.atomic():
        campaign.save()
        audit_record(
            action="campaign.created",
            target=campaign,
            actor=actor,
            brand_id=brand.pk,
            after=_campaign_summary(campaign),
        )
    return campaign


def campaign_save(*, campaign: Campaign, actor: Any = None, changed_fields: Iterable[str] = ()) -> Campaign:
    """Save a campaign edited in the admin (status excepted: it moves only through
    `campaign_status_change`)."""
    created = campaign.pk is None
    if created:
        campaign.status = Status.DRAFT
    else:
        status, brand_id = Campaign.objects.values_list("status", "brand_id").get(pk=campaign.pk)
        if campaign.brand_id != brand_id:
            # Codes, assignments, orders and commissions all hang off the campaign's brand.
            raise CampaignInvalid(
                _("A campaign's brand cannot be changed after it is created; create a new campaign instead."),
                extra={"errors": {"brand": [_("The brand cannot be changed.")]}},
            )
        campaign.status = status
    campaign_full_clean(campaign)
    with transaction.atomic():
        campaign.save()
        audit_record(
            action="campaign.created" if created else "campaign.updated",
            target=campaign,
            actor=actor,
            brand_id=campaign.brand_id,
            after={**_campaign_summary(campaign), "fields": sorted(changed_fields)},
        )
    return campaign


# Audit actions of the campaign's child tables when they are edited in bulk (admin inlines).
_CHILD_ACTIONS: dict[type[Model], str] = {
    CampaignVariant: "campaign.variants_edited",
    CampaignEligibility: "campaign.eligibility_edited",
    CommissionRule: "campaign.rules_edited",
    CommissionTier: "campaign.tiers_edited",
}


def _child_rows(*, campaign: Campaign, model: type[Model]) -> dict[str, dict[str, Any]]:
    rows = model._default_manager.filter(campaign_id=campaign.pk).order_by("pk")  # type: ignore[attr-defined]
    return {str(row.pk): model_to_dict(row, exclude=["id", "campaign"]) for row in rows}


def campaign_children_save(
    *, campaign: Campaign, model: type[Model], save: Callable[[], Any], actor: Any = None
) -> None:
    """Run `save` (which writes rows of one of the campaign's child tables: variants,
    eligibility, commission rules or tiers, e.g. an admin inline formset) and audit the rows it
    added, changed or deleted, before and after, in the same transaction."""
    action = _CHILD_ACTIONS.get(model)
    if action is None:
        raise ValueError(f"{model!r} is not a campaign child table")
    with transaction.atomic():
        before = _child_rows(campaign=campaign, model=model)
        save()
        after = _child_rows(campaign=campaign, model=model)
        changed = sorted(pk for pk in before.keys() | after.keys() if before.get(pk) != after.get(pk))
        if changed:
            audit_record(
                action=action,
                target=campaign,
                actor=actor,
                brand_id=campaign.brand_id,
                before={pk: before.get(pk) for pk in changed},
                after={pk: after.get(pk) for pk in changed},
            )


def _campaign_summary(campaign: Campaign) -> dict[str, Any]:
    return {
        "name": campaign.name,
        "status": campaign.status,
        "starts_at": campaign.starts_at.isoformat() if campaign.starts_at else None,
        "ends_at": campaign.ends_at.isoformat() if campaign.ends_at else None,
        "attribution_window_days": campaign.attribution_window_days,
        "hold_days": campaign.hold_days,
    }


def campaign_create_from_template(
    *,
    template: Campaign,
    name: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    slug: str | None = None,
    actor: Any = None,
) -> Campaign:
    """A new draft campaign of the template's brand with the template's settings, rules, tiers,
    eligibility and variants."""
    if not template.is_template:
        raise CampaignInvalid(_("%(name)s is not a template.") % {"name": template.name})
    copied = {
        field: getattr(template, field)
        for field in (
            "description",
            "attribution_window_days",
            "hold_days",
            "open_to_all",
            "utm_source",
            "utm_campaign",
            "vtex_promotion_id",
            "discount_percent",
            "code_max_usage",
            "code_max_items_per_client",
            "order_cap_cents",
            "tier_metric",
            "tier_period",
        )
    }
    with transaction.atomic():
        campaign = campaign_create(
            brand=template.brand,
            name=name,
            slug=slug,
            starts_at=starts_at,
            ends_at=ends_at,
            actor=actor,
            template=template,
            **copied,
        )
        variant_map: dict[int, CampaignVariant] = {}
        for variant in template.variants.all():
            variant_map[variant.pk] = CampaignVariant.objects.create(
                campaign=campaign,
                key=variant.key,
                name=variant.name,
                weight=variant.weight,
                discount_percent=variant.discount_percent,
            )
        for rule in template.rules.all():
            CommissionRule.objects.create(
                campaign=campaign,
                variant=variant_map.get(rule.variant_id) if rule.variant_id else None,
                name=rule.name,
                priority=rule.priority,
                kind=rule.kind,
                rate_percent=rule.rate_percent,
                amount_cents=rule.amount_cents,
                dimension=rule.dimension,
                ids=list(rule.ids),
                cap_per_line_cents=rule.cap_per_line_cents,
                cap_per_order_cents=rule.cap_per_order_cents,
            )
        for tier in template.tiers.all():
            CommissionTier.objects.create(
                campaign=campaign, name=tier.name, threshold=tier.threshold, bonus_percent=tier.bonus_percent
            )
        for row in template.eligibility.all():
            CampaignEligibility.objects.create(
                campaign=campaign, dimension=row.dimension, mode=row.mode, ids=list(row.ids)
            )
        audit_record(
            action="campaign.created_from_template",
            target=campaign,
            actor=actor,
            brand_id=campaign.brand_id,
            after={"template": template.pk, "template_name": template.name},
        )
    return campaign
