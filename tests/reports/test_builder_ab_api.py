import math
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from accounts.services import api_key_create
from orders.services import order_apply
from reports.ab import two_proportion_z_test, verdict
from reports.builder import ReportSpecInvalid, report_run, spec_from_input
from tests.reports.conftest import order_doc, store_clicks

pytestmark = pytest.mark.django_db


@pytest.fixture
def facts(setup: dict[str, Any], link_maria: Any, django_capture_on_commit_callbacks: Any) -> dict[str, Any]:
    brand = setup["brand"]
    with django_capture_on_commit_callbacks(execute=True):
        store_clicks(
            brand=brand,
            campaign=setup["campaign"],
            influencer=setup["influencer"],
            link=link_maria,
            moments=[("2024-02-04T15:00:00+00:00", "v1", True), ("2024-02-04T16:00:00+00:00", "v2", True)],
        )
    with django_capture_on_commit_callbacks(execute=True):
        order_apply(brand=brand, data=order_doc(), source="t")
    return setup


def test_the_builder_groups_whitelisted_dimensions_and_derives_rates(facts: dict[str, Any]) -> None:
    spec = spec_from_input(
        data={
            "date_from": "2024-02-01",
            "date_to": "2024-02-29",
            "dimensions": "day,influencer",
            "metrics": ["clicks", "orders", "conversion_rate", "average_order_value"],
            "sort": "orders",
        },
        brand_id=facts["brand"].pk,
    )
    result = report_run(spec=spec)
    assert len(result.rows) == 1
    row = result.rows[0]
    assert (row["day"], row["influencer"], row["clicks"], row["orders"], row["conversion_rate"]) == (
        "2024-02-04",
        "Maria",
        2,
        1,
        0.5,
    )
    header, body = result.table()
    assert len(header) == 6
    assert len(body) == 1


def test_a_sku_report_reads_order_lines(facts: dict[str, Any]) -> None:
    spec = spec_from_input(
        data={
            "date_from": "2024-02-01",
            "date_to": "2024-02-29",
            "dimensions": "sku",
            "metrics": "orders,units,revenue",
        },
        brand_id=facts["brand"].pk,
    )
    rows = report_run(spec=spec).rows
    assert len(rows) == 3
    assert all(r["orders"] == 1 for r in rows)


def test_report_files_write_money_in_major_units_and_rates_in_percent(facts: dict[str, Any]) -> None:
    spec = spec_from_input(
        data={
            "date_from": "2024-02-01",
            "date_to": "2024-02-29",
            "dimensions": "day",
            "metrics": ["orders", "revenue", "conversion_rate"],
        },
        brand_id=facts["brand"].pk,
    )
    result = report_run(spec=spec)
    revenue_cents = result.rows[0]["revenue"]
    assert revenue_cents > 0
    currency = facts["brand"].currency
    header, body = result.table()  # the brand's currency, looked up
    assert header[2] == f"Revenue ({currency})"
    assert header[3] == "Conversion rate (%)"
    assert body[0][2] == Decimal(revenue_cents).scaleb(-2)
    assert isinstance(body[0][2], Decimal)
    assert body[0][3] == Decimal("50.00")
    assert result.table(currency=currency) == (header, body)


@pytest.mark.parametrize(
    "data",
    [
        {"dimensions": "day;DROP TABLE"},
        {"dimensions": "brand__vtex_app_token"},
        {"metrics": "amount_cents"},
        {"filters": {"influencer__user__password": "x"}},
        {"filters": {"campaign": "1 OR 1=1"}},
        {"sort": "revenue_cents"},
        {"dimensions": "day,week"},
        {"dimensions": "sku", "metrics": "clicks"},
        {"attribution": "linear", "date_from": "2024-01-01", "date_to": "2024-12-31"},
        {"date_from": "2024-02-10", "date_to": "2024-02-01"},
        # Well formed, not in the calendar (schemathesis found these answered 500).
        {"date_to": "2024-13-01"},
        {"date_from": "2026-02-30", "date_to": "2026-03-10"},
    ],
)
def test_only_whitelisted_names_reach_the_query(data: dict[str, Any]) -> None:
    with pytest.raises(ReportSpecInvalid):
        spec_from_input(data=data, brand_id=1)


def test_an_attribution_model_reweights_orders_from_touchpoints(facts: dict[str, Any]) -> None:
    spec = spec_from_input(
        data={
            "date_from": "2024-02-01",
            "date_to": "2024-02-29",
            "dimensions": "influencer",
            "metrics": "orders,revenue",
            "attribution": "linear",
        },
        brand_id=facts["brand"].pk,
    )
    rows = report_run(spec=spec).rows
    assert [(r["influencer"], r["orders"]) for r in rows] == [("Maria", 1.0)]


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def test_the_z_test_matches_known_values() -> None:
    # 200/1000 vs 250/1000: pooled 0.225, se 0.018675, z 2.6773, two-sided p 0.00742.
    test = two_proportion_z_test(successes_a=200, trials_a=1000, successes_b=250, trials_b=1000)
    assert test is not None
    assert math.isclose(test.z, 2.6773, abs_tol=1e-3)
    assert math.isclose(test.p_value, 0.00742, abs_tol=1e-4)
    assert verdict(name_a="A", name_b="B", test=test, trials_a=1000, trials_b=1000) == (
        "B converts better than A with 99% confidence."
    )
    close = two_proportion_z_test(successes_a=50, trials_a=1000, successes_b=52, trials_b=1000)
    assert close is not None
    assert close.p_value > 0.8
    assert verdict(name_a="A", name_b="B", test=close, trials_a=1000, trials_b=1000).startswith("Not enough evidence")
    assert two_proportion_z_test(successes_a=0, trials_a=0, successes_b=1, trials_b=10) is None
    assert verdict(name_a="A", name_b="B", test=None, trials_a=5, trials_b=5).startswith("Not enough evidence")


def test_the_api_runs_a_spec_for_the_key_brand_only(facts: dict[str, Any], brand_b: Any) -> None:
    _key, secret = api_key_create(brand=facts["brand"], name="bi")
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    response = client.post(
        "/api/v1/reports/",
        {"date_from": "2024-02-01", "date_to": "2024-02-29", "dimensions": ["campaign"], "metrics": ["orders"]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["rows"][0]["orders"] == 1
    got = client.get("/api/v1/reports/?date_from=2024-02-01&date_to=2024-02-29&metrics=clicks,orders")
    assert got.json()["rows"] == [{"clicks": 2, "orders": 1}]
    # Another brand's id: refused, nothing leaks.
    other = client.get(f"/api/v1/reports/?brand={brand_b.pk}&metrics=orders")
    assert other.status_code == 404
    bad = client.get("/api/v1/reports/?metrics=password")
    assert bad.status_code == 400
    assert bad.json()["code"] == "unknown_metric"
    schema = client.get("/api/v1/schema/?format=json").json()
    assert "/api/v1/reports/" in schema["paths"]
