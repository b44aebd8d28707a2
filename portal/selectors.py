"""Reads behind the influencer portal, always for one membership (one influencer with one
brand), so a page can only ever show the signed-in person's own data. Each context is read
through its own selectors (codes, tracking, orders, commissions, payments, reports); this module only
shapes their answers for the pages."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from affiliates.models import Membership
from codes.selectors import code_list_for_influencer, code_state
from commissions.selectors import order_list_for_influencer
from orders.statuses import vtex_status_label
from payments.models import AccountKind
from payments.origins import ledger_origins
from payments.selectors import InfluencerBalance, influencer_balance_get, ledger_entry_list, ledger_line_describe
from reports.charts import DailyPoint, sparkline_points
from reports.selectors import influencer_daily_series, influencer_rollup_totals, link_daily_series, link_numbers_for
from tracking.link_numbers import LinkNumbers
from tracking.models import Link
from tracking.selectors import (
    link_campaigns_for_influencer,
    link_get_for_influencer,
    link_list_for_influencer,
    link_public_url,
)

# --- Periods --------------------------------------------------------------------------------

PERIOD_CHOICES: list[tuple[str, Promise]] = [
    ("7d", _("Last 7 days")),
    ("30d", _("Last 30 days")),
    ("90d", _("Last 90 days")),
    ("month", _("This month")),
]
DEFAULT_PERIOD = "30d"


@dataclass(frozen=True)
class Period:
    key: str
    label: Promise | str
    start: date  # inclusive, in the brand's time zone
    end: date  # inclusive

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def period_resolve(*, key: str | None, tz: Any, today: date | None = None) -> Period:
    """The period a person picked, or the default for anything unknown."""
    labels = dict(PERIOD_CHOICES)
    if key not in labels:
        key = DEFAULT_PERIOD
    assert key is not None
    today = today or timezone.localtime(timezone.now(), tz).date()
    start = today.replace(day=1) if key == "month" else today - timedelta(days=int(key.rstrip("d")) - 1)
    return Period(key=key, label=labels[key], start=start, end=today)


# --- Shapes the pages render ----------------------------------------------------------------


@dataclass(frozen=True)
class CommissionTotals:
    """Commission on the orders placed in a period, by state, in the brand's minor units (the
    dashboard's activity; the money by stage now is `payments.selectors.InfluencerBalance`)."""

    estimated_cents: int = 0
    confirmed_cents: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.estimated_cents or self.confirmed_cents)


@dataclass(frozen=True)
class PortalOrder:
    """An attributed order as the influencer may see it: the customer is masked."""

    reference: str
    placed_at: datetime
    status: str
    customer_masked: str
    sales_cents: int
    commission_cents: int
    commission_state: str
    code: str = ""


@dataclass(frozen=True)
class PortalEarning:
    """One line of the influencer's earnings (a ledger movement), named by what a person
    recognises (the order, the withdrawal), never by an internal reference."""

    occurred_at: datetime
    movement: str
    description: str
    state: str
    amount_cents: int


@dataclass(frozen=True)
class PortalLink:
    """One of the influencer's tracked links with its numbers over a period (from the link
    rollups) and its daily points for the charts."""

    pk: int
    url: str
    label: str
    destination: str
    campaign: str
    is_active: bool
    numbers: LinkNumbers = field(default_factory=LinkNumbers)
    series: list[DailyPoint] = field(default_factory=list)

    @property
    def spark_points(self) -> str:
        """SVG polyline points (100 × 24 box) of clicks per day: the list's small chart."""
        return sparkline_points([p.clicks for p in self.series], width=100, height=24)


@dataclass(frozen=True)
class PortalCode:
    pk: int
    code: str
    campaign: str
    status: str  # in words: Active, Being set up in the store, Rejected by the store, Archived
    state: str  # active | pending | rejected | archived (codes.selectors.code_state)
    reason: str
    is_active: bool  # only these may be copied or shared


@dataclass
class Dashboard:
    period: Period
    currency: str
    clicks: int
    orders: int
    sales_cents: int
    commissions: CommissionTotals
    balance: InfluencerBalance
    series: list[DailyPoint] = field(default_factory=list)

    @property
    def has_activity(self) -> bool:
        return bool(self.clicks or self.orders or self.sales_cents or not self.commissions.is_empty)


# --- Masking (used by the orders page) ------------------------------------------------------


def mask_name(value: str) -> str:
    """ "María Gómez" → "M**** G****": enough to recognise an order, not to identify a person."""
    parts = [p for p in (value or "").split() if p]
    return " ".join(p[0] + "*" * max(3, len(p) - 1) for p in parts) or "—"


