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
from payments.selectors import balances_for, influencer_withdrawals, statement_build, statement_periods
from payments.services import payout_period_for, withdrawal_request_create
from portal.access import portal_view
from portal.forms import WithdrawalRequestForm

VISIBLE = (Membership.Status.APPROVED, Membership.Status.SUSPENDED)


@portal_view("withdrawals", needs=VISIBLE)
def withdrawals(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    brand, influencer = context["brand"], context["influencer"]
    form = WithdrawalRequestForm(request.POST or None)
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
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Withdrawal %(w)s requested; finance will review it.") % {"w": withdrawal})
                return redirect("portal:withdrawals", brand_slug=brand.slug)
        status = 400
    context.update(
        form=form,
        balances=balances_for(brand=brand, influencer=influencer),
        withdrawals=influencer_withdrawals(influencer=influencer).filter(brand=brand)[:50],
    )
    template = "portal/withdrawals.html"
    if getattr(request, "htmx", False):
        template += "#withdrawal-panel"
    return render(request, template, context, status=status)


@portal_view("statements", needs=VISIBLE)
def statements(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    context.update(
        periods=statement_periods(influencer=context["influencer"], brand=context["brand"]),
    )
    return render(request, "portal/statements.html", context)


def _period(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise Http404 from exc
    if payout_period_for(day)[0] != day:
        raise Http404
    return day


@portal_view("statements", needs=VISIBLE)
def statement(request: HttpRequest, context: dict[str, Any], period: str) -> HttpResponse:
    statement = statement_build(influencer=context["influencer"], brand=context["brand"], period_start=_period(period))
    context.update(statement=statement)
    return render(request, "portal/statement.html", context)


@portal_view("statements", needs=VISIBLE)
def statement_pdf(request: HttpRequest, context: dict[str, Any], period: str) -> HttpResponse:
    statement = statement_build(influencer=context["influencer"], brand=context["brand"], period_start=_period(period))
    response = HttpResponse(payments_pdf.statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{statement.brand.slug}-{statement.period_start:%Y%m%d}.pdf"'
    )
    response["Cache-Control"] = "private, no-store"
    return response
