import zoneinfo
from datetime import date

import pytest
from django.urls import set_script_prefix
from django.utils.translation import override

from core.crypto import mask
from orders.statuses import vtex_status_label
from portal import nav
from portal.nav import NavItem, portal_nav_items, portal_nav_register
from portal.selectors import (
    mask_name,
    period_resolve,
    portal_dashboard,
    portal_earning_list,
    portal_link_list,
    portal_order_list,
)
from reports.charts import DailyPoint, trend_chart
from tests.factories import MembershipFactory

BOGOTA = zoneinfo.ZoneInfo("America/Bogota")


def test_periods_are_inclusive_and_unknown_keys_fall_back():
    today = date(2026, 3, 15)
    assert period_resolve(key="7d", tz=BOGOTA, today=today).start == date(2026, 3, 9)
    assert period_resolve(key="month", tz=BOGOTA, today=today).start == date(2026, 3, 1)
    fallback = period_resolve(key="'; drop", tz=BOGOTA, today=today)
    assert fallback.key == "30d"
    assert len(fallback.days) == 30
    week = period_resolve(key="7d", tz=BOGOTA, today=today)
    assert (week.end - week.start).days + 1 == len(week.days) == 7


def test_customer_data_is_masked():
    assert mask_name("María Gómez") == "M**** G****"
    assert mask_name("") == "—"
    masked = mask("maria.gomez@example.com")
    assert masked.startswith("••••")
    assert "maria" not in masked
    assert "example" not in masked
    assert mask("") == ""


@pytest.mark.django_db
def test_sources_not_built_yet_answer_empty_with_the_right_shape():
    membership = MembershipFactory()
    period = period_resolve(key="7d", tz=BOGOTA)
    dashboard = portal_dashboard(membership=membership, period=period)
    assert (dashboard.clicks, dashboard.orders, dashboard.sales_cents) == (0, 0, 0)
    assert dashboard.commissions.is_empty
    assert not dashboard.has_activity
    assert [p.day for p in dashboard.series] == period.days
    assert portal_order_list(membership=membership) == []
    assert portal_earning_list(membership=membership) == []
    assert portal_link_list(membership=membership) == []


def test_chart_scales_lines_and_bars_to_the_data():
    points = [
        DailyPoint(day=date(2026, 3, 1)),
        DailyPoint(day=date(2026, 3, 2), orders=2, sales_cents=10_000, commission_cents=1_000),
        DailyPoint(day=date(2026, 3, 3), orders=1, sales_cents=5_000, commission_cents=500),
    ]
    chart = trend_chart(points, currency="COP")
    assert not chart.is_empty
    assert len(chart.sales_line.split()) == 3
    assert len(chart.bars) == 2
    top_y = float(chart.sales_line.split()[1].split(",")[1])
    assert top_y == 16.0  # the highest day touches the top of the plot
    assert chart.max_label == "COP 100.00"


def test_empty_chart_is_a_flat_line():
    chart = trend_chart([DailyPoint(day=date(2026, 3, d)) for d in range(1, 8)], currency="BRL")
    assert chart.is_empty
    assert chart.bars == []
    assert chart.max_label == ""
    assert {p.split(",")[1] for p in chart.sales_line.split()} == {str(chart.baseline_y)}


def test_portal_sections_are_ordered_and_codes_hidden_while_suspended():
    portal_nav_register(NavItem("extra", "Extra", "portal:earnings", 41))
    try:
        keys = [item["key"] for item in portal_nav_items(brand_slug="acme", current="extra")]
        assert keys.index("extra") == keys.index("earnings") + 1
        assert keys.index("withdrawals") == keys.index("extra") + 1
        assert "codes" not in [i["key"] for i in portal_nav_items(brand_slug="acme", current="x", suspended=True)]
    finally:
        nav._ITEMS.pop("extra")


def test_portal_section_urls_follow_the_brand_and_the_script_prefix():
    urls = {item["key"]: item["url"] for item in portal_nav_items(brand_slug="acme", current="x")}
    assert urls["earnings"] == "/portal/acme/earnings/"
    assert portal_nav_items(brand_slug="globex", current="x")[0]["url"] == "/portal/globex/"
    set_script_prefix("/mgm/")  # served under a path: every URL carries it, cached or not
    try:
        assert portal_nav_items(brand_slug="acme", current="x")[0]["url"] == "/mgm/portal/acme/"
    finally:
        set_script_prefix("/")
    assert portal_nav_items(brand_slug="acme", current="x")[0]["url"] == "/portal/acme/"


def test_vtex_statuses_read_as_words_and_unknown_ones_as_sent():
    with override("en"):
        assert vtex_status_label("payment-approved") == "Payment approved"
        assert vtex_status_label("invoiced") == "Invoiced"
        assert vtex_status_label("brand-new-status") == "brand-new-status"
        assert vtex_status_label("") == ""
