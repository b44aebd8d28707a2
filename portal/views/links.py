"""My links: the influencer's tracked links with a brand, each with its numbers over a period
(clicks, orders, sales, commission, conversion) and a small chart, a form to make a new one to
any page of the store, one link's page with its daily chart and QR code, and turning a link
off. Thin: tracking's services write, portal.selectors reads (from the link rollups)."""

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from affiliates.models import Membership
from core.errors import ApplicationError
from core.qr import public_qr_svg
from portal import selectors as portal_selectors
from portal.access import APPROVED, portal_view
from portal.forms import LinkCreateForm, PeriodForm, apply_error
from reports.charts import trend_chart
from tracking.selectors import link_get_for_influencer, link_public_url
from tracking.services import link_create_by_influencer, link_deactivate


def _period(request: HttpRequest, membership: Membership) -> portal_selectors.Period:
    form = PeriodForm(request.GET or None)
    key = form.cleaned_data.get("period") if form.is_valid() else None
    return portal_selectors.period_resolve(key=key, tz=membership.brand.tz)


def _create_form(membership: Membership, data: Any = None) -> LinkCreateForm:
    return LinkCreateForm(
        data,
        campaigns=portal_selectors.portal_link_campaigns(membership=membership),
        store_domains=list(membership.brand.store_domains or []),
    )


@portal_view("links", needs=APPROVED)
def links(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    membership: Membership = context["membership"]
    status = 200
    form = _create_form(membership, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                link = link_create_by_influencer(
                    influencer=membership.influencer,
                    brand=membership.brand,
                    destination_url=form.cleaned_data["destination_url"],
                    label=form.cleaned_data.get("label") or "",
                    campaign_id=form.cleaned_data.get("campaign"),
                    actor=request.user,
                )
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, _("Your link is ready: share it and its numbers appear here."))
                target = reverse("portal:link", kwargs={"brand_slug": membership.brand.slug, "link_pk": link.pk})
                if getattr(request, "htmx", False):
                    # The new link's own page, not a swap of it into the form's place.
                    return HttpResponse(status=204, headers={"HX-Redirect": target})
                return redirect(target)
        # htmx swaps 4xx responses into the page (static/js/app.js), so the errors show in place.
        status = 400
    period = _period(request, membership)
    context.update(
        form=form,
        period=period,
        period_form=PeriodForm(initial={"period": period.key}),
        can_create=bool(portal_selectors.portal_link_campaigns(membership=membership)),
        links=portal_selectors.portal_link_list(membership=membership, period=period),
    )
    template = "portal/links.html"
    if getattr(request, "htmx", False):
        template += "#link-form" if request.method == "POST" else "#link-list"
    return render(request, template, context, status=status)


@portal_view("links", needs=APPROVED)
def link(request: HttpRequest, context: dict[str, Any], link_pk: int) -> HttpResponse:
    membership: Membership = context["membership"]
    period = _period(request, membership)
    item = portal_selectors.portal_link_get(membership=membership, pk=link_pk, period=period)
    if item is None:
        raise Http404
    context.update(
        item=item,
        period=period,
        period_form=PeriodForm(initial={"period": period.key}),
        chart=trend_chart(item.series, currency=membership.brand.currency),
        qr=public_qr_svg(item.url, scale=4, dark="#1d2433") if item.is_active else "",
    )
    template = "portal/link.html"
    if getattr(request, "htmx", False):
        template += "#link-stats"
    return render(request, template, context)


@portal_view("links", needs=APPROVED)
def link_qr(request: HttpRequest, context: dict[str, Any], link_pk: int) -> HttpResponse:
    membership: Membership = context["membership"]
    found = link_get_for_influencer(influencer=membership.influencer, brand=membership.brand, pk=link_pk)
    if found is None or not found.is_active:  # a link that no longer tracks is not shared
        raise Http404
    url = link_public_url(slug=found.slug)
    response = HttpResponse(public_qr_svg(url, scale=8, document=True), content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="qr-{found.slug}.svg"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@portal_view("links", needs=APPROVED)
def link_disable(request: HttpRequest, context: dict[str, Any], link_pk: int) -> HttpResponse:
    membership: Membership = context["membership"]
    found = link_get_for_influencer(influencer=membership.influencer, brand=membership.brand, pk=link_pk)
    if found is None:
        raise Http404
    link_deactivate(link=found, actor=request.user)
    messages.success(
        request, _("The link is off: it no longer opens the store or counts clicks. Its numbers stay here.")
    )
    return redirect("portal:link", brand_slug=membership.brand.slug, link_pk=found.pk)
