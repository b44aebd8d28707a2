"""Reads for other apps: attribution policy, links for the portal, clicks for reports."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from campaigns.models import Campaign
from tracking.models import AttributionPolicy, Click, FraudFlag, InfluencerRisk, Link, ManualAttribution

DEFAULT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Policy:
    """A campaign's attribution policy, with defaults filled in."""

    precedence: str = AttributionPolicy.Precedence.COUPON.value  # "coupon" or "link"
    click_model: str = AttributionPolicy.ClickModel.LAST.value  # "last" or "first"
    window_days: int = DEFAULT_WINDOW_DAYS
    cross_device: bool = False
    binding_days: int | None = None  # None: until the campaign ends

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.window_days)


def attribution_policy_for(campaign: Any) -> Policy:
    """The policy of `campaign` (a Campaign), or the defaults when it has no row: coupon wins,
    last click, the campaign's own attribution window, no cross-device binding."""
    campaign_window = getattr(campaign, "attribution_window_days", None) or DEFAULT_WINDOW_DAYS
    try:
        row = campaign.attribution_policy
    except AttributionPolicy.DoesNotExist:
        row = None
    if row is None:
        return Policy(window_days=campaign_window)
    return Policy(
        precedence=row.precedence,
        click_model=row.click_model,
        window_days=row.window_days or campaign_window,
        cross_device=row.cross_device,
        binding_days=row.binding_days,
    )


def link_list_for_influencer(*, influencer: Any, brand: Any, active_only: bool = True) -> QuerySet[Link]:
    """The influencer's links with a brand (active ones unless `active_only` is False), newest
    first, each with `campaign` loaded. The public URL is `link_public_url(slug=link.slug)`, the
    QR code `core.qr.qr_svg(url)`, the numbers `tracking.link_numbers.link_numbers` (from the
    rollups: nothing here counts clicks)."""
    links = Link.objects.filter(influencer=influencer, brand=brand).select_related("campaign")
    if active_only:
        links = links.filter(is_active=True)
    return links.order_by("-is_active", "-created_at", "-pk")


def link_get_for_influencer(*, influencer: Any, brand: Any, pk: int) -> Link | None:
    """One of the influencer's links with the brand (active or not); None for anybody else's."""
    return Link.objects.filter(influencer=influencer, brand=brand, pk=pk).select_related("campaign").first()


def link_campaigns_for_influencer(*, influencer: Any, brand: Any) -> list[Any]:
    """The campaigns an influencer may make links in: running campaigns of the brand they take
    part in (an active assignment), oldest first."""

    return list(
        Campaign.objects.filter(
            brand=brand,
            is_template=False,
            status=Campaign.Status.ACTIVE,
            assignments__influencer=influencer,
            assignments__is_active=True,
        )
        .select_related("brand")
        .distinct()
        .order_by("pk")
    )


def link_public_url(*, slug: str) -> str:
    return f"{settings.SITE_URL}{reverse('tracking:redirect', kwargs={'slug': slug})}"


def click_list(*, brand_ids: set[int] | None = None) -> QuerySet[Click]:
    clicks = Click.objects.select_related("link", "influencer", "campaign")
    return clicks if brand_ids is None else clicks.filter(brand_id__in=brand_ids)


def fraud_flag_list_open(*, brand: Any = None, influencer: Any = None) -> QuerySet[FraudFlag]:
    flags = FraudFlag.objects.filter(status=FraudFlag.Status.OPEN).select_related("influencer", "brand")
    if brand is not None:
        flags = flags.filter(brand=brand)
    if influencer is not None:
        flags = flags.filter(influencer=influencer)
    return flags


def influencer_risk_get(*, influencer: Any, brand: Any) -> int:
    risk = InfluencerRisk.objects.filter(influencer=influencer, brand=brand).first()
    return risk.score if risk else 0


def manual_attribution_get(*, brand_id: int, order_ref: str) -> ManualAttribution | None:
    """The manual decision on an order, if a person made one (read by the attribution)."""
    if not order_ref:
        return None
    return ManualAttribution.objects.filter(brand_id=brand_id, order_ref=order_ref).first()


def manual_attribution_exists(*, brand_id: int) -> bool:
    return ManualAttribution.objects.filter(brand_id=brand_id).exists()


def fraud_flags_holding_order(*, brand_id: int, order_ref: str) -> list[FraudFlag]:
    """The order's flags that hold its commissions (open or rejected, as
    `tracking.fraud.fraud_hold_active` reads them), oldest first."""
    return list(
        FraudFlag.objects.filter(
            brand_id=brand_id,
            subject=FraudFlag.Subject.ORDER,
            subject_ref=order_ref,
            status__in=[FraudFlag.Status.OPEN, FraudFlag.Status.REJECTED],
        ).order_by("created_at", "pk")
    )
