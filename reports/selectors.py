"""Reads behind the back-office dashboard (managers and finance): KPIs for a period against the
previous one, the daily series, top influencers and campaigns, the funnel, the work queues and
the last-60-minutes panel. Everything is for one brand the staff member may see: money of
different brands (currencies) is never added up."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from affiliates.models import Influencer, Membership
from brands.models import Brand
from brands.scoping import brand_ids_for_user, scope_queryset
from campaigns.models import Campaign
from codes.models import Code
from commissions.models import Commission
from core.counting import counts_at_once
from core.db_router import replica_reads
from core.panel_cache import brand_scope, influencer_scope, panel_cached
from orders.models import Order
from orders.selectors import order_brand_cents
from payments.models import Withdrawal
from reports.charts import DailyPoint
from reports.models import DailyRollup, ExportJob, LinkRollup, SavedReport
from tracking.link_numbers import LinkNumbers
from tracking.models import Click, FraudFlag

PERIODS = {"7": 7, "30": 30, "90": 90}
DEFAULT_PERIOD = "30"


@dataclass(frozen=True)
class KPI:
    key: str
    label: Promise
    value: int | float | None
    previous: int | float | None
    kind: str  # "count", "money", "rate"

    @property
    def change_percent(self) -> int | None:
        if self.value is None or not self.previous:
            return None
        return round(100 * (self.value - self.previous) / self.previous)


@dataclass(frozen=True)
class Counter:
    key: str
    label: Promise
    count: int
    url: str


@dataclass
class DashboardData:
    brand: Any
    brands: list[Any]
    period_key: str
    start: date
    end: date
    kpis: list[KPI]
    series: list[Any]
    top_influencers: list[dict[str, Any]]
    top_campaigns: list[dict[str, Any]]
    funnel: list[tuple[Any, int, int]]  # label, value, percent of the first step
    counters: list[Counter] = field(default_factory=list)


def dashboard_brands(*, user: Any) -> list[Any]:
    return list(scope_queryset(Brand.objects.filter(is_active=True), brand_ids_for_user(user), brand_field="pk"))


def dashboard_brand_pick(*, user: Any, brand_id: Any) -> Any | None:
    """The brand asked for if the user may see it, else their first one."""
    brands = dashboard_brands(user=user)
    for brand in brands:
        if str(brand.pk) == str(brand_id):
            return brand
    return brands[0] if brands else None


def _totals(qs: QuerySet[DailyRollup]) -> dict[str, int]:
    row = qs.aggregate(
        clicks=Sum("clicks_valid"),
        screened=Sum("clicks_screened"),
        visitors=Sum("unique_visitors"),
        orders=Sum("orders"),
        revenue=Sum("revenue_cents"),
        returned=Sum("returned_orders"),
        est=Sum("commission_estimated_cents"),
        conf=Sum("commission_confirmed_cents"),
    )
    return {key: int(value or 0) for key, value in row.items()}


def _kpis(now: dict[str, int], before: dict[str, int]) -> list[KPI]:
    def rate(t: dict[str, int]) -> float | None:
        return round(t["orders"] / t["clicks"], 4) if t["clicks"] else None

    def aov(t: dict[str, int]) -> int | None:
        return t["revenue"] // t["orders"] if t["orders"] else None

    return [
        KPI("revenue", _("Revenue"), now["revenue"], before["revenue"], "money"),
        KPI("orders", _("Orders"), now["orders"], before["orders"], "count"),
        KPI("clicks", _("Valid clicks"), now["clicks"], before["clicks"], "count"),
        KPI("conversion_rate", _("Conversion rate"), rate(now), rate(before), "rate"),
        KPI("average_order_value", _("Average order value"), aov(now), aov(before), "money"),
        KPI("commissions", _("Commissions"), now["est"] + now["conf"], before["est"] + before["conf"], "money"),
    ]


def counters_for(*, user: Any, brand: Any) -> list[Counter]:
    """Queues waiting for someone, as links to the filtered admin lists."""

    specs = [
        (
            "pending_applications",
            _("Applications to review"),
            "affiliates.view_membership",
            Membership.objects.filter(brand=brand, status=Membership.Status.PENDING),
            "admin:affiliates_membership_changelist",
            "status__exact=pending",
        ),
        (
            "withdrawals_requested",
            _("Withdrawals to approve"),
            "payments.view_withdrawal",
            Withdrawal.objects.filter(brand=brand, status=Withdrawal.Status.REQUESTED),
            "admin:payments_withdrawal_changelist",
            "status__exact=requested",
        ),
        (
            "fraud_open",
            _("Fraud flags to review"),
            "tracking.view_fraudflag",
            FraudFlag.objects.filter(brand=brand, status=FraudFlag.Status.OPEN),
            "admin:tracking_fraudflag_changelist",
            "status__exact=open",
        ),
        (
            "code_sync_failed",
            _("Codes VTEX refused"),
            "codes.view_code",
            Code.objects.filter(brand=brand, sync_status=Code.SyncStatus.FAILED),
            "admin:codes_code_changelist",
            "sync_status__exact=failed",
        ),
    ]
    shown = [spec for spec in specs if user.has_perm(spec[2])]
    counts = counts_at_once({key: qs for key, _label, _perm, qs, _url, _query in shown})
    return [
        Counter(key, label, counts[key], f"{reverse(url_name)}?{query}")
        for key, label, _perm, _qs, url_name, query in shown
    ]


_SUMS = {
    "clicks": "clicks_valid",
    "screened": "clicks_screened",
    "visitors": "unique_visitors",
    "orders": "orders",
    "revenue": "revenue_cents",
    "returned": "returned_orders",
    "est": "commission_estimated_cents",
    "conf": "commission_confirmed_cents",
}


def dashboard_rollup_panels(*, brand_id: int, start: date, end: date) -> dict[str, Any]:
    """What the dashboard sums from the brand's rollups for [start, end]: per-day sums, the
    previous period's totals and per-campaign / per-influencer sums, as plain numbers. Cached per
    brand and period until the brand's rollups move (core/panel_cache.py); every manager of the
    brand opening the same period reads it once."""

    def build() -> dict[str, Any]:
        days = (end - start).days + 1
        base = DailyRollup.objects.filter(brand_id=brand_id)
        current = base.filter(day__gte=start, day__lte=end)
        before = _totals(base.filter(day__gte=start - timedelta(days=days), day__lte=start - timedelta(days=1)))
        # Three reads of the period's rollup rows (the (brand, day) index), not one per panel: the
        # daily series also gives the period's totals, and one (campaign, influencer) grouping gives
        # both top lists.
        sums = {key: Sum(column) for key, column in _SUMS.items()}
        by_day = {
            row["day"]: {key: int(row[key] or 0) for key in _SUMS}
            for row in (dict[str, Any](r) for r in current.values("day").annotate(**sums).order_by())
        }
        pairs = current.values("campaign_id", "influencer_id").annotate(
            revenue=Sum("revenue_cents"),
            orders=Sum("orders"),
            clicks=Sum("clicks_valid"),
            est=Sum("commission_estimated_cents"),
            conf=Sum("commission_confirmed_cents"),
        )
        per: dict[str, dict[int, dict[str, int]]] = {"campaign_id": {}, "influencer_id": {}}
        for row_ in pairs.order_by():
            pair: dict[str, Any] = dict(row_)
            for field_id, acc in per.items():
                item = acc.setdefault(pair[field_id], dict.fromkeys(("revenue", "orders", "clicks", "commissions"), 0))
                item["revenue"] += int(pair["revenue"] or 0)
                item["orders"] += int(pair["orders"] or 0)
                item["clicks"] += int(pair["clicks"] or 0)
                item["commissions"] += int(pair["est"] or 0) + int(pair["conf"] or 0)
        return {"by_day": by_day, "before": before, "per": per}

    return panel_cached(scopes=[brand_scope(brand_id)], key=f"dashboard:{brand_id}:{start}:{end}", build=build)


def dashboard_build(*, user: Any, brand: Any, period_key: str | None, today: date | None = None) -> DashboardData:
    key = period_key if period_key in PERIODS else DEFAULT_PERIOD
    days = PERIODS[key]
    end = today or timezone.localtime(timezone.now(), brand.tz).date()
    start = end - timedelta(days=days - 1)
    panels = dashboard_rollup_panels(brand_id=brand.pk, start=start, end=end)
    by_day, before, per = panels["by_day"], panels["before"], panels["per"]
    totals = {key: sum(row[key] for row in by_day.values()) for key in _SUMS}
    series = []
    for i in range(days):
        day = start + timedelta(days=i)
        row: dict[str, int] = by_day.get(day) or {}
        series.append(
            DailyPoint(
                day=day,
                clicks=row.get("clicks", 0),
                orders=row.get("orders", 0),
                sales_cents=row.get("revenue", 0),
                commission_cents=row.get("est", 0) + row.get("conf", 0),
            )
        )

    def top(field_id: str, names_of: Any) -> list[dict[str, Any]]:
        ranked = sorted(
            ((pk, v) for pk, v in per[field_id].items() if v["revenue"] > 0 or v["clicks"] > 0),
            key=lambda item: (-item[1]["revenue"], -item[1]["clicks"], item[0]),
        )[:5]
        names = names_of([pk for pk, _v in ranked])
        return [{"id": pk, "name": names.get(pk), **values} for pk, values in ranked]

    def influencer_names(pks: list[int]) -> dict[int, str]:
        return dict(Influencer.objects.filter(pk__in=pks).values_list("pk", "display_name"))

    def campaign_names(pks: list[int]) -> dict[int, str]:
        return dict(Campaign.objects.filter(pk__in=pks).values_list("pk", "name"))

    all_clicks = totals["clicks"] + totals["screened"]
    steps = [
        (_("All clicks"), all_clicks),
        (_("Valid clicks"), totals["clicks"]),
        (_("Unique visitors"), totals["visitors"]),
        (_("Orders"), totals["orders"]),
        (_("Orders kept (not returned)"), max(0, totals["orders"] - totals["returned"])),
    ]
    first = steps[0][1] or 1
    funnel = [(label, value, round(100 * value / first)) for label, value in steps]
    return DashboardData(
        brand=brand,
        brands=dashboard_brands(user=user),
        period_key=key,
        start=start,
        end=end,
        kpis=_kpis(totals, before),
        series=series,
        top_influencers=top("influencer_id", influencer_names),
        top_campaigns=top("campaign_id", campaign_names),
        funnel=funnel,
        counters=counters_for(user=user, brand=brand),
    )


@dataclass(frozen=True)
class LivePanel:
    since: Any
    clicks: int
    screened: int
    orders: int
    revenue_cents: int
    commissions_cents: int
    currency: str


def live_panel(*, brand: Any, now: Any = None) -> LivePanel:
    """The last 60 minutes from the source tables (rollups are per day), from the read replica
    when there is one."""
    now = now or timezone.now()
    since = now - timedelta(minutes=60)
    with replica_reads():
        return _live_panel(brand=brand, since=since)


def _live_panel(*, brand: Any, since: Any) -> LivePanel:
    clicks = Click.objects.filter(brand=brand, occurred_at__gte=since).aggregate(
        valid=Count("id", filter=Q(is_valid=True)), screened=Count("id", filter=Q(is_valid=False))
    )
    orders = (
        Order.objects.filter(brand=brand, created_in_vtex_at__gte=since)
        .exclude(attribution_source=Order.AttributionSource.NONE)
        .exclude(status="canceled")
        .aggregate(n=Count("id"), value=Sum(order_brand_cents()))
    )
    commissions = Commission.objects.filter(brand=brand, created_at__gte=since).aggregate(v=Sum("amount_cents"))
    return LivePanel(
        since=since,
        clicks=clicks["valid"] or 0,
        screened=clicks["screened"] or 0,
        orders=orders["n"] or 0,
        revenue_cents=orders["value"] or 0,
        commissions_cents=commissions["v"] or 0,
        currency=brand.currency,
    )


# --- Saved reports and exports ------------------------------------------------------------------


def saved_report_list(*, user: Any) -> QuerySet[SavedReport]:
    """Reports the staff member owns, plus those shared within their brands."""
    qs = scope_queryset(
        SavedReport.objects.select_related("brand", "owner"), brand_ids_for_user(user), brand_field="brand"
    )
    if user.is_superuser:
        return qs
    return qs.filter(Q(owner=user) | Q(is_shared=True))


def saved_report_get(*, user: Any, pk: Any) -> SavedReport | None:
    try:
        return saved_report_list(user=user).filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def export_job_list(*, user: Any) -> QuerySet[ExportJob]:
    """A person sees their own export jobs only (files may hold data of a narrower query)."""
    return ExportJob.objects.filter(requested_by=user)


# --- One influencer with one brand (the portal's dashboard) ----------------------------------


def influencer_rollup_days(
    *, brand_id: int, influencer_id: int, start: date, end: date
) -> dict[date, tuple[int, int, int, int, int]]:
    """One influencer's rollup numbers with one brand per day with activity in `start`–`end`
    (inclusive days in the brand's time zone): (valid clicks, orders, sales cents, estimated
    cents, confirmed cents). One read of the (brand, influencer, day) rows, cached until the
    influencer's rollups move (a refresh that changes their rows publishes `rollups.moved`;
    core/panel_cache.py): the day payouts land, a whole community opening the portal costs the
    database one read per person and period."""

    def build() -> dict[date, tuple[int, int, int, int, int]]:
        rows = (
            DailyRollup.objects.filter(brand_id=brand_id, influencer_id=influencer_id, day__gte=start, day__lte=end)
            .values("day")
            .annotate(
                clicks=Sum("clicks_valid"),
                orders=Sum("orders"),
                sales=Sum("revenue_cents"),
                est=Sum("commission_estimated_cents"),
                conf=Sum("commission_confirmed_cents"),
            )
            .order_by()
        )
        out: dict[date, tuple[int, int, int, int, int]] = {}
        for row in rows:
            values: dict[str, Any] = dict(row)
            out[values["day"]] = (
                int(values["clicks"] or 0),
                int(values["orders"] or 0),
                int(values["sales"] or 0),
                int(values["est"] or 0),
                int(values["conf"] or 0),
            )
        return out

    return panel_cached(
        scopes=[influencer_scope(brand_id, influencer_id)],
        key=f"influencer:{brand_id}:{influencer_id}:{start}:{end}",
        build=build,
    )


def influencer_rollup_totals(*, brand_id: int, influencer_id: int, start: date, end: date) -> dict[str, int]:
    """Valid clicks, orders (canceled left out), sales and commissions by state (net) of one
    influencer with one brand over `start`–`end` (inclusive days in the brand's time zone).
    From the rollups (at most ROLLUP_REFRESH_DELAY_SECONDS behind), cached as above."""
    days = influencer_rollup_days(brand_id=brand_id, influencer_id=influencer_id, start=start, end=end).values()
    keys = ("clicks", "orders", "sales_cents", "estimated_cents", "confirmed_cents")
    return {key: sum(day[i] for day in days) for i, key in enumerate(keys)}


def influencer_daily_series(*, brand_id: int, influencer_id: int, start: date, end: date) -> list[DailyPoint]:
    """One point per day from `start` to `end`, days without activity included (for the chart)."""
    rows = influencer_rollup_days(brand_id=brand_id, influencer_id=influencer_id, start=start, end=end)
    points = []
    for i in range((end - start).days + 1):
        day = start + timedelta(days=i)
        row = rows.get(day)
        if row is None:
            points.append(DailyPoint(day=day))
            continue
        clicks, orders, sales, est, conf = row
        points.append(DailyPoint(day=day, clicks=clicks, orders=orders, sales_cents=sales, commission_cents=est + conf))
    return points


# --- Tracked links (portal, admin, API) -----------------------------------------------------


def _link_rows(link_ids: Iterable[int], start: date, end: date) -> QuerySet[LinkRollup]:
    return LinkRollup.objects.filter(link_id__in=list(link_ids), day__gte=start, day__lte=end)


def link_numbers_for(link_ids: Iterable[int], start: date, end: date) -> dict[int, LinkNumbers]:
    """Each link's numbers over `start`–`end` (inclusive days in the brand's time zone), from
    the link rollups: one grouped read of the (link, day) index, never a scan of clicks. Links
    without activity are absent. Registered as tracking's link-numbers reader."""
    rows = (
        _link_rows(link_ids, start, end)
        .values("link_id")
        .annotate(
            clicks=Sum("clicks_valid"),
            visitors=Sum("unique_visitors"),
            n=Sum("orders"),
            revenue=Sum("revenue_cents"),
            est=Sum("commission_estimated_cents"),
            conf=Sum("commission_confirmed_cents"),
        )
        .order_by()
    )
    return {
        row["link_id"]: LinkNumbers(
            clicks=int(row["clicks"] or 0),
            unique_visitors=int(row["visitors"] or 0),
            orders=int(row["n"] or 0),
            revenue_cents=int(row["revenue"] or 0),
            commission_estimated_cents=int(row["est"] or 0),
            commission_confirmed_cents=int(row["conf"] or 0),
        )
        for row in rows
    }


def link_daily_series(*, link_ids: Iterable[int], start: date, end: date) -> dict[int, list[DailyPoint]]:
    """One point per day from `start` to `end` for each link (days without activity included),
    for the charts: clicks, orders, sales and commission (estimated + confirmed)."""
    ids = list(dict.fromkeys(link_ids))
    by_day: dict[tuple[int, date], DailyPoint] = {}
    for link_id, day, clicks, orders, sales, est, conf in _link_rows(ids, start, end).values_list(
        "link_id",
        "day",
        "clicks_valid",
        "orders",
        "revenue_cents",
        "commission_estimated_cents",
        "commission_confirmed_cents",
    ):
        by_day[(link_id, day)] = DailyPoint(
            day=day, clicks=clicks, orders=orders, sales_cents=sales, commission_cents=est + conf
        )
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return {pk: [by_day.get((pk, day)) or DailyPoint(day=day) for day in days] for pk in ids}