# --- The seams: one function per source -----------------------------------------------------


def _rollup_totals(membership: Membership, period: Period) -> dict[str, int]:
    return influencer_rollup_totals(
        brand_id=membership.brand_id, influencer_id=membership.influencer_id, start=period.start, end=period.end
    )


def portal_click_count(*, membership: Membership, period: Period) -> int:
    """Valid clicks on the influencer's links for this brand in the period (from the rollups)."""
    return _rollup_totals(membership, period)["clicks"]


def portal_order_totals(*, membership: Membership, period: Period) -> tuple[int, int]:
    """(attributed orders, their value in cents) placed in the period, canceled ones left out
    (from the rollups)."""
    totals = _rollup_totals(membership, period)
    return totals["orders"], totals["sales_cents"]


def portal_commission_totals(*, membership: Membership, period: Period) -> CommissionTotals:
    """Commission on the orders placed in the period, net, by state. The rollups hold the same
    net-by-state sums per day as the commission records (an index lookup, not a scan of every
    commission; at most ROLLUP_REFRESH_DELAY_SECONDS behind)."""
    sums = _rollup_totals(membership, period)
    return CommissionTotals(estimated_cents=sums["estimated_cents"], confirmed_cents=sums["confirmed_cents"])


def portal_balance(*, membership: Membership) -> InfluencerBalance:
    """The influencer's money with the brand by stage, from the ledger: the one balance every
    portal page shows."""
    return influencer_balance_get(brand=membership.brand, influencer=membership.influencer)


def portal_daily_series(*, membership: Membership, period: Period) -> list[DailyPoint]:
    """One point per day of the period, days without activity included (for the chart)."""
    return influencer_daily_series(
        brand_id=membership.brand_id, influencer_id=membership.influencer_id, start=period.start, end=period.end
    )


def portal_order_list(*, membership: Membership, period: Period | None = None) -> list[PortalOrder]:
    """The influencer's attributed orders with this brand, newest first, customer masked."""
    orders = order_list_for_influencer(
        influencer=membership.influencer,
        brand=membership.brand,
        date_from=period.start if period else None,
        date_to=period.end if period else None,
    )[:200]
    out = []
    for order in orders:
        commissions = list(order.commissions.all())
        profile = (order.snapshot or {}).get("clientProfileData") or {}
        name = " ".join(str(profile.get(k) or "") for k in ("firstName", "lastName")).strip()
        out.append(
            PortalOrder(
                reference=order.vtex_order_id,
                placed_at=order.created_in_vtex_at or order.created_at,
                status=vtex_status_label(order.status),
                customer_masked=mask_name(name),
                sales_cents=sum(c.base_cents for c in commissions),
                commission_cents=sum(c.net_cents for c in commissions),
                commission_state=str(commissions[0].get_state_display()) if commissions else "",
                code=order.code.text if order.code else "",
            )
        )
    return out


def portal_earning_list(*, membership: Membership, limit: int = 200) -> list[PortalEarning]:
    """The influencer's movements with this brand: accruals, confirmations, releases, reversals
    and payouts (one line per ledger transaction), newest first.

    A line's stage is where the money went (the influencer account that grew most: estimated,
    on hold, available, reserved, paid); a line that only takes money away (a reversal or a
    clawback) shows the stage it left, with a negative amount."""
    entries = ledger_entry_list(brand_ids={membership.brand_id}).filter(account__influencer=membership.influencer)
    txn_ids = list(
        entries.order_by("-transaction__occurred_at", "-transaction_id")
        .values_list("transaction_id", flat=True)
        .distinct()[:limit]
    )
    lines: dict[int, tuple[Any, dict[str, int]]] = {}
    for entry in entries.filter(transaction_id__in=txn_ids).order_by():
        txn, changes = lines.setdefault(entry.transaction_id, (entry.transaction, {}))
        changes[entry.account.kind] = changes.get(entry.account.kind, 0) + entry.signed_cents
    origins = ledger_origins(
        refs={txn.commission_ref or txn.reference for txn, _changes in lines.values()},
        influencer_id=membership.influencer_id,
    )
    labels = dict(AccountKind.choices)
    out = []
    for txn, changes in sorted(lines.values(), key=lambda line: (line[0].occurred_at, line[0].pk), reverse=True):
        gains = {kind: cents for kind, cents in changes.items() if cents > 0}
        if gains:
            stage, amount = max(gains, key=lambda kind: gains[kind]), sum(gains.values())
        else:
            stage = min(changes, key=lambda kind: changes[kind])
            amount = sum(changes.values())
        out.append(
            PortalEarning(
                occurred_at=txn.occurred_at,
                movement=str(txn.get_kind_display()),
                description=ledger_line_describe(
                    kind=txn.kind, reference=txn.commission_ref or txn.reference, origins=origins
                ),
                state=str(labels.get(stage, stage)),
                amount_cents=amount,
            )
        )
    return out


