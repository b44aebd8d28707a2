"""Daily rollups: the facts of one brand and day (brand time zone) summed per campaign,
influencer, variant and country.

How they stay current: the services that record facts (the click drain, the order sync, a
commission adjustment) call `rollup_refresh_on_commit` with the moments they touched; once their
transaction commits, the affected (brand, day) pairs, and only those, are recomputed from the
source tables under a per-day row lock. `rollups_rebuild` runs the very same computation over a
date range, so a rebuild equals what the incremental path produced; `tests/reports` checks it.

Changes made by contexts that do not call us (the payout cutoff releasing held money) reach the
rollups through `rollups_refresh_recent`, which Celery Beat runs nightly over the last days.
See docs/reports.md.
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from affiliates.models import Influencer
from brands.models import Brand
from campaigns.models import CampaignAssignment
from commissions.models import Commission
from core import batching, events
from orders.models import Order, OrderLine, ReturnInvoice
from orders.selectors import order_brand_cents
from payments.models import CommissionPosition
from reports.locks import rollup_days_lock
from reports.models import DailyRollup, LineRollup, LinkRollup, RollupDay
from tracking.models import Click, Link

logger = logging.getLogger(__name__)

Key = tuple[date, int, int, int | None, str]  # day, campaign, influencer, variant, country
COUNTERS = [
    "clicks_valid",
    "clicks_screened",
    "unique_visitors",
    "orders",
    "revenue_cents",
    "returned_orders",
    "returned_cents",
    "commission_estimated_cents",
    "commission_confirmed_cents",
    "commission_reversed_cents",
    "commission_paid_cents",
]


def brand_day_bounds(*, tz: Any, start: date, end: date) -> tuple[datetime, datetime]:
    """Inclusive local days [start, end] → half-open aware datetimes."""
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days grouped into (first, last) runs, so a refresh queries ranges."""
    ordered = sorted(set(days))
    runs: list[tuple[date, date]] = []
    for day in ordered:
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


# (pk, order placed at, campaign, influencer, variant, state, amount, reversed, adjustment, line)
CommissionFact = tuple[int, datetime | None, int, int, int | None, str, int, int, int, int]


def _commission_facts(*, brand: Any, start: date, end: date) -> list[CommissionFact]:
    """The brand's commissions on orders placed in [start, end]: read once per refresh for both
    the daily and the line rollups."""

    since, until = brand_day_bounds(tz=brand.tz, start=start, end=end)
    return list(
        Commission.objects.filter(
            brand=brand, order__created_in_vtex_at__gte=since, order__created_in_vtex_at__lt=until
        ).values_list(
            "pk",
            "order__created_in_vtex_at",
            "campaign_id",
            "influencer_id",
            "variant_id",
            "state",
            "amount_cents",
            "reversed_cents",
            "adjustment_cents",
            "line_id",
        )
    )


