"""Reads of the orders context, for the admin, the API and the influencer portal."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import BigIntegerField, Case, F, Prefetch, QuerySet, Value, When
from django.db.models.functions import Cast, Round

from brands.models import Brand
from brands.scoping import scope_queryset
from orders.models import Order, OrderLine


def order_brand_cents(amount_field: str = "value_cents", *, order_path: str = "") -> Any:
    """An order amount in the brand's cents, as an expression to sum: as stored for an order in
    the brand's currency, at its recorded rate for a converted one, 0 for a held one (not
    brand money). `amount_field` is on the model queried; `order_path` reaches its order from
    there ("order__" for a return invoice). PostgreSQL rounds half away from zero here, where
    commissions use banker's rounding: a report total may differ by a cent per order."""
    Status = Order.CurrencyStatus
    amount = F(amount_field)
    return Case(
        When(**{order_path + "currency_status": Status.HELD}, then=Value(0)),
        When(
            **{order_path + "currency_status": Status.CONVERTED},
            then=Cast(Round(amount * F(order_path + "fx_rate")), BigIntegerField()),
        ),
        default=amount,
        output_field=BigIntegerField(),
    )


def order_list(*, brand_ids: set[int] | None) -> QuerySet[Order]:
    """Orders visible to these brands, with their lines, for listing."""
    return (
        scope_queryset(Order.objects.all(), brand_ids, brand_field="brand")
        .select_related("brand", "influencer", "campaign", "code")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("item_index")),
        )
        .order_by("-created_in_vtex_at", "-id")
    )


def order_created_bounds(*, brand: Brand, date_from: date | None, date_to: date | None) -> dict[str, datetime]:
    """Inclusive local days of the brand → half-open datetime bounds on `created_in_vtex_at`, as
    `Order.objects.filter(**bounds)` keywords (prefix them to filter a related order)."""
    bounds: dict[str, datetime] = {}
    if date_from is not None:
        bounds["created_in_vtex_at__gte"] = datetime.combine(date_from, time.min, tzinfo=brand.tz)
    if date_to is not None:
        bounds["created_in_vtex_at__lt"] = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=brand.tz)
    return bounds
