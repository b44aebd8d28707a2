"""Portal pages about money: balances and withdrawals, payout statements (HTML and PDF). Thin:
the `portal_view` decorator checks the person and the brand, a payments service or selector
does the work."""

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from affiliates.models import Membership
from core.errors import ApplicationError
from payments import pdf as payments_pdf
from payments.selectors import influencer_withdrawals, statement_build, statement_periods
from payments.services import payout_period_for, withdrawal_request_create
from portal.access import portal_view
from portal.forms import WithdrawalRequestForm
from portal.selectors import portal_balance

VISIBLE = (Membership.Status.APPROVED, Membership.Status.SUSPENDED)
#: service refusals about the amount typed: shown beside the field, the others above the form
AMOUNT_ERRORS = {
    "required",
    "not_a_number",
    "too_many_decimals",
    "not_positive",
    "below_minimum",
    "above_available",
    "currency_mismatch",
}


@portal_view("withdrawals", needs=VISIBLE)
def withdrawals(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    brand, influencer = context["brand"], context["influencer"]
    posted = request.method == "POST"
    form = WithdrawalRequestForm(request.POST if posted else None, brand=brand)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                withdrawal = withdrawal_request_create(
                    influencer=influencer,
                    brand=brand,
                    amount=form.cleaned_data["amount"],
                    all_available=form.cleaned_data["all_available"],
                    requested_by=request.user,
                )
            except ApplicationError as exc:
                form.add_error("amount" if exc.code in AMOUNT_ERRORS else None, str(exc.message))
            else:
                messages.success(request, _("Withdrawal %(w)s requested; finance will review it.") % {"w": withdrawal})
                return redirect("portal:withdrawals", brand_slug=brand.slug)
        status = 400
    context.update(
        form=form,
        balance=portal_balance(membership=context["membership"]),
        withdrawals=influencer_withdrawals(influencer=influencer).filter(brand=brand)[:50],
    )
    template = "portal/withdrawals.html"
    if getattr(request, "htmx", False):
        template += "#withdrawal-panel"
    return render(request, template, context, status=status)


@portal_view("statements", needs=VISIBLE)
def statements(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    context.update(
        balance=portal_balance(membership=context["membership"]),
        periods=statement_periods(influencer=context["influencer"], brand=context["brand"]),
    )
    return render(request, "portal/statements.html", context)


def statement_period(value: str) -> date:
    """The first day of a payout period from the URL, or 404."""
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise Http404 from exc
    if payout_period_for(day)[0] != day:
        raise Http404
    return day


@portal_view("statements", needs=VISIBLE)
def statement(request: HttpRequest, context: dict[str, Any], period: str) -> HttpResponse:
    statement = statement_build(
        influencer=context["influencer"], brand=context["brand"], period_start=statement_period(period)
    )
    context.update(statement=statement)
    return render(request, "portal/statement.html", context)


@portal_view("statements", needs=VISIBLE)
def statement_pdf(request: HttpRequest, context: dict[str, Any], period: str) -> HttpResponse:
    statement = statement_build(
        influencer=context["influencer"], brand=context["brand"], period_start=statement_period(period)
    )
    response = HttpResponse(payments_pdf.statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{statement.brand.slug}-{statement.period_start:%Y%m%d}.pdf"'
    )
    response["Cache-Control"] = "private, no-store"
    return response