def _compute(
    *, brand: Any, start: date, end: date, commissions: list[CommissionFact]
) -> tuple[dict[Key, dict[str, int]], dict[tuple[int, int], int | None]]:
    """The rollup rows of [start, end] computed from clicks, orders, returns and `commissions`
    (`_commission_facts` of the same range)."""

    tz = brand.tz
    since, until = brand_day_bounds(tz=tz, start=start, end=end)
    rows: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    variants: dict[tuple[int, int], int | None] = {}
    tiers: dict[tuple[int, int], int | None] = {}
    for a, i, v, t in CampaignAssignment.objects.filter(campaign__brand=brand).values_list(
        "campaign_id", "influencer_id", "variant_id", "tier_id"
    ):
        variants[(a, i)] = v
        tiers[(a, i)] = t
    countries: dict[int, str] = dict(
        Influencer.objects.filter(memberships__brand=brand).values_list("pk", "country").order_by()
    )

    def key(day: date, campaign_id: int, influencer_id: int, variant_id: int | None = None) -> Key:
        if variant_id is None:
            variant_id = variants.get((campaign_id, influencer_id))
        return (day, campaign_id, influencer_id, variant_id, countries.get(influencer_id, ""))

    clicks = list(
        Click.objects.filter(brand=brand, occurred_at__gte=since, occurred_at__lt=until)
        .annotate(local_day=TruncDate("occurred_at", tzinfo=tz))
        .values("local_day", "campaign_id", "influencer_id")
        .annotate(
            valid=Count("id", filter=Q(is_valid=True)),
            screened=Count("id", filter=Q(is_valid=False)),
            visitors=Count("visitor_id", filter=Q(is_valid=True), distinct=True),
        )
        .order_by()
    )
    attributed = Order.objects.filter(
        brand=brand,
        created_in_vtex_at__gte=since,
        created_in_vtex_at__lt=until,
        influencer__isnull=False,
        campaign__isnull=False,
    ).exclude(attribution_source=Order.AttributionSource.NONE)
    orders = list(
        attributed.exclude(status="canceled")
        .annotate(local_day=TruncDate("created_in_vtex_at", tzinfo=tz))
        .values("local_day", "campaign_id", "influencer_id", "code__variant_id")
        .annotate(n=Count("id"), revenue=Sum(order_brand_cents()))
        .order_by()
    )
    returns = list(
        ReturnInvoice.objects.filter(order__in=attributed)
        .annotate(local_day=TruncDate("order__created_in_vtex_at", tzinfo=tz))
        .values("local_day", "order__campaign_id", "order__influencer_id", "order__code__variant_id")
        .annotate(n=Count("order_id", distinct=True), value=Sum(order_brand_cents(order_path="order__")))
        .order_by()
    )
    # Influencers without a membership in the brand (any more): their countries in one query.
    seen = (
        {c["influencer_id"] for c in clicks}
        | {o["influencer_id"] for o in orders}
        | {r["order__influencer_id"] for r in returns}
        | {c[3] for c in commissions}
    )
    missing = seen - countries.keys()
    if missing:
        countries.update(Influencer.objects.filter(pk__in=missing).values_list("pk", "country").order_by())
    for c in clicks:
        row = rows[key(c["local_day"], c["campaign_id"], c["influencer_id"])]
        row["clicks_valid"] += c["valid"]
        row["clicks_screened"] += c["screened"]
        row["unique_visitors"] += c["visitors"]

    for o in orders:
        row = rows[key(o["local_day"], o["campaign_id"], o["influencer_id"], o["code__variant_id"])]
        row["orders"] += o["n"]
        row["revenue_cents"] += o["revenue"] or 0

    for r in returns:
        row = rows[
            key(r["local_day"], r["order__campaign_id"], r["order__influencer_id"], r["order__code__variant_id"])
        ]
        row["returned_orders"] += r["n"]
        row["returned_cents"] += r["value"] or 0

    released: dict[str, int] = {}
    refs = [f"commission:{c[0]}" for c in commissions]
    for chunk_start in range(0, len(refs), 2000):
        released.update(
            CommissionPosition.objects.filter(
                brand=brand, commission_ref__in=refs[chunk_start : chunk_start + 2000]
            ).values_list("commission_ref", "released_cents")
        )
    confirmed_states = {Commission.State.CONFIRMED, Commission.State.PARTIALLY_REVERSED}
    for pk, placed_at, campaign_id, influencer_id, variant_id, state, amount, back, adjusted, _line in commissions:
        day = timezone.localtime(placed_at, tz).date()
        row = rows[key(day, campaign_id, influencer_id, variant_id)]
        net = max(0, amount - back + adjusted)
        if state == Commission.State.ESTIMATED:
            row["commission_estimated_cents"] += net
        elif state in confirmed_states:
            row["commission_confirmed_cents"] += net
        row["commission_reversed_cents"] += back
        row["commission_paid_cents"] += released.get(f"commission:{pk}", 0)
    return {k: v for k, v in rows.items() if any(v.values())}, tiers


LINE_COUNTERS = [
    "orders",
    "units",
    "revenue_cents",
    "returned_units",
    "commission_estimated_cents",
    "commission_confirmed_cents",
]


