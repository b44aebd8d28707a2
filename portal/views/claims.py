"""Missing sale? The influencer claims a VTEX order they believe is theirs (with the buyer's
message and a screenshot if they have them) and follows their claims and the brand's decisions.
Thin: claims.services decides what may be claimed, claims.selectors lists."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from affiliates.models import Membership
from claims.selectors import claim_campaigns_for_influencer, claim_list_for_influencer
from claims.services import claim_submit
from core.errors import ApplicationError
from portal.access import APPROVED, portal_view
from portal.forms import ClaimForm, apply_error


@portal_view("claims", needs=APPROVED)
def claims(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    membership: Membership = context["membership"]
    campaigns = claim_campaigns_for_influencer(influencer=membership.influencer, brand=membership.brand)
    posted = request.method == "POST"
    form = ClaimForm(request.POST if posted else None, request.FILES if posted else None, campaigns=campaigns)
    status = 200
    if posted:
        if form.is_valid() and campaigns:
            chosen = form.cleaned_data.get("campaign") or campaigns[0].pk
            campaign = next((c for c in campaigns if c.pk == chosen), campaigns[0])
            try:
                claim_submit(
                    influencer=membership.influencer,
                    campaign=campaign,
                    vtex_order_id=form.cleaned_data["vtex_order_id"],
                    buyer_message=form.cleaned_data.get("buyer_message") or "",
                    evidence=form.cleaned_data.get("evidence"),
                    actor=request.user,
                )
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, _("Claim sent. The brand reviews it and you will be told the decision."))
                target = reverse("portal:claims", kwargs={"brand_slug": membership.brand.slug})
                if getattr(request, "htmx", False):
                    return HttpResponse(status=204, headers={"HX-Redirect": target})
                return redirect(target)
        # htmx swaps 4xx responses into the page (static/js/app.js), so the errors show in place.
        status = 400
    context.update(
        form=form,
        can_claim=bool(campaigns),
        deadline_days=membership.brand.claim_deadline_days,
        claims=claim_list_for_influencer(influencer=membership.influencer, brand=membership.brand),
    )
    template = "portal/claims.html"
    if getattr(request, "htmx", False) and posted:
        template += "#claim-form"
    return render(request, template, context, status=status)
