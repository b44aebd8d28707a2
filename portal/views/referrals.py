"""My referrals: the recruiting link of each campaign with referrals on, the influencers it
brought and what each earned (commissions.referral_selectors). Thin."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from affiliates.models import Membership
from affiliates.referrals import (
    device_cookie_set,
    device_cookie_value,
    recruiting_campaigns,
    recruiting_link_get,
)
from commissions.referral_selectors import referral_list_for_referrer, referral_rewards_for_beneficiary
from core.qr import public_qr_svg
from portal.access import ACTIVE_OR_SUSPENDED, portal_view


@portal_view("referrals", needs=ACTIVE_OR_SUSPENDED)
def referrals(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    membership: Membership = context["membership"]
    influencer, brand = membership.influencer, membership.brand
    device, is_new = device_cookie_value(request)
    links = []
    if membership.status == Membership.Status.APPROVED:
        join = reverse("affiliates:join", kwargs={"brand_slug": brand.slug})
        for campaign in recruiting_campaigns(influencer=influencer, brand=brand):
            # Opening this page from a browser marks it as the referrer's: an application from
            # it is a self-referral.
            link = recruiting_link_get(influencer=influencer, campaign=campaign, device=device)
            url = request.build_absolute_uri(f"{join}?campaign={campaign.slug}&ref={link.token}")
            links.append({"campaign": campaign, "url": url, "qr": public_qr_svg(url, scale=4, dark="#1d2433")})
    context.update(
        links=links,
        rows=referral_list_for_referrer(influencer=influencer, brand=brand),
        rewards=referral_rewards_for_beneficiary(influencer=influencer, brand=brand),
    )
    response = render(request, "portal/referrals.html", context)
    if is_new:
        device_cookie_set(response, device)
    return response
