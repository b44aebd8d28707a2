"""Writes for campaigns, their rules, tiers and variants. Assigning influencers to campaigns
needs their membership, so it lives a floor up (affiliates/assignments.py). Every function owns
its transaction and writes its audit record."""

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model, Q
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from audit.services import audit_record
from brands.models import Brand
from campaigns.locks import campaign_assignments_lock, campaign_eligibility_lock, campaign_lock
from campaigns.models import (
    Campaign,
    CampaignAssignment,
    CampaignEligibility,
    CampaignVariant,
    CommissionRule,
    CommissionTier,
)
from campaigns.performance import performance_for
from campaigns.selectors import campaign_tier_specs
from campaigns.tiers import TierPeriod, tier_period_bounds, tier_select
from core import events
from core.errors import ApplicationError, Conflict, full_clean_or_raise

logger = logging.getLogger(__name__)
Status = Campaign.Status


class CampaignInvalid(ApplicationError):
    default_code = "campaign_invalid"


def _full_clean(instance: Model, *, exclude: Sequence[str] = ()) -> None:
    full_clean_or_raise(instance, exclude=exclude, error_class=CampaignInvalid)


# --- Campaigns ------------------------------------------------------------------------------


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
    _full_clean(campaign)
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
    _full_clean(campaign)
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
    _full_clean(rule)
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
    _full_clean(tier)
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
        _full_clean(filter_row)
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
            _full_clean(variant)
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


# --- Status ---------------------------------------------------------------------------------


def _status_label(status: str) -> str:
    return str(Status(status).label)


def _check_can_run(campaign: Campaign, *, to_status: str, now: datetime) -> None:
    if not campaign.rules.exists():
        raise Conflict(_("Add at least one commission rule before the campaign runs."), code="campaign_no_rules")
    if not campaign.utm_source:
        raise Conflict(
            _("Fill in utm_source (the VTEX promotion's) before the campaign runs: its coupons need it."),
            code="campaign_no_utm_source",
        )
    if campaign.ends_at and campaign.ends_at <= now:
        raise Conflict(_("This campaign's end date has passed; move the end date first."), code="campaign_over")
    if to_status == Status.ACTIVE and campaign.starts_at > now:
        raise Conflict(
            _("This campaign starts on %(start)s; schedule it and it will start by itself.")
            % {"start": timezone.localtime(campaign.starts_at, campaign.brand.tz).strftime("%Y-%m-%d %H:%M")},
            code="campaign_not_started",
        )
    if to_status == Status.SCHEDULED and campaign.starts_at <= now:
        raise Conflict(
            _("This campaign's start is already past; activate it instead of scheduling it."),
            code="campaign_already_started",
        )


def campaign_status_change(
    *, campaign: Campaign, to_status: str, actor: Any = None, now: datetime | None = None
) -> Campaign:
    """Move a campaign along its status machine. Idempotent; refuses illegal moves. Codes follow
    (the `campaign.changed` event): they are active in VTEX only while the campaign is active."""
    now = now or timezone.now()
    if to_status not in Status.values:
        raise ApplicationError(_("Unknown campaign status %(status)s.") % {"status": to_status})
    with transaction.atomic():
        locked = campaign_lock(pk=campaign.pk)
        if locked.status == to_status:
            return locked
        if locked.is_template:
            raise Conflict(_("Templates never run; create a campaign from this template instead."))
        if to_status not in Campaign.ALLOWED_TRANSITIONS[locked.status]:
            raise Conflict(
                _("A campaign that is %(from)s cannot become %(to)s.")
                % {"from": _status_label(locked.status), "to": _status_label(to_status)},
                code="illegal_transition",
            )
        if to_status in (Status.ACTIVE, Status.SCHEDULED):
            _check_can_run(locked, to_status=to_status, now=now)
        previous = locked.status
        locked.status = to_status
        locked.status_changed_at = now
        locked.save(update_fields=["status", "status_changed_at", "updated_at"])
        audit_record(
            action="campaign.status_changed",
            target=locked,
            actor=actor,
            brand_id=locked.brand_id,
            before={"status": previous},
            after={"status": to_status},
        )
        # Codes (a floor up) follow the campaign's status, in this transaction.
        events.publish("campaign.changed", campaign=locked, actor=actor)
    campaign.status, campaign.status_changed_at = locked.status, locked.status_changed_at
    return locked


def campaign_status_sync_by_dates(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: scheduled campaigns whose start has come become active; running campaigns whose end
    has passed become ended. A campaign that cannot start (no rules, say) is left alone and
    logged, so one bad campaign does not stop the others."""
    now = now or timezone.now()
    counts = {"activated": 0, "ended": 0, "skipped": 0}
    to_end = Campaign.objects.filter(
        is_template=False, status__in=[Status.SCHEDULED, Status.ACTIVE, Status.PAUSED], ends_at__lte=now
    )
    for campaign in to_end.order_by("pk"):
        campaign_status_change(campaign=campaign, to_status=Status.ENDED, now=now)
        counts["ended"] += 1
    to_start = Campaign.objects.filter(is_template=False, status=Status.SCHEDULED, starts_at__lte=now).filter(
        _open_end(now)
    )
    for campaign in to_start.order_by("pk"):
        try:
            campaign_status_change(campaign=campaign, to_status=Status.ACTIVE, now=now)
            counts["activated"] += 1
        except ApplicationError as exc:
            logger.warning("campaign %s could not start by date: %s", campaign.pk, exc)
            counts["skipped"] += 1
    return counts


def _open_end(now: datetime) -> Any:
    return Q(ends_at__isnull=True) | Q(ends_at__gt=now)


# --- Tiers ----------------------------------------------------------------------------------


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
