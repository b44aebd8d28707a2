"""The custom report builder: a whitelist of dimensions and metrics mapped onto the rollup
tables, a frozen `ReportSpec` validated from user input (admin form, API and saved reports all
go through `spec_from_input`), and `report_run`, which turns a spec into rows.

Only names from the whitelists below ever reach the ORM: user input selects *keys*, never
field names or expressions.

Attribution models: the rollups hold each order under the influencer the attribution decision
credited (`recorded`, the default). Another model (first, last, linear, position, time decay)
re-weights the orders and revenue of the range from each order's recorded touchpoints with
`tracking.multitouch`; that reads the orders table, so it is limited to
`REWEIGHT_MAX_DAYS` days and to the dimensions an order's touchpoints can tell (not SKU or
category). Commissions are never re-weighted: they are money actually owed.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, FloatField, Model, Q, QuerySet, Sum
from django.db.models.functions import Cast, NullIf, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from affiliates.models import Influencer
from brands.models import Brand
from campaigns.models import CampaignAssignment
from core.db_router import replica_reads
from core.errors import ApplicationError
from core.money import to_major
from orders.models import Order
from reports.models import DailyRollup, LineRollup
from reports.rollups import brand_day_bounds
from tracking.multitouch import multitouch_credit

MAX_ROWS = 5000
MAX_RANGE_DAYS = 3 * 366
REWEIGHT_MAX_DAYS = 92


class ReportSpecInvalid(ApplicationError):
    default_code = "report_spec_invalid"


@dataclass(frozen=True)
class Dimension:
    key: str
    label: Promise
    group: tuple[str, ...]  # what to GROUP BY (id, label) on the rollup
    line_level: bool = False  # needs LineRollup
    rollup_only: bool = False  # not on LineRollup


DIMENSIONS: dict[str, Dimension] = {
    d.key: d
    for d in [
        Dimension("day", gettext_lazy("Day"), ("day",)),
        Dimension("week", gettext_lazy("Week"), ("week",)),
        Dimension("month", gettext_lazy("Month"), ("month",)),
        Dimension("brand", gettext_lazy("Brand"), ("brand_id", "brand__name")),
        Dimension("campaign", gettext_lazy("Campaign"), ("campaign_id", "campaign__name")),
        Dimension("variant", gettext_lazy("A/B variant"), ("variant_id", "variant__key"), rollup_only=True),
        Dimension("influencer", gettext_lazy("Influencer"), ("influencer_id", "influencer__display_name")),
        Dimension("tier", gettext_lazy("Tier"), ("tier_id", "tier__name"), rollup_only=True),
        Dimension("country", gettext_lazy("Country"), ("country",), rollup_only=True),
        Dimension("sku", gettext_lazy("SKU"), ("sku_id",), line_level=True),
        Dimension("category", gettext_lazy("Category"), ("category_id",), line_level=True),
    ]
}


@dataclass(frozen=True)
class Metric:
    key: str
    label: Promise
    kind: str  # "count", "money", "rate"
    rollup: Any = None  # aggregate over DailyRollup (None: not available there)
    line: Any = None  # aggregate over LineRollup (None: not available there)


def _ratio(numerator: Any, denominator: Any) -> Any:
    return Cast(numerator, FloatField()) / NullIf(Cast(denominator, FloatField()), 0.0)


_commissions = Sum("commission_estimated_cents") + Sum("commission_confirmed_cents")
METRICS: dict[str, Metric] = {
    m.key: m
    for m in [
        Metric("clicks", gettext_lazy("Clicks"), "count", Sum("clicks_valid")),
        Metric("clicks_screened", gettext_lazy("Screened clicks"), "count", Sum("clicks_screened")),
        Metric("unique_visitors", gettext_lazy("Unique visitors (per day)"), "count", Sum("unique_visitors")),
        Metric("orders", gettext_lazy("Orders"), "count", Sum("orders"), Sum("orders")),
        Metric("revenue", gettext_lazy("Revenue"), "money", Sum("revenue_cents"), Sum("revenue_cents")),
        Metric(
            "commissions_estimated",
            gettext_lazy("Commissions estimated"),
            "money",
            Sum("commission_estimated_cents"),
            Sum("commission_estimated_cents"),
        ),
        Metric(
            "commissions_confirmed",
            gettext_lazy("Commissions confirmed"),
            "money",
            Sum("commission_confirmed_cents"),
            Sum("commission_confirmed_cents"),
        ),
        Metric(
            "commissions_paid", gettext_lazy("Commissions released for payout"), "money", Sum("commission_paid_cents")
        ),
        Metric("commissions_reversed", gettext_lazy("Commissions reversed"), "money", Sum("commission_reversed_cents")),
        Metric("conversion_rate", gettext_lazy("Conversion rate"), "rate", _ratio(Sum("orders"), Sum("clicks_valid"))),
        Metric(
            "earnings_per_click", gettext_lazy("Earnings per click"), "money", _ratio(_commissions, Sum("clicks_valid"))
        ),
        Metric(
            "average_order_value",
            gettext_lazy("Average order value"),
            "money",
            _ratio(Sum("revenue_cents"), Sum("orders")),
            _ratio(Sum("revenue_cents"), Sum("orders")),
        ),
        Metric("return_rate", gettext_lazy("Return rate"), "rate", _ratio(Sum("returned_orders"), Sum("orders"))),
        Metric("units", gettext_lazy("Units"), "count", None, Sum("units")),
    ]
}
# Filters: key → (rollup lookup, how to parse one value).
FILTERS: dict[str, tuple[str, type]] = {
    "campaign": ("campaign_id__in", int),
    "influencer": ("influencer_id__in", int),
    "variant": ("variant_id__in", int),
    "tier": ("tier_id__in", int),
    "country": ("country__in", str),
    "sku": ("sku_id__in", str),
    "category": ("category_id__in", str),
}
ATTRIBUTION_MODELS: dict[str, Promise] = {
    "recorded": gettext_lazy("As attributed (coupon / click rules)"),
    "first": gettext_lazy("First touch"),
    "last": gettext_lazy("Last touch"),
    "linear": gettext_lazy("Linear"),
    "position": gettext_lazy("Position based (40/20/40)"),
    "time_decay": gettext_lazy("Time decay (7-day half-life)"),
}
REWEIGHTED = {"orders", "revenue", "conversion_rate", "average_order_value"}


@dataclass(frozen=True)
class ReportSpec:
    brand_id: int
    date_from: date
    date_to: date
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]
    filters: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    sort: str = ""
    descending: bool = True
    limit: int = 500
    attribution: str = "recorded"

    @property
    def line_level(self) -> bool:
        return any(DIMENSIONS[d].line_level for d in self.dimensions) or any(
            key in ("sku", "category") for key, _values in self.filters
        )

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["date_from"] = self.date_from.isoformat()
        data["date_to"] = self.date_to.isoformat()
        data["dimensions"] = list(self.dimensions)
        data["metrics"] = list(self.metrics)
        data["filters"] = {key: list(values) for key, values in self.filters}
        data.pop("brand_id")
        return data

    def with_dates(self, *, date_from: date, date_to: date) -> "ReportSpec":
        return ReportSpec(**{**self.__dict__, "date_from": date_from, "date_to": date_to})


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        out: list[Any] = []
        for item in value:
            out.extend(_as_list(item) if isinstance(item, str) else [item])
        return out
    return [value]


def _date(value: Any, *, name: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        parsed = parse_date(str(value or "").strip()) if value else None
    except ValueError:  # well formed but not a day of the calendar: 2024-13-01, 2026-02-30
        parsed = None
    if parsed is None:
        raise ReportSpecInvalid(_("Give %(name)s as a date like 2026-01-31.") % {"name": name}, code="bad_date")
    return parsed


def spec_from_input(*, data: Mapping[str, Any], brand_id: int, today: date | None = None) -> ReportSpec:
    """Validate a report query from a form, the API or a saved report. Unknown names are
    refused with a message listing what is allowed. Each part is read by its own function, then
    the combination is checked (`_spec_combination_check`)."""
    date_from, date_to = _period_from_input(data, today=today or timezone.localdate())
    dimensions = _dimensions_from_input(data)
    metrics = _metrics_from_input(data)
    filters = _filters_from_input(data)
    attribution = str(data.get("attribution") or "recorded")
    if attribution not in ATTRIBUTION_MODELS:
        raise ReportSpecInvalid(
            _("Unknown attribution model; use %(allowed)s.") % {"allowed": ", ".join(ATTRIBUTION_MODELS)},
            code="unknown_attribution",
        )
    sort = str(data.get("sort") or "")
    if sort and sort not in metrics and sort not in dimensions:
        raise ReportSpecInvalid(_("Sort by one of the chosen dimensions or metrics."), code="bad_sort")
    limit = _limit_from_input(data)
    spec = ReportSpec(
        brand_id=brand_id,
        date_from=date_from,
        date_to=date_to,
        dimensions=dimensions,
        metrics=metrics,
        filters=filters,
        sort=sort,
        descending=str(data.get("descending", "true")).lower() not in ("false", "0", "no", ""),
        limit=limit,
        attribution=attribution,
    )
    _spec_combination_check(spec)
    return spec


def _period_from_input(data: Mapping[str, Any], *, today: date) -> tuple[date, date]:
    """The days asked for (the last 30 up to today by default), at most three years."""
    date_to = _date(data.get("date_to"), name="date_to") if data.get("date_to") else today
    date_from = (
        _date(data.get("date_from"), name="date_from") if data.get("date_from") else date_to - timedelta(days=29)
    )
    if date_from > date_to:
        raise ReportSpecInvalid(_("The start date must not be after the end date."), code="bad_range")
    if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
        raise ReportSpecInvalid(_("Choose at most three years."), code="range_too_long")
    return date_from, date_to


def _dimensions_from_input(data: Mapping[str, Any]) -> tuple[str, ...]:
    dimensions = tuple(dict.fromkeys(str(d) for d in _as_list(data.get("dimensions"))))
    unknown = [d for d in dimensions if d not in DIMENSIONS]
    if unknown:
        raise ReportSpecInvalid(
            _("Unknown dimension %(names)s; use %(allowed)s.")
            % {"names": ", ".join(unknown)[:80], "allowed": ", ".join(DIMENSIONS)},
            code="unknown_dimension",
        )
    if len([d for d in dimensions if d in ("day", "week", "month")]) > 1:
        raise ReportSpecInvalid(_("Group by one of day, week or month, not several."), code="many_time_dimensions")
    if len(dimensions) > 4:
        raise ReportSpecInvalid(_("Choose at most four dimensions."), code="too_many_dimensions")
    return dimensions


def _metrics_from_input(data: Mapping[str, Any]) -> tuple[str, ...]:
    metrics = tuple(dict.fromkeys(str(m) for m in _as_list(data.get("metrics")))) or ("clicks", "orders", "revenue")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ReportSpecInvalid(
            _("Unknown metric %(names)s; use %(allowed)s.")
            % {"names": ", ".join(unknown)[:80], "allowed": ", ".join(METRICS)},
            code="unknown_metric",
        )
    return metrics


def _filters_from_input(data: Mapping[str, Any]) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """Known filters only, each with its ids parsed (at most 200 per filter)."""
    raw_filters = data.get("filters") or {}
    if not isinstance(raw_filters, Mapping):
        raise ReportSpecInvalid(_("Filters must be an object of name: values."), code="bad_filters")
    filters: list[tuple[str, tuple[Any, ...]]] = []
    for key in sorted(raw_filters):
        if key not in FILTERS:
            raise ReportSpecInvalid(
                _("Unknown filter %(name)s; use %(allowed)s.") % {"name": str(key)[:40], "allowed": ", ".join(FILTERS)},
                code="unknown_filter",
            )
        parse = FILTERS[key][1]
        try:
            values = tuple(dict.fromkeys(parse(v) for v in _as_list(raw_filters[key])))
        except (TypeError, ValueError):
            raise ReportSpecInvalid(
                _("The %(name)s filter takes ids (whole numbers).") % {"name": key}, code="bad_filter_value"
            ) from None
        if values:
            filters.append((key, values[:200]))
    return tuple(filters)


def _limit_from_input(data: Mapping[str, Any]) -> int:
    try:
        return max(1, min(MAX_ROWS, int(data.get("limit") or 500)))
    except (TypeError, ValueError):
        raise ReportSpecInvalid(_("The row limit must be a whole number."), code="bad_limit") from None


def _spec_combination_check(spec: ReportSpec) -> None:
    """What each part allows alone but not together: line-level reports (SKU, category) read
    order lines, which carry neither variants, tiers, countries nor clicks; attribution models
    reweight whole orders over a bounded period."""
    if spec.line_level:
        rollup_only = [d for d in spec.dimensions if DIMENSIONS[d].rollup_only]
        missing = [m for m in spec.metrics if METRICS[m].line is None]
        if rollup_only or missing or any(k in ("variant", "tier", "country") for k, _v in spec.filters):
            raise ReportSpecInvalid(
                _(
                    "With SKU or category the report reads order lines: use the metrics orders, units, revenue, "
                    "commissions estimated/confirmed and average order value, and no variant, tier or country."
                ),
                code="line_level_mismatch",
            )
    elif any(METRICS[m].rollup is None for m in spec.metrics):
        raise ReportSpecInvalid(_("Units are only available grouped by SKU or category."), code="units_need_lines")
    if spec.attribution != "recorded":
        if spec.line_level:
            raise ReportSpecInvalid(
                _("Attribution models cannot split SKU or category rows; use the recorded attribution."),
                code="attribution_line_level",
            )
        if (spec.date_to - spec.date_from).days + 1 > REWEIGHT_MAX_DAYS:
            raise ReportSpecInvalid(
                _("With an attribution model other than the recorded one, choose at most %(days)s days.")
                % {"days": REWEIGHT_MAX_DAYS},
                code="attribution_range",
            )


@dataclass
class ReportResult:
    spec: ReportSpec
    columns: list[tuple[str, str, str]]  # (key, label, kind: "dimension" | metric kind)
    rows: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False

    def table(self, *, currency: str | None = None) -> tuple[list[str], list[list[Any]]]:
        """Header and rows for files: dimension labels, counts as numbers, money as exact
        Decimals in major units of the brand's currency ("Revenue (COP)": 1500.00, never
        150000 cents) and rates in percent ("Conversion rate (%)": 5.54)."""
        if currency is None:
            currency = Brand.objects.filter(pk=self.spec.brand_id).values_list("currency", flat=True).first() or ""
        header = []
        for _key, label, kind in self.columns:
            if kind == "money":
                header.append(f"{label} ({currency})" if currency else label)
            elif kind == "rate":
                header.append(f"{label} (%)")
            else:
                header.append(label)
        body = [[_file_value(row.get(key), kind, currency) for key, _label, kind in self.columns] for row in self.rows]
        return header, body


def _file_value(value: Any, kind: str, currency: str) -> Any:
    if value is None:
        return None
    if kind == "money":
        return to_major(int(value), currency)
    if kind == "rate":
        return (Decimal(str(value)) * 100).quantize(Decimal("0.01"))
    return value


def _base_queryset(spec: ReportSpec) -> QuerySet[Any]:
    model: type[Model] = LineRollup if spec.line_level else DailyRollup
    qs = model.objects.filter(brand_id=spec.brand_id, day__gte=spec.date_from, day__lte=spec.date_to)  # type: ignore[attr-defined]
    q = Q()
    for key, values in spec.filters:
        q &= Q(**{FILTERS[key][0]: list(values)})
    qs = qs.filter(q)
    if "week" in spec.dimensions:
        qs = qs.annotate(week=TruncWeek("day"))
    if "month" in spec.dimensions:
        qs = qs.annotate(month=TruncMonth("day"))
    return qs


def _display(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _metric_value(metric: Metric, value: Any) -> Any:
    if value is None:
        return 0 if metric.kind != "rate" else None
    if metric.kind == "rate":
        return round(float(value), 4)
    return round(float(value))


def _raise_work_mem(alias: str) -> None:
    """A year of rollup rows grouped by month and campaign does not fit PostgreSQL's default
    4 MB `work_mem`: the sort goes to disk and the query takes ~2.5× longer (bench/reports_bench.py).
    Raised for the current transaction only (`REPORTS_WORK_MEM`, default 16MB)."""
    if connections[alias].vendor != "postgresql":
        return
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.REPORTS_WORK_MEM])


def report_run(*, spec: ReportSpec) -> ReportResult:
    """Rows of the report: one per combination of the dimensions, metrics aggregated."""
    group: list[str] = []
    for d in spec.dimensions:
        group.extend(DIMENSIONS[d].group)
    aggregates = {f"m_{m}": (METRICS[m].line if spec.line_level else METRICS[m].rollup) for m in spec.metrics}
    needed = set(spec.metrics) | ({"orders", "revenue", "clicks"} if spec.attribution != "recorded" else set())
    for m in needed - set(spec.metrics):
        aggregates[f"m_{m}"] = METRICS[m].rollup
    qs = _base_queryset(spec).values(*group).annotate(**aggregates) if group else None
    # On the read replica when there is one (core/db_router.py); the builder only aggregates.
    with replica_reads() as alias, transaction.atomic(using=alias):
        _raise_work_mem(alias)
        if qs is None:
            rows = [_base_queryset(spec).aggregate(**aggregates)]
        else:
            order: list[Any] = []
            if spec.sort in spec.metrics:
                expr = F(f"m_{spec.sort}")
                order.append(expr.desc(nulls_last=True) if spec.descending else expr.asc(nulls_first=True))
            elif spec.sort in spec.dimensions:
                first = DIMENSIONS[spec.sort].group[-1]
                order.append(F(first).desc() if spec.descending else F(first).asc())
            order.extend(group)
            rows = list(qs.order_by(*order)[: spec.limit + 1])
    truncated = len(rows) > spec.limit
    rows = rows[: spec.limit]

    result_rows: list[dict[str, Any]] = []
    for raw in rows:
        row: dict[str, Any] = {}
        for d in spec.dimensions:
            fields = DIMENSIONS[d].group
            row[d] = _display(raw[fields[-1]]) if raw[fields[-1]] is not None else "—"
            if len(fields) > 1:
                row[f"{d}_id"] = raw[fields[0]]
        for m in needed:
            row[m] = _metric_value(METRICS[m], raw.get(f"m_{m}"))
        result_rows.append(row)
    if spec.attribution != "recorded":
        result_rows = _reweight(spec, result_rows)
    for row in result_rows:
        for m in needed - set(spec.metrics):
            row.pop(m, None)
    columns = [(d, str(DIMENSIONS[d].label), "dimension") for d in spec.dimensions]
    columns += [(m, str(METRICS[m].label), METRICS[m].kind) for m in spec.metrics]
    return ReportResult(spec=spec, columns=columns, rows=result_rows, truncated=truncated)


# --- Attribution re-weighting ---------------------------------------------------------------


@dataclass(frozen=True)
class _Touch:
    influencer_id: int
    campaign_id: int | None
    occurred_at: datetime | None


def _touches(order: Any) -> list[_Touch]:
    touches = []
    for tp in order.attribution_touchpoints or []:
        if not isinstance(tp, Mapping) or not tp.get("influencer_id"):
            continue
        when = tp.get("occurred_at")
        occurred = datetime.fromisoformat(when) if isinstance(when, str) else None
        touches.append(_Touch(int(tp["influencer_id"]), tp.get("campaign_id"), occurred or order.created_in_vtex_at))
    return touches


def _reweight(spec: ReportSpec, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replace orders and revenue of each row with the credit the chosen model gives."""

    brand = Brand.objects.get(pk=spec.brand_id)
    since, until = brand_day_bounds(tz=brand.tz, start=spec.date_from, end=spec.date_to)
    filters = dict(spec.filters)
    assignments: dict[tuple[Any, Any], Any] = {
        (a.campaign_id, a.influencer_id): a
        for a in CampaignAssignment.objects.filter(campaign__brand=brand).select_related("variant", "tier", "campaign")
    }
    names = dict(Influencer.objects.filter(rollups_scope(brand)).values_list("pk", "display_name"))
    countries = dict(Influencer.objects.filter(rollups_scope(brand)).values_list("pk", "country"))
    campaigns = dict(brand.campaigns.values_list("pk", "name"))  # type: ignore[attr-defined]
    credited: dict[tuple[Any, ...], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    orders = (
        Order.objects.filter(brand=brand, created_in_vtex_at__gte=since, created_in_vtex_at__lt=until)
        .exclude(status="canceled")
        .exclude(attribution_source=Order.AttributionSource.NONE)
        .only("created_in_vtex_at", "value_cents", "attribution_touchpoints", "campaign_id", "influencer_id")
    )
    for order in orders.iterator(chunk_size=2000):
        touches = _touches(order)
        if not touches:
            touches = [_Touch(order.influencer_id, order.campaign_id, order.created_in_vtex_at)]  # type: ignore[arg-type]
        credit = multitouch_credit(touches, model=spec.attribution, converted_at=order.created_in_vtex_at)  # type: ignore[arg-type]
        campaign_of = {t.influencer_id: t.campaign_id or order.campaign_id for t in touches}
        local_day = timezone.localtime(order.created_in_vtex_at, brand.tz).date()  # type: ignore[arg-type]
        for influencer_id, share in credit.items():
            campaign_id = campaign_of.get(influencer_id)
            assignment = assignments.get((campaign_id, influencer_id))
            values = {
                "day": local_day.isoformat(),
                "week": (local_day - timedelta(days=local_day.weekday())).isoformat(),
                "month": local_day.replace(day=1).isoformat(),
                "brand": brand.name,
                "campaign": campaigns.get(campaign_id, "—"),  # type: ignore[arg-type]
                "influencer": names.get(influencer_id, "—"),
                "variant": assignment.variant.key if assignment and assignment.variant else "—",
                "tier": assignment.tier.name if assignment and assignment.tier else "—",
                "country": countries.get(influencer_id, "—"),
            }
            ids = {
                "campaign": campaign_id,
                "influencer": influencer_id,
                "variant": assignment.variant_id if assignment else None,
                "tier": assignment.tier_id if assignment else None,
                "country": countries.get(influencer_id),
            }
            if any(ids.get(k) not in v for k, v in filters.items()):
                continue
            key = tuple(values[d] for d in spec.dimensions)
            credited[key][0] += share
            credited[key][1] += share * order.value_cents
    by_key = {tuple(row[d] for d in spec.dimensions): row for row in rows}
    for key in credited:
        if key not in by_key:
            by_key[key] = {d: v for d, v in zip(spec.dimensions, key, strict=True)} | {
                m: (None if METRICS[m].kind == "rate" else 0) for m in METRICS if METRICS[m].rollup is not None
            }
    for key, row in by_key.items():
        n, revenue = credited.get(key, [Decimal(0), Decimal(0)])
        row["orders"] = round(float(n), 2)
        row["revenue"] = int(revenue.quantize(Decimal(1)))
        clicks = row.get("clicks") or 0
        if "conversion_rate" in row:
            row["conversion_rate"] = round(float(n) / clicks, 4) if clicks else None
        if "average_order_value" in row:
            row["average_order_value"] = int(revenue / n) if n else 0
    out = list(by_key.values())
    if spec.sort:
        out.sort(key=lambda r: (r.get(spec.sort) is None, r.get(spec.sort) or 0), reverse=spec.descending)
    return out[: spec.limit]


def rollups_scope(brand: Any) -> Q:
    """Influencers with a membership in the brand."""
    return Q(memberships__brand=brand)
