"""Reads of commission records: lists for admin and API, the influencer's orders with their
commissions and the totals for the portal, whether an order's attribution is settled (asked by
orders through orders.reactions), and the performance numbers tier evaluation needs (registered
with campaigns.performance by commissions.apps)."""

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum

from affiliates.models import Influencer
from brands.models import Brand
from brands.scoping import scope_queryset
from campaigns.performance import Performance
from commissions.models import NET_CENTS, Commission, FraudReview, LedgerStage
from core import batching
from core.money import round_minor
from orders.models import Order, OrderLine
from orders.selectors import order_created_bounds
from payments.origins import LedgerOrigin
from tracking.fraud_holds import HoldSubject

CONFIRMED_STATES = (Commission.State.CONFIRMED, Commission.State.PARTIALLY_REVERSED)


def commission_list(*, brand_ids: set[int] | None) -> QuerySet[Commission]:
    return (
        scope_queryset(Commission.objects.all(), brand_ids, brand_field="brand")
        .select_related("brand", "order", "line", "influencer", "campaign", "variant", "code")
        .order_by("-created_at", "-id")
    )


def order_list_for_influencer(
    *, influencer: Influencer, brand: Brand, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[Order]:
    """The influencer's attributed orders in the brand (newest first), with their lines and the
    influencer's commissions prefetched, for the portal's "orders" page."""
    return (
        Order.objects.filter(
            brand=brand,
            influencer=influencer,
            **order_created_bounds(brand=brand, date_from=date_from, date_to=date_to),
        )
        .select_related("campaign", "code")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("item_index")),
            Prefetch("commissions", queryset=Commission.objects.filter(influencer=influencer).order_by("line_id")),
        )
        .order_by("-created_in_vtex_at", "-id")
    )


def commission_totals_for_influencer(
    *, influencer: Influencer, brand: Brand, date_from: date | None = None, date_to: date | None = None
) -> dict[str, int]:
    """Net commission cents by state ("estimated", "confirmed", "partially_reversed",
    "reversed") plus "total" (everything not reversed), for orders created in the period.
    Each record is floored at zero before summing (commissions.models.NET_CENTS), as the
    rollups and `Commission.net_cents` do."""
    bounds = order_created_bounds(brand=brand, date_from=date_from, date_to=date_to)
    rows = (
        Commission.objects.filter(
            brand=brand, influencer=influencer, **{f"order__{key}": value for key, value in bounds.items()}
        )
        .values("state")
        .annotate(net=Sum(NET_CENTS))
    )
    totals = {state: 0 for state in Commission.State.values}
    for row in rows:
        totals[row["state"]] = row["net"] or 0
    totals["total"] = sum(value for state, value in totals.items() if state != Commission.State.REVERSED)
    return totals


def order_attribution_settled(order: Order) -> bool:
    """An order's attribution is settled money once one of its commissions is confirmed in the
    ledger; the order sync then leaves it as it was (asked through orders.reactions)."""
    ahead = batching.memo_peek(commissions_ahead_key(order.pk))
    if ahead is not None:  # a batch read the order's commissions ahead (commissions_prefetch)
        return any(commission.ledger_stage == LedgerStage.CONFIRMED for commission in ahead)
    return Commission.objects.filter(order=order, ledger_stage=LedgerStage.CONFIRMED).exists()


def commissions_ahead_key(order_id: int) -> tuple[str, int]:
    """Where a batch keeps an order's commissions, read ahead and locked (core.batching)."""
    return ("commissions.of_order", order_id)


def commission_performance(
    campaign_id: int, influencer_ids: list[int], start: datetime, end: datetime
) -> Mapping[int, Performance]:
    """Confirmed sales (net base of the units kept, in cents) and confirmed orders per influencer
    in the campaign, for orders created in [start, end).

    The kept base of a partly returned line is base × kept / quantity, rounded once with
    core.money.round_minor (as the reversal of its commission is); whole lines are summed in
    the database and only partly returned ones are read, which are few."""
    confirmed = Commission.objects.filter(
        campaign_id=campaign_id,
        influencer_id__in=influencer_ids,
        state__in=CONFIRMED_STATES,
        quantity__gt=0,
        order__created_in_vtex_at__gte=start,
        order__created_in_vtex_at__lt=end,
    )
    rows = (
        confirmed.values("influencer_id")
        .order_by()
        .annotate(
            whole=Sum("base_cents", filter=Q(units_reversed=0)),
            orders=Count("order_id", distinct=True),
        )
    )
    sales = {row["influencer_id"]: int(row["whole"] or 0) for row in rows}
    orders = {row["influencer_id"]: row["orders"] for row in rows}
    partly = confirmed.filter(units_reversed__gt=0, units_reversed__lt=F("quantity")).values_list(
        "influencer_id", "base_cents", "quantity", "units_reversed"
    )
    for influencer_id, base, quantity, units in partly:
        sales[influencer_id] += round_minor(Decimal(base) * (quantity - units) / quantity)
    return {pk: Performance(sales_cents=sales[pk], orders=orders[pk]) for pk in sales}


def commission_held_by_order(*, brand_ids: set[int], order_refs: set[str]) -> dict[tuple[int, str], int]:
    """Net cents of the commissions on fraud hold per (brand id, VTEX order id), for the
    review queue."""
    if not brand_ids or not order_refs:
        return {}
    held: dict[tuple[int, str], int] = {}
    for commission in Commission.objects.filter(
        brand_id__in=brand_ids, order__vtex_order_id__in=order_refs, fraud_review=FraudReview.HELD
    ).select_related("order"):
        key = (commission.brand_id, commission.order.vtex_order_id)
        held[key] = held.get(key, 0) + commission.net_cents
    return held


def commission_hold_subject(ref: str) -> HoldSubject | None:
    """The (brand, influencer, VTEX order) a ledger reference "commission:<pk>" (or
    "commission:<pk>:adj:<n>") stands for, for tracking's hold check (`tracking.fraud_holds`);
    None for any other reference or an unknown commission."""
    parts = (ref or "").split(":")
    if len(parts) < 2 or parts[0] != "commission" or not parts[1].isdigit():
        return None
    row = (
        Commission.objects.filter(pk=int(parts[1]))
        .values_list("brand_id", "influencer_id", "order__vtex_order_id")
        .first()
    )
    if row is None:
        return None
    return HoldSubject(brand_id=row[0], influencer_id=row[1], order_ref=row[2])


_REF = re.compile(r"^commission:(\d+)(?::adj:\d+)?(?:#.*)?$")


def commission_origins(*, refs: Iterable[str], influencer_id: int) -> dict[str, LedgerOrigin]:
    """The order behind each ledger reference this context wrote (`Commission.ledger_ref`,
    adjustments and reversals of it), for one influencer; other references are left out.
    Registered with payments.origins, which describes ledger lines without importing us."""
    ids = {int(m.group(1)) for ref in refs if (m := _REF.match(ref or ""))}
    rows = {
        c.pk: LedgerOrigin(
            order_id=c.order.vtex_order_id,
            placed_at=c.order.created_in_vtex_at or c.order.created_at,
            code=c.code.text if c.code else "",
        )
        for c in Commission.objects.filter(pk__in=ids, influencer_id=influencer_id).select_related("order", "code")
    }
    out = {}
    for ref in refs:
        m = _REF.match(ref or "")
        if m and int(m.group(1)) in rows:
            out[ref] = rows[int(m.group(1))]
    return out
