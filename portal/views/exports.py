"""Downloads of the influencer's own orders, earnings and statements (CSV, XLSX)."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse

from payments.selectors import statement_build
from portal import exports
from portal import selectors as portal_selectors
from portal.access import ACTIVE_OR_SUSPENDED, portal_view
from portal.views.money import statement_period


@portal_view("exports", needs=ACTIVE_OR_SUSPENDED)
def export(request: HttpRequest, context: dict[str, Any], kind: str, fmt: str) -> HttpResponse:
    if fmt not in exports.FORMATS:
        raise Http404
    membership = context["membership"]
    currency = membership.brand.currency
    suffix = ""
    if kind == "orders":
        period = portal_selectors.period_resolve(key=request.GET.get("period"), tz=membership.brand.tz)
        orders = portal_selectors.portal_order_list(membership=membership, period=period)
        sheet = exports.orders_sheet(orders, currency=currency, period=period)
        suffix = f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    elif kind == "earnings":
        sheet = exports.earnings_sheet(portal_selectors.portal_earning_list(membership=membership), currency=currency)
    elif kind == "statement":
        start = statement_period(request.GET.get("period", ""))
        statement = statement_build(influencer=membership.influencer, brand=membership.brand, period_start=start)
        sheet = exports.statement_sheet(statement)
        suffix = f"{start:%Y%m%d}"
    else:
        raise Http404
    response = HttpResponse(exports.render(sheet, fmt), content_type=exports.FORMATS[fmt])
    name = exports.filename(membership=membership, kind=kind, fmt=fmt, suffix=suffix)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
