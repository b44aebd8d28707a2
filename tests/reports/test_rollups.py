import io
from typing import Any

import pytest
from django.core.management import call_command

from commissions.models import Commission
from commissions.services.adjustments import commission_adjust
from orders.services import order_apply
from reports.models import DailyRollup, LineRollup
from reports.rollups import rollups_rebuild
from tests.reports.conftest import order_doc, store_clicks

pytestmark = pytest.mark.django_db

FIELDS = (
    "day",
    "campaign_id",
    "influencer_id",
    "variant_id",
    "tier_id",
    "country",
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
)


def snapshot(brand: Any) -> list[tuple[Any, ...]]:
    rows = DailyRollup.objects.filter(brand=brand).order_by(*FIELDS).values_list(*FIELDS)
    lines = (
        LineRollup.objects.filter(brand=brand)
        .order_by("day", "sku_id")
        .values_list("day", "sku_id", "category_id", "orders", "units", "revenue_cents", "commission_estimated_cents")
    )
    return list(rows) + list(lines)


def record_facts(setup: dict[str, Any], link: Any, capture: Any) -> None:
    brand = setup["brand"]
    with capture(execute=True):
        # 2024-02-04 in Bogotá: two visitors, one twice, one bot; 2024-02-05 03:00 UTC is still the 4th there.
        store_clicks(
            brand=brand,
            campaign=setup["campaign"],
            influencer=setup["influencer"],
            link=link,
            moments=[
                ("2024-02-04T15:00:00+00:00", "v1", True),
                ("2024-02-04T16:00:00+00:00", "v1", True),
                ("2024-02-05T03:00:00+00:00", "v2", True),
                ("2024-02-04T17:00:00+00:00", "bot", False),
                ("2024-02-06T15:00:00+00:00", "v3", True),
            ],
        )
    with capture(execute=True):
        order_apply(brand=brand, data=order_doc(), source="t")
    with capture(execute=True):
        order_apply(
            brand=brand,
            data=order_doc(order_id="2000000000001-01", creation="2024-02-06T12:00:00+00:00"),
            source="t",
        )
    with capture(execute=True):
        order_apply(
            brand=brand,
            data=order_doc(status="invoiced", last_change="2024-02-07T00:00:00+00:00"),
            source="t",
        )
    commission = Commission.objects.filter(order__vtex_order_id="2000000000001-01").order_by("pk").first()
    assert commission is not None
    with capture(execute=True):
        commission_adjust(commission_id=commission.pk, amount_cents=100, reason="bonus")


def test_the_services_keep_rollups_current_per_brand_day(
    setup: dict[str, Any], link_maria: Any, django_capture_on_commit_callbacks: Any
) -> None:
    record_facts(setup, link_maria, django_capture_on_commit_callbacks)
    by_day = {r.day.isoformat(): r for r in DailyRollup.objects.filter(brand=setup["brand"])}
    feb4, feb6 = by_day["2024-02-04"], by_day["2024-02-06"]
    assert (feb4.clicks_valid, feb4.clicks_screened, feb4.unique_visitors) == (3, 1, 2)
    assert feb4.orders == 1
    assert feb4.revenue_cents > 0
    assert feb4.commission_confirmed_cents == 1191
    assert feb4.commission_estimated_cents == 0
    assert (feb6.clicks_valid, feb6.orders, feb6.commission_estimated_cents) == (1, 1, 1191 + 100)
    assert feb4.country == "CO"


def test_a_rebuild_equals_the_incremental_result(
    setup: dict[str, Any], link_maria: Any, django_capture_on_commit_callbacks: Any
) -> None:
    record_facts(setup, link_maria, django_capture_on_commit_callbacks)
    incremental = snapshot(setup["brand"])
    assert incremental
    DailyRollup.objects.all().delete()
    LineRollup.objects.all().delete()
    call_command(
        "rollups_rebuild",
        "--brand",
        "acme",
        "--from",
        "2024-01-01",
        "--to",
        "2024-03-01",
        stdout=io.StringIO(),
    )
    assert snapshot(setup["brand"]) == incremental


def test_a_rebuild_touches_only_its_brand_and_range(
    setup: dict[str, Any], link_maria: Any, brand_b: Any, django_capture_on_commit_callbacks: Any
) -> None:
    record_facts(setup, link_maria, django_capture_on_commit_callbacks)
    before = snapshot(setup["brand"])
    rollups_rebuild(brand=brand_b, date_from=before[0][0], date_to=before[0][0])
    rollups_rebuild(
        brand=setup["brand"], date_from=before[0][0].replace(year=2023), date_to=before[0][0].replace(year=2023)
    )
    assert snapshot(setup["brand"]) == before
    assert not DailyRollup.objects.filter(brand=brand_b).exists()