def _link_label(link: Link) -> str:
    if link.label:
        return str(link.label)
    if link.origin == Link.Origin.APPROVAL:
        return str(_("Store home"))
    return str(link.destination_url).split("://", 1)[-1][:80]


def portal_link_list(
    *, membership: Membership, period: Period | None = None, include_inactive: bool = False
) -> list[PortalLink]:
    """The influencer's tracked links with this brand, each with its numbers over `period`
    (default: the last 30 days) read from the link rollups: two indexed reads for the whole
    list, whatever the clicks."""
    period = period or period_resolve(key=None, tz=membership.brand.tz)
    links = list(
        link_list_for_influencer(
            influencer=membership.influencer, brand=membership.brand, active_only=not include_inactive
        )
    )
    ids = [link.pk for link in links]
    numbers = link_numbers_for(ids, period.start, period.end)
    series = link_daily_series(link_ids=ids, start=period.start, end=period.end)
    return [_portal_link(link, numbers.get(link.pk), series.get(link.pk, [])) for link in links]


def portal_link_get(*, membership: Membership, pk: int, period: Period) -> PortalLink | None:
    """One of the influencer's links with this brand (active or not) with its numbers and
    daily series over `period`; None for anybody else's."""
    link = link_get_for_influencer(influencer=membership.influencer, brand=membership.brand, pk=pk)
    if link is None:
        return None
    numbers = link_numbers_for([link.pk], period.start, period.end)
    series = link_daily_series(link_ids=[link.pk], start=period.start, end=period.end)
    return _portal_link(link, numbers.get(link.pk), series[link.pk])


def _portal_link(link: Any, numbers: LinkNumbers | None, series: list[DailyPoint]) -> PortalLink:
    return PortalLink(
        pk=link.pk,
        url=link_public_url(slug=link.slug),
        label=_link_label(link),
        destination=link.destination_url,
        campaign=link.campaign.name,
        is_active=link.is_active,
        numbers=numbers or LinkNumbers(),
        series=series,
    )


def portal_link_campaigns(*, membership: Membership) -> list[Any]:
    """The campaigns the influencer may make links in (running, taking part)."""
    return link_campaigns_for_influencer(influencer=membership.influencer, brand=membership.brand)


#: What a portal code shows (`_portal_code`, codes.selectors.code_state): the dashboard and the
#: codes page ask on every view, so the query loads these columns, not the code's whole setup.
_PORTAL_CODE_FIELDS = (
    "text",
    "status",
    "status_reason",
    "vtex_state",
    "sync_status",
    "last_sync_error",
    "campaign__name",
)


def portal_code_list(*, membership: Membership) -> list[PortalCode]:
    """The influencer's discount codes with this brand (codes context)."""
    codes = code_list_for_influencer(influencer=membership.influencer, brand=membership.brand)
    codes = codes.select_related(None).select_related("campaign").only(*_PORTAL_CODE_FIELDS)
    return [_portal_code(code) for code in codes]


def portal_code_get(*, membership: Membership, pk: int) -> PortalCode | None:
    """One of the influencer's codes with this brand; None for anybody else's."""
    code = code_list_for_influencer(influencer=membership.influencer, brand=membership.brand).filter(pk=pk).first()
    return _portal_code(code) if code is not None else None


def _portal_code(code: Any) -> PortalCode:
    state = code_state(code)
    return PortalCode(
        pk=code.pk,
        code=code.text,
        campaign=code.campaign.name,
        status=state.label,
        state=state.key,
        reason=state.reason,
        is_active=state.usable,
    )


def portal_dashboard(*, membership: Membership, period: Period) -> Dashboard:
    orders, sales = portal_order_totals(membership=membership, period=period)
    return Dashboard(
        period=period,
        currency=membership.brand.currency,
        clicks=portal_click_count(membership=membership, period=period),
        orders=orders,
        sales_cents=sales,
        commissions=portal_commission_totals(membership=membership, period=period),
        balance=portal_balance(membership=membership),
        series=portal_daily_series(membership=membership, period=period),
    )
