"""Money from VTEX is only brand money: an order VTEX reports in another currency
(`storePreferencesData.currencyCode`, USD for a COP brand) is held and pays nothing, unless the
brand set a rate for that currency; then it is converted at that rate, which the order records."""

from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from django.urls import reverse

from audit.models import AuditEvent
from brands.models import CurrencyRate
from brands.services import CurrencyRateInvalid, currency_rate_set
from commissions.models import Commission
from orders.models import HookEvent, Order
from orders.selectors import order_brand_cents
from orders.services import hook_events_process_batch, order_reprocess, order_sync
from payments.models import LedgerEntry
from tests.orders.conftest import SAMPLE_ORDER_ID, hook_payload, influencer_balances, order_doc

pytestmark = pytest.mark.django_db

HOOK_URL = "/api/v1/webhooks/vtex/acme/orders/"


def _amounts(order: Order) -> list[int]:
    return list(
        Commission.objects.filter(order=order).order_by("line__item_index").values_list("amount_cents", flat=True)
    )


def test_a_usd_order_for_a_cop_brand_is_held_and_pays_nothing(
    setup: dict[str, Any], fake_oms: Any, client: Any
) -> None:
    fake_oms.add_order(order_doc(currency="USD"))
    response = client.post(
        HOOK_URL, hook_payload(), content_type="application/json", HTTP_X_HOOK_TOKEN=setup["brand"].hook_token
    )
    assert response.status_code == 200
    report = hook_events_process_batch()
    assert report.applied == 1
    order = Order.objects.get()
    assert (order.currency, order.currency_status, order.fx_rate) == ("USD", "held", None)
    # Attributed (the manager sees whose order it is), but no commission and nothing in the ledger.
    assert order.influencer == setup["influencer"]
    assert Commission.objects.count() == 0
    assert LedgerEntry.objects.count() == 0
    assert HookEvent.objects.get().status == "processed"
    held = AuditEvent.objects.get(action="order.currency_held")
    assert held.after["currency"] == "USD"
    assert held.after["brand_currency"] == "COP"


def test_invoicing_a_held_order_still_pays_nothing(setup: dict[str, Any], fake_oms: Any) -> None:
    brand = setup["brand"]
    fake_oms.add_order(order_doc(currency="USD"))
    order_sync(brand=brand, vtex_order_id=SAMPLE_ORDER_ID, source="t")
    fake_oms.add_order(order_doc(currency="USD", status="invoiced", last_change="2024-02-05T10:00:00+00:00"))
    order_sync(brand=brand, vtex_order_id=SAMPLE_ORDER_ID, source="t")
    assert Order.objects.get().status == "invoiced"
    assert Commission.objects.count() == 0
    assert influencer_balances(brand, setup["influencer"]) == {}


def test_with_a_rate_the_order_is_converted_and_records_the_rate(setup: dict[str, Any], fake_oms: Any) -> None:
    brand = setup["brand"]
    currency_rate_set(brand=brand, currency="USD", rate=Decimal("4000"))
    fake_oms.add_order(order_doc(currency="USD"))
    result = order_sync(brand=brand, vtex_order_id=SAMPLE_ORDER_ID, source="t")
    order = Order.objects.get(pk=result.order_id)
    assert (order.currency_status, order.fx_rate) == ("converted", Decimal("4000"))
    # 10 % of each line total converted at 4000 COP per USD (5922, 4491, 1500 US cents).
    assert _amounts(order) == [2368800, 1796400, 600000]
    assert influencer_balances(brand, setup["influencer"]) == {"estimated": 2368800 + 1796400 + 600000}


