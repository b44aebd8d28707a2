"""Portal pages that show the influencer's performance with one brand: the brand picker, the
dashboard, codes and links, orders, earnings. Thin: the `portal_view` decorator checks the
person and the brand, a selector reads, a template renders (the partial when htmx asks)."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from affiliates.models import Membership
from affiliates.selectors import join_unfinished_brand, membership_list_for_user
from core.qr import public_qr_svg
from portal import selectors as portal_selectors
from portal.access import (
    ACTIVE_OR_SUSPENDED,
    APPROVED,
    activate_preferred_language,
    influencer_or_404,
    portal_view,
)
from portal.forms import PeriodForm
from reports.charts import trend_chart


@never_cache
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The brand picker: straight to the brand when there is only one."""
    influencer = influencer_or_404(request)
    memberships = list(membership_list_for_user(user=request.user))
    if not memberships:
        unfinished = join_unfinished_brand(influencer=influencer)
        if unfinished is not None:  # stopped after step 1 of the join page: finish step 2
            return redirect("affiliates:join", brand_slug=unfinished.slug)
    if len(memberships) == 1:
        return redirect("portal:dashboard", brand_slug=memberships[0].brand.slug)
    activate_preferred_language(request, influencer)
    return render(request, "portal/home.html", {"memberships": memberships, "influencer": influencer})


@portal_view("dashboard", needs=ACTIVE_OR_SUSPENDED)
def dashboard(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    membership: Membership = context["membership"]
    form = PeriodForm(request.GET or None)
    key = form.cleaned_data.get("period") if form.is_valid() else None
    period = portal_selectors.period_resolve(key=key, tz=membership.brand.tz)
    dashboard = portal_selectors.portal_dashboard(membership=membership, period=period)
    context.update(
        form=PeriodForm(initial={"period": period.key}),
        dashboard=dashboard,
        chart=trend_chart(dashboard.series, currency=dashboard.currency),
        codes=[c for c in portal_selectors.portal_code_list(membership=membership) if c.is_active]
        if membership.status == Membership.Status.APPROVED
        else [],
    )
    template = "portal/dashboard.html"
    if getattr(request, "htmx", False):
        template += "#stats"
    return render(request, template, context)


def _qr_svg(data: str) -> str:
    return public_qr_svg(data, scale=4, dark="#1d2433")


@portal_view("codes", needs=APPROVED)
def codes(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    membership: Membership = context["membership"]
    codes = portal_selectors.portal_code_list(membership=membership)
    context.update(codes=[{"code": code, "qr": _qr_svg(code.code) if code.is_active else ""} for code in codes])
    return render(request, "portal/codes.html", context)


@portal_view("codes", needs=APPROVED)
def code_qr(request: HttpRequest, context: dict[str, Any], code_pk: int) -> HttpResponse:
    code = portal_selectors.portal_code_get(membership=context["membership"], pk=code_pk)
    if code is None or not code.is_active:  # a code the store does not accept is not shared
        raise Http404
    response = HttpResponse(public_qr_svg(code.code, scale=8, document=True), content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="qr-{code.code}.svg"'
    response["Cache-Control"] = "private, no-store"
    return response


@portal_view("orders", needs=ACTIVE_OR_SUSPENDED)
def orders(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    membership: Membership = context["membership"]
    form = PeriodForm(request.GET or None)
    key = form.cleaned_data.get("period") if form.is_valid() else None
    period = portal_selectors.period_resolve(key=key, tz=membership.brand.tz)
    context.update(
        form=PeriodForm(initial={"period": period.key}),
        period=period,
        orders=portal_selectors.portal_order_list(membership=membership, period=period),
    )
    template = "portal/orders.html"
    if getattr(request, "htmx", False):
        template += "#order-table"
    return render(request, template, context)


@portal_view("earnings", needs=ACTIVE_OR_SUSPENDED)
def earnings(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    membership: Membership = context["membership"]
    context.update(
        balance=portal_selectors.portal_balance(membership=membership),
        earnings=portal_selectors.portal_earning_list(membership=membership),
    )
    return render(request, "portal/earnings.html", context)
