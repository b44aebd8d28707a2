"""Reads of the creatives library: staff and API clients by brand, influencers by the campaigns
they take part in, each caption filled with the reader's own code and default link."""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from affiliates.models import Influencer, Membership
from brands.scoping import scope_queryset
from campaigns.models import Campaign
from codes.models import Code
from codes.selectors import code_list_for_influencer, code_state
from creatives.models import Creative
from creatives.uploads import caption_fill
from tracking.models import Link
from tracking.selectors import link_list_for_influencer, link_public_url

#: campaigns whose library influencers see: neither being prepared nor over
VISIBLE_STATUSES = (Campaign.Status.SCHEDULED, Campaign.Status.ACTIVE, Campaign.Status.PAUSED)
#: the order of a library on the page: what to post first, the rules last
KIND_ORDER: list[str] = [Creative.Kind.IMAGE, Creative.Kind.VIDEO, Creative.Kind.CAPTION, Creative.Kind.GUIDELINES]


def creative_list(*, brand_ids: set[int] | None, campaign_id: int | None = None) -> QuerySet[Creative]:
    """Creatives of the brands the caller sees (None: all), optionally of one campaign."""
    creatives = scope_queryset(
        Creative.objects.select_related("campaign", "brand"), brand_ids, brand_field=Creative.BRAND_FIELD
    )
    if campaign_id is not None:
        creatives = creatives.filter(campaign_id=campaign_id)
    return creatives


def creative_campaigns_for_influencer(*, influencer: Any, brand: Any) -> list[Campaign]:
    """The campaigns whose library the influencer may open: the brand approved them and they
    take part in the campaign (an active assignment), and it is neither a draft nor over."""
    approved = Membership.objects.filter(influencer=influencer, brand=brand, status=Membership.Status.APPROVED).exists()
    if not approved:
        return []
    return list(
        Campaign.objects.filter(
            brand=brand,
            is_template=False,
            status__in=VISIBLE_STATUSES,
            assignments__influencer=influencer,
            assignments__is_active=True,
        )
        .distinct()
        .order_by("-starts_at", "pk")
    )


def creative_audience(*, campaign: Campaign) -> QuerySet[Influencer]:
    """Who sees a new piece of `campaign` in their library (the mirror of
    `creative_campaigns_for_influencer`): approved by the brand, with an active assignment to
    the campaign, and the campaign neither being prepared nor over. With their users."""
    if campaign.is_template or campaign.status not in VISIBLE_STATUSES:
        return Influencer.objects.none()
    return (
        Influencer.objects.filter(
            memberships__brand_id=campaign.brand_id,
            memberships__status=Membership.Status.APPROVED,
            campaign_assignments__campaign=campaign,
            campaign_assignments__is_active=True,
        )
        .select_related("user")
        .distinct()
        .order_by("pk")
    )


def creative_get_for_influencer(*, influencer: Any, brand: Any, pk: int) -> Creative | None:
    """One active piece of a campaign the influencer may open; None for anything else."""
    campaigns = creative_campaigns_for_influencer(influencer=influencer, brand=brand)
    return (
        Creative.objects.filter(pk=pk, is_active=True, brand=brand, campaign__in=campaigns)
        .select_related("campaign")
        .first()
    )


@dataclass(frozen=True)
class InfluencerCreative:
    creative: Creative
    caption: str = ""  # filled in for the reader (captions only)
    missing: list[str] = field(default_factory=list)  # placeholders left unfilled, and why


@dataclass(frozen=True)
class CampaignLibrary:
    campaign: Campaign
    code: str  # the reader's active code in the campaign, or ""
    link: str  # the public URL of their default tracked link, or ""
    items: list[InfluencerCreative]


def _active_code(*, campaign: Campaign, influencer: Any, brand: Any) -> str:
    code = (
        code_list_for_influencer(influencer=influencer, brand=brand)
        .filter(campaign=campaign, status=Code.Status.ACTIVE)
        .first()
    )
    return code.text if code is not None and code_state(code).usable else ""


def _default_link(*, campaign: Campaign, influencer: Any, brand: Any) -> str:
    """The link issued on approval for the campaign, else the influencer's oldest active one."""
    links = link_list_for_influencer(influencer=influencer, brand=brand).filter(campaign=campaign)
    link = links.filter(origin=Link.Origin.APPROVAL).first() or links.order_by("created_at", "pk").first()
    return link_public_url(slug=link.slug) if link is not None else ""


def creative_library_for_influencer(
    *, influencer: Any, brand: Any, campaign_id: int | None = None
) -> list[CampaignLibrary]:
    """The influencer's libraries, one per campaign they may open (optionally just one), each
    with its active pieces and every caption filled in with their code and link."""
    campaigns = creative_campaigns_for_influencer(influencer=influencer, brand=brand)
    if campaign_id is not None:
        campaigns = [c for c in campaigns if c.pk == campaign_id]
    if not campaigns:
        return []
    by_campaign: dict[int, list[Creative]] = {c.pk: [] for c in campaigns}
    for creative in Creative.objects.filter(campaign__in=campaigns, is_active=True).order_by("-created_at", "-pk"):
        by_campaign[creative.campaign_id].append(creative)
    for pieces in by_campaign.values():
        pieces.sort(key=lambda c: KIND_ORDER.index(c.kind))  # stable: newest first within a kind
    libraries = []
    for campaign in campaigns:
        code = _active_code(campaign=campaign, influencer=influencer, brand=brand)
        link = _default_link(campaign=campaign, influencer=influencer, brand=brand)
        values = {"code": code, "link": link, "brand": brand.name}
        items = []
        for creative in by_campaign[campaign.pk]:
            creative.campaign = campaign
            if creative.kind == Creative.Kind.CAPTION:
                text, missing = caption_fill(creative.caption, values)
                items.append(InfluencerCreative(creative=creative, caption=text, missing=missing))
            else:
                items.append(InfluencerCreative(creative=creative))
        libraries.append(CampaignLibrary(campaign=campaign, code=code, link=link, items=items))
    return libraries