def test_a_changed_rate_does_not_reprice_a_converted_order_until_a_manager_reprocesses_it(
    setup: dict[str, Any], fake_oms: Any, manager_a: Any
) -> None:
    brand = setup["brand"]
    currency_rate_set(brand=brand, currency="USD", rate=Decimal("4000"))
    fake_oms.add_order(order_doc(currency="USD"))
    order_sync(brand=brand, vtex_order_id=SAMPLE_ORDER_ID, source="t")
    currency_rate_set(brand=brand, currency="USD", rate=Decimal("3000"))
    fake_oms.add_order(order_doc(currency="USD", last_change="2024-02-04T21:00:00+00:00"))
    order_sync(brand=brand, vtex_order_id=SAMPLE_ORDER_ID, source="t")
    order = Order.objects.get()
    assert order.fx_rate == Decimal("4000")
    assert _amounts(order) == [2368800, 1796400, 600000]
    order_reprocess(order_id=order.pk, actor=manager_a)
    order.refresh_from_db()
    assert order.fx_rate == Decimal("3000")
    # A lower estimate is reversed in the ledger at once (a higher one settles at confirmation).
    assert _amounts(order) == [1776600, 1347300, 450000]
    assert influencer_balances(brand, setup["influencer"]) == {"estimated": 1776600 + 1347300 + 450000}


def test_a_held_order_is_paid_after_the_brand_sets_a_rate_and_a_manager_reprocesses_it(
    setup: dict[str, Any], fake_oms: Any, manager_a: Any
) -> None:
    brand = setup["brand"]
    fake_oms.add_order(order_doc(currency="USD"))
    order_sync(brand=brand, vtex_order_id=SAMPLE_ORDER_ID, source="t")
    order = Order.objects.get()
    assert order.currency_held
    currency_rate_set(brand=brand, currency="USD", rate=Decimal("4000.5"), actor=manager_a)
    # The rate alone changes nothing already stored: the order is reviewed by reprocessing it.
    assert Commission.objects.count() == 0
    order_reprocess(order_id=order.pk, actor=manager_a)
    order.refresh_from_db()
    assert order.currency_status == "converted"
    assert _amounts(order) == [2369096, 1796625, 600075]
    assert AuditEvent.objects.filter(action="order.currency_checked", target_id=str(order.pk)).count() == 1
    assert AuditEvent.objects.get(action="brand.currency_rate_set").actor_id == manager_a.pk


def test_an_order_in_the_brands_currency_is_brand_money_without_any_rate(setup: dict[str, Any], fake_oms: Any) -> None:
    fake_oms.add_order(order_doc(currency="COP"))
    order_sync(brand=setup["brand"], vtex_order_id=SAMPLE_ORDER_ID, source="t")
    order = Order.objects.get()
    assert (order.currency_status, order.fx_rate) == ("brand", None)
    assert _amounts(order) == [592, 449, 150]
    assert not AuditEvent.objects.filter(action__startswith="order.currency").exists()


def test_the_brands_own_currency_takes_no_rate(brand_a: Any) -> None:
    with pytest.raises(CurrencyRateInvalid):
        currency_rate_set(brand=brand_a, currency="COP", rate=Decimal("1"))
    with pytest.raises(CurrencyRateInvalid):
        currency_rate_set(brand=brand_a, currency="USD", rate=Decimal("0"))
    assert CurrencyRate.objects.count() == 0


def test_the_manager_sees_why_an_order_is_held(
    setup: dict[str, Any], fake_oms: Any, manager_a: Any, verified_client: Any
) -> None:
    fake_oms.add_order(order_doc(currency="USD"))
    order_sync(brand=setup["brand"], vtex_order_id=SAMPLE_ORDER_ID, source="t")
    client = verified_client(manager_a)
    listing = client.get(reverse("admin:orders_order_changelist"), {"currency_status__exact": "held"})
    assert listing.status_code == 200
    assert SAMPLE_ORDER_ID in listing.content.decode()
    page = client.get(reverse("admin:orders_order_change", args=[Order.objects.get().pk])).content.decode()
    assert "VTEX reports this order in USD, the brand pays in COP" in page


def test_reports_count_a_held_order_as_no_revenue(setup: dict[str, Any], fake_oms: Any) -> None:
    fake_oms.add_order(order_doc(currency="USD"))
    order_sync(brand=setup["brand"], vtex_order_id=SAMPLE_ORDER_ID, source="t")
    assert Order.objects.aggregate(v=Sum(order_brand_cents()))["v"] == 0
    currency_rate_set(brand=setup["brand"], currency="USD", rate=Decimal("2"))
    order_reprocess(order_id=Order.objects.get().pk)
    order = Order.objects.get()
    assert Order.objects.aggregate(v=Sum(order_brand_cents()))["v"] == order.value_cents * 2
