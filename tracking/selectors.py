"""Reads for other apps: attribution policy, links for the portal, clicks for reports."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet

from tracking.models import AttributionPolicy, Click, FraudFlag, InfluencerRisk, Link

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


def link_list_for_influencer(*, influencer: Any, brand: Any) -> QuerySet[Link]:
    """The influencer's active links with a brand, newest first, with valid click counts. Each
    row has `campaign` loaded and `valid_clicks`; the public URL is `link_public_url(slug=link.slug)`
    and the QR code `tracking.services.link_qr_svg(url=...)` (or `<img src="/r/<slug>/qr.svg">`)."""
    return (
        Link.objects.filter(influencer=influencer, brand=brand, is_active=True)
        .select_related("campaign")
        .annotate(valid_clicks=Count("clicks", filter=Q(clicks__is_valid=True)))
        .order_by("-created_at")
    )


def link_public_url(*, slug: str) -> str:
    from django.conf import settings
    from django.urls import reverse

    return settings.SITE_URL + reverse("tracking:redirect", kwargs={"slug": slug})


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
