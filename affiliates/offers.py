"""What the join page leads with: the brand's offer, from the campaign the link invites to (or
the campaigns open to applications), in the reader's language and number format."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from brands.models import Brand
from campaigns.models import Campaign
from campaigns.selectors import CampaignOffer, campaign_offer
from core.money import format_minor, format_percent

MAX_OFFERS = 3  # without an invitation: the first campaigns open to applications


@dataclass(frozen=True)
class OfferView:
    name: str
    slug: str
    description: str
    commission: str  # "10 % of each sale", "5 % to 12 % of each sale", "COP 5.000,00 per unit sold"
    tier_bonus: str
    discount: str
    hold: str
    minimum_payout: str
    invited: bool


def _pct(value: Decimal) -> str:
    """A rate in percent as people write it: "10 %", "12,5 %" (no trailing zeros)."""
    normalized = value.normalize()
    places = max(0, -int(normalized.as_tuple().exponent))  # type: ignore[operator]
    return format_percent(value, fraction=False, decimal_pos=min(places, 3))


def _commission(offer: CampaignOffer, currency: str) -> str:
    parts = []
    if offer.rate_min is not None and offer.rate_max is not None:
        if offer.rate_min == offer.rate_max:
            parts.append(_("%(rate)s of each sale") % {"rate": _pct(offer.rate_max)})
        else:
            parts.append(
                _("%(low)s to %(high)s of each sale") % {"low": _pct(offer.rate_min), "high": _pct(offer.rate_max)}
            )
    if offer.amount_min is not None and offer.amount_max is not None:
        if offer.amount_min == offer.amount_max:
            parts.append(_("%(amount)s per unit sold") % {"amount": format_minor(offer.amount_max, currency)})
        else:
            parts.append(
                _("%(low)s to %(high)s per unit sold")
                % {"low": format_minor(offer.amount_min, currency), "high": format_minor(offer.amount_max, currency)}
            )
    return _(" and ").join(parts)


def offer_view(*, brand: Brand, offer: CampaignOffer, invited: bool) -> OfferView:
    currency = brand.currency
    campaign = offer.campaign
    return OfferView(
        name=campaign.name,
        slug=campaign.slug,
        description=campaign.description,
        commission=_commission(offer, currency) if offer.has_commission else "",
        tier_bonus=(
            _("up to %(points)s more when you reach the campaign's tiers") % {"points": _pct(offer.tier_bonus_max)}
            if offer.tier_bonus_max
            else ""
        ),
        discount=(
            _("%(discount)s off for your followers with your code") % {"discount": _pct(offer.discount_percent)}
            if offer.discount_percent > 0
            else ""
        ),
        hold=ngettext(
            "%(days)s day after the order is invoiced; then you can withdraw it",
            "%(days)s days after the order is invoiced; then you can withdraw it",
            offer.hold_days,
        )
        % {"days": offer.hold_days},
        minimum_payout=format_minor(brand.min_withdrawal_cents, currency) if brand.min_withdrawal_cents > 0 else "",
        invited=invited,
    )


def join_offers(*, brand: Brand, campaigns: QuerySet[Campaign], wanted: Campaign | None) -> list[OfferView]:
    """The invited campaign's offer, or those of the first campaigns open to applications
    (active ones first)."""
    if wanted is not None:
        return [offer_view(brand=brand, offer=campaign_offer(campaign=wanted), invited=True)]
    chosen = sorted(campaigns, key=lambda c: (c.status != Campaign.Status.ACTIVE, c.name))[:MAX_OFFERS]
    return [offer_view(brand=brand, offer=campaign_offer(campaign=c), invited=False) for c in chosen]