def _compute_lines(
    *, brand: Any, start: date, end: date, commissions: list[CommissionFact]
) -> dict[tuple[date, int, int, str, str], dict[str, int]]:
    """Attributed, not canceled order lines of [start, end] per SKU and category, with the
    money of `commissions` (`_commission_facts` of the same range)."""

    tz = brand.tz
    since, until = brand_day_bounds(tz=tz, start=start, end=end)
    lines = (
        OrderLine.objects.filter(
            order__brand=brand,
            order__created_in_vtex_at__gte=since,
            order__created_in_vtex_at__lt=until,
            order__influencer__isnull=False,
            order__campaign__isnull=False,
            is_gift=False,
        )
        .exclude(order__attribution_source=Order.AttributionSource.NONE)
        .exclude(order__status="canceled")
        .annotate(brand_total_cents=order_brand_cents("total_cents", order_path="order__"))
        .values_list(
            "pk",
            "order_id",
            "order__created_in_vtex_at",
            "order__campaign_id",
            "order__influencer_id",
            "sku_id",
            "category_ids",
            "quantity",
            "brand_total_cents",
            "returned_quantity",
            "removed_quantity",
        )
    )
    money: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
    confirmed_states = {Commission.State.CONFIRMED, Commission.State.PARTIALLY_REVERSED}
    for *_head, state, amount, back, adjusted, line_id in commissions:
        est, conf = money[line_id]
        net = max(0, amount - back + adjusted)
        if state == Commission.State.ESTIMATED:
            est += net
        elif state in confirmed_states:
            conf += net
        money[line_id] = (est, conf)
    rows: dict[tuple[date, int, int, str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(LINE_COUNTERS, 0))
    seen_orders: set[tuple[tuple[date, int, int, str, str], int]] = set()
    for pk, order_id, placed, campaign_id, influencer_id, sku, categories, qty, total, returned, removed in lines:
        category = str(categories[-1]) if categories else ""
        key = (timezone.localtime(placed, tz).date(), campaign_id, influencer_id, sku, category[:40])
        row = rows[key]
        if (key, order_id) not in seen_orders:
            seen_orders.add((key, order_id))
            row["orders"] += 1
        row["units"] += qty
        row["revenue_cents"] += total
        row["returned_units"] += min(qty, returned + removed)
        est, conf = money.get(pk, (0, 0))
        row["commission_estimated_cents"] += est
        row["commission_confirmed_cents"] += conf
    return dict(rows)


LINK_COUNTERS = [
    "clicks_valid",
    "unique_visitors",
    "orders",
    "revenue_cents",
    "commission_estimated_cents",
    "commission_confirmed_cents",
]
LinkKey = tuple[date, int]  # day, link


def _compute_links(*, brand: Any, start: date, end: date) -> dict[LinkKey, dict[str, int]]:
    """Per tracked link and local day of [start, end]: valid clicks and distinct visitors, the
    orders the link's click won (`Order.link`, canceled left out) with their value, and the net
    commission on those orders by state (the same net as the daily rollups)."""

    tz = brand.tz
    since, until = brand_day_bounds(tz=tz, start=start, end=end)
    rows: dict[LinkKey, dict[str, int]] = defaultdict(lambda: dict.fromkeys(LINK_COUNTERS, 0))
    for c in (
        Click.objects.filter(brand=brand, occurred_at__gte=since, occurred_at__lt=until, is_valid=True)
        .annotate(local_day=TruncDate("occurred_at", tzinfo=tz))
        .values("local_day", "link_id")
        .annotate(n=Count("id"), visitors=Count("visitor_id", distinct=True))
        .order_by()
    ):
        row = rows[(c["local_day"], c["link_id"])]
        row["clicks_valid"] += c["n"]
        row["unique_visitors"] += c["visitors"]
    won = (
        Order.objects.filter(
            brand=brand, created_in_vtex_at__gte=since, created_in_vtex_at__lt=until, link__isnull=False
        )
        .exclude(attribution_source=Order.AttributionSource.NONE)
        .exclude(status="canceled")
    )
    for o in (
        won.annotate(local_day=TruncDate("created_in_vtex_at", tzinfo=tz))
        .values("local_day", "link_id")
        .annotate(n=Count("id"), revenue=Sum("value_cents"))
        .order_by()
    ):
        row = rows[(o["local_day"], o["link_id"])]
        row["orders"] += o["n"]
        row["revenue_cents"] += o["revenue"] or 0
    confirmed_states = {Commission.State.CONFIRMED, Commission.State.PARTIALLY_REVERSED}
    for link_id, placed_at, state, amount, back, adjusted in Commission.objects.filter(
        brand=brand, order__in=won
    ).values_list(
        "order__link_id", "order__created_in_vtex_at", "state", "amount_cents", "reversed_cents", "adjustment_cents"
    ):
        row = rows[(timezone.localtime(placed_at, tz).date(), link_id)]
        net = max(0, amount - back + adjusted)
        if state == Commission.State.ESTIMATED:
            row["commission_estimated_cents"] += net
        elif state in confirmed_states:
            row["commission_confirmed_cents"] += net
    return {k: v for k, v in rows.items() if any(v.values())}


def rollup_refresh(*, brand_id: int, days: Iterable[date]) -> int:
    """Recompute the rollups of these days of the brand from the source tables. Returns the
    number of rows written. Serialised per (brand, day) by the RollupDay row lock."""

    brand = Brand.objects.get(pk=brand_id)
    written = 0
    for start, end in _runs(days):
        with transaction.atomic():
            run_days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
            now = timezone.now()
            RollupDay.objects.bulk_create(
                [RollupDay(brand=brand, day=day, refreshed_at=now) for day in run_days], ignore_conflicts=True
            )
            # Lock the days first (pk order, no deadlocks), then read the facts: a refresh that
            # waited on the lock sees everything committed before it got it.
            rollup_days_lock(brand=brand, start=start, end=end)
            commissions = _commission_facts(brand=brand, start=start, end=end)
            computed, tiers = _compute(brand=brand, start=start, end=end, commissions=commissions)
            lines = _compute_lines(brand=brand, start=start, end=end, commissions=commissions)
            links = _compute_links(brand=brand, start=start, end=end)
            before = _rows_by_influencer(brand=brand, start=start, end=end)
            DailyRollup.objects.filter(brand=brand, day__gte=start, day__lte=end).delete()
            LineRollup.objects.filter(brand=brand, day__gte=start, day__lte=end).delete()
            LinkRollup.objects.filter(brand=brand, day__gte=start, day__lte=end).delete()
            DailyRollup.objects.bulk_create(
                [
                    DailyRollup(
                        brand=brand,
                        day=day,
                        campaign_id=campaign_id,
                        influencer_id=influencer_id,
                        variant_id=variant_id,
                        tier_id=tiers.get((campaign_id, influencer_id)),
                        country=country,
                        **values,
                    )
                    for (day, campaign_id, influencer_id, variant_id, country), values in computed.items()
                ],
                batch_size=1000,
            )
            LineRollup.objects.bulk_create(
                [
                    LineRollup(
                        brand=brand,
                        day=day,
                        campaign_id=campaign_id,
                        influencer_id=influencer_id,
                        sku_id=sku_id,
                        category_id=category_id,
                        **values,
                    )
                    for (day, campaign_id, influencer_id, sku_id, category_id), values in lines.items()
                ],
                batch_size=1000,
            )
            _write_link_rows(brand=brand, rows=links)
            RollupDay.objects.filter(brand=brand, day__gte=start, day__lte=end).update(refreshed_at=now)
            written += len(computed)
            after: dict[int, set[tuple[Any, ...]]] = defaultdict(set)
            for (day, campaign_id, influencer_id, variant_id, country), values in computed.items():
                after[influencer_id].add(
                    (day, campaign_id, variant_id, country, *(int(values.get(c) or 0) for c in COUNTERS))
                )
            moved = frozenset(pk for pk in before.keys() | after.keys() if before.get(pk) != after.get(pk))
            if moved:
                # After commit: a reader that sees the new generation reads the new rows.
                transaction.on_commit(
                    partial(events.publish, "rollups.moved", brand_id=brand.pk, influencer_ids=moved, days=run_days)
                )
    return written


def _write_link_rows(*, brand: Any, rows: dict[LinkKey, dict[str, int]]) -> None:
    owners = dict(
        (pk, (campaign_id, influencer_id))
        for pk, campaign_id, influencer_id in Link.objects.filter(pk__in={link_id for _day, link_id in rows})
        .values_list("pk", "campaign_id", "influencer_id")
        .order_by()
    )
    LinkRollup.objects.bulk_create(
        [
            LinkRollup(
                brand=brand,
                day=day,
                link_id=link_id,
                campaign_id=owners[link_id][0],
                influencer_id=owners[link_id][1],
                **values,
            )
            for (day, link_id), values in rows.items()
            if link_id in owners
        ],
        batch_size=1000,
    )


def _rows_by_influencer(*, brand: Any, start: date, end: date) -> dict[int, set[tuple[Any, ...]]]:
    """The rollup rows of these days as they stand, per influencer: compared with the rows a
    refresh writes, they say whose numbers moved (cached panels of the others stay valid)."""
    rows: dict[int, set[tuple[Any, ...]]] = defaultdict(set)
    for influencer_id, *row in DailyRollup.objects.filter(brand=brand, day__gte=start, day__lte=end).values_list(
        "influencer_id", "day", "campaign_id", "variant_id", "country", *COUNTERS
    ):
        rows[influencer_id].add(tuple(row))
    return rows


def _days_by_brand(points: Iterable[tuple[int, datetime | None]]) -> dict[int, set[date]]:
    by_brand: dict[int, set[datetime]] = defaultdict(set)
    for brand_id, moment in points:
        if brand_id and moment is not None:
            by_brand[brand_id].add(moment)
    if not by_brand:
        return {}
    ids = frozenset(by_brand)
    zones = batching.memo(("reports.brand_zones", ids), lambda: {b.pk: b.tz for b in Brand.objects.filter(pk__in=ids)})
    return {
        brand_id: {timezone.localtime(m, zones[brand_id]).date() for m in moments}
        for brand_id, moments in by_brand.items()
        if brand_id in zones
    }


def _refresh_quietly(by_brand: dict[int, set[date]]) -> None:
    for brand_id, days in by_brand.items():
        try:
            rollup_refresh(brand_id=brand_id, days=days)
        except Exception:  # the fact is recorded; the nightly refresh heals the rollup
            logger.exception("rollup refresh failed for brand %s days %s", brand_id, sorted(days))


def _pending_key(brand_id: int, day: date) -> str:
    return f"reports:rollup-pending:{brand_id}:{day.isoformat()}"


def rollup_refresh_on_commit(*, points: Iterable[tuple[int, datetime | None]]) -> None:
    """Called by the services that record facts, inside their transaction, with (brand id,
    moment) pairs they touched: after commit, those brands' local days are recomputed. A
    failure is logged, never raised into the caller (its facts are already committed)."""
    by_brand = _days_by_brand(points)
    if not by_brand:
        return
    if batching.current() is None:
        transaction.on_commit(partial(_schedule_refresh, by_brand))
        return

    # Inside a batch (core.batching): one refresh request for all its orders, after commit.
    def start() -> dict[int, set[date]]:
        days: dict[int, set[date]] = defaultdict(set)
        transaction.on_commit(partial(_schedule_refresh, days))
        return days

    pending = batching.memo(("reports.rollup_days",), start)
    for brand_id, days in by_brand.items():
        pending[brand_id] |= days


def _schedule_refresh(by_brand: dict[int, set[date]]) -> None:
    """Debounce: a busy day (hundreds of orders a minute) is recomputed once per
    ROLLUP_REFRESH_DELAY_SECONDS, not once per fact. The first fact marks the (brand, day)
    pending and queues a refresh that runs after the delay; later facts see the mark and add
    nothing. The task clears the mark *before* it reads, so a fact committed while it runs
    queues the next refresh: nothing is missed. Without a broker (tests, demo) tasks run at
    once, which is the old behaviour."""

    from reports.tasks import rollups_refresh_days_task  # noqa: PLC0415 tasks↔services cycle inside the app

    delay = settings.ROLLUP_REFRESH_DELAY_SECONDS
    for brand_id, days in by_brand.items():
        # The mark outlives a lost task by a little; the nightly refresh heals the rest.
        due = sorted(day for day in days if cache.add(_pending_key(brand_id, day), 1, timeout=delay * 12 + 60))
        if not due:
            continue
        try:
            rollups_refresh_days_task.apply_async(
                kwargs={"brand_id": brand_id, "days": [day.isoformat() for day in due]}, countdown=delay
            )
        except Exception:  # the broker is down: refresh here rather than lose the update
            logger.exception("could not queue the rollup refresh; refreshing in-process")
            cache.delete_many([_pending_key(brand_id, day) for day in due])
            _refresh_quietly({brand_id: set(due)})


def rollups_refresh_days(*, brand_id: int, days: list[date]) -> int:
    """The queued half of the debounce: clear the marks, then recompute the days."""

    cache.delete_many([_pending_key(brand_id, day) for day in days])
    return rollup_refresh(brand_id=brand_id, days=days)


def rollups_rebuild(
    *,
    brand: Any,
    date_from: date,
    date_to: date,
    chunk_days: int = 7,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Recompute every day of [date_from, date_to] for the brand, a chunk of days at a time."""
    total = (date_to - date_from).days + 1
    done = 0
    written = 0
    day = date_from
    while day <= date_to:
        last = min(day + timedelta(days=chunk_days - 1), date_to)
        written += rollup_refresh(
            brand_id=brand.pk, days=[day + timedelta(days=i) for i in range((last - day).days + 1)]
        )
        done += (last - day).days + 1
        if progress is not None:
            progress(done, total)
        day = last + timedelta(days=1)
    return written


def rollups_refresh_recent(*, days: int = 45, today: date | None = None) -> int:
    """Recompute the last `days` days of every active brand (nightly): picks up what contexts
    that do not notify us changed, such as money released by the payout cutoff."""

    written = 0
    for brand in Brand.objects.filter(is_active=True):
        end = today or timezone.localtime(timezone.now(), brand.tz).date()
        written += rollups_rebuild(brand=brand, date_from=end - timedelta(days=days - 1), date_to=end)
    return written
