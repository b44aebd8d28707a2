"""Reconciling an order to VTEX's document: lines, attribution, commissions, ledger."""

from typing import Any

import pytest

from commissions.models import Commission
from orders.models import Order, OrderStatusChange, ReturnInvoice
from orders.services import OrderNotInVTEX, order_apply, order_sync, orders_reprocess_stored
from tests.orders.conftest import influencer_balances, ledger_position, order_doc

pytestmark = pytest.mark.django_db


def _commissions(order: Order) -> list[tuple[str, int, int, int]]:
    return [
        (c.state, c.amount_cents, c.reversed_cents, c.ledger_posted_cents)
        for c in Commission.objects.filter(order=order).order_by("line__item_index")
    ]


def test_an_approved_coupon_order_is_attributed_and_estimated(setup: dict[str, Any], fake_oms: Any) -> None:
    fake_oms.add_order(order_doc())
    result = order_sync(brand=setup["brand"], vtex_order_id="1415461749731-01", source="test")
    order = Order.objects.get(pk=result.order_id)
    assert order.attribution_source == "coupon"
    assert order.influencer == setup["influencer"]
    assert order.code == setup["code"]
    assert order.attribution_rule == "coupon of the brand"
    assert order.attribution_touchpoints[0]["kind"] == "coupon"
    assert order.order_group == "1415461749731"
    # 10 % of each line total (priceDefinition.total); shipping is not a base.
    assert _commissions(order) == [("estimated", 592, 0, 592), ("estimated", 449, 0, 449), ("estimated", 150, 0, 150)]
    commission = Commission.objects.filter(order=order).order_by("line__item_index").first()
    assert commission is not None
    assert "10% of 5922" in commission.explanation["text"]
    assert influencer_balances(setup["brand"], setup["influencer"]) == {"estimated": 1191}


def test_invoicing_confirms_and_moves_the_money_on_hold(setup: dict[str, Any]) -> None:
    brand = setup["brand"]
    order_apply(brand=brand, data=order_doc(), source="test")
    order_apply(brand=brand, data=order_doc(status="invoiced", last_change="2024-02-05T10:00:00+00:00"), source="test")
    order = Order.objects.get()
    assert [s[0] for s in _commissions(order)] == ["confirmed"] * 3
    assert influencer_balances(brand, setup["influencer"]) == {"hold": 1191}
    assert list(OrderStatusChange.objects.values_list("to_status", flat=True)) == ["payment-approved", "invoiced"]


def test_a_return_of_one_unit_reverses_exactly_that_units_commission(setup: dict[str, Any]) -> None:
    brand = setup["brand"]
    order_apply(brand=brand, data=order_doc(status="invoiced", last_change="2024-02-05T10:00:00+00:00"), source="t")
    returned = order_doc(
        status="invoiced", last_change="2024-02-20T10:00:00+00:00", returns=[{"number": "RET-1", "items": [(0, 1)]}]
    )
    order_apply(brand=brand, data=returned, source="t")
    order_apply(brand=brand, data=returned, source="t", force=True)  # again: nothing more
    order = Order.objects.get()
    # Line 0: 2 units, commission 592; one unit back → 296 reversed.
    assert _commissions(order) == [
        ("partially_reversed", 592, 296, 296),
        ("confirmed", 449, 0, 449),
        ("confirmed", 150, 0, 150),
    ]
    assert influencer_balances(brand, setup["influencer"]) == {"hold": 1191 - 296}
    assert ReturnInvoice.objects.count() == 1
    first = Commission.objects.get(order=order, line__item_index=0)
    assert ledger_position(brand, first)["reversed"] == 296


def test_a_cancel_after_approval_reverses_everything(setup: dict[str, Any]) -> None:
    brand = setup["brand"]
    order_apply(brand=brand, data=order_doc(), source="t")
    order_apply(brand=brand, data=order_doc(status="canceled", last_change="2024-02-04T20:31:58+00:00"), source="t")
    order = Order.objects.get()
    assert [c[0] for c in _commissions(order)] == ["reversed"] * 3
    assert [c[3] for c in _commissions(order)] == [0, 0, 0]
    assert influencer_balances(brand, setup["influencer"]) == {}
    assert order.canceled_at is not None


def test_an_order_canceled_before_we_saw_it_posts_nothing(setup: dict[str, Any]) -> None:
    order_apply(brand=setup["brand"], data=order_doc(status="canceled"), source="t")
    assert [c[0] for c in _commissions(Order.objects.get())] == ["reversed"] * 3
    assert influencer_balances(setup["brand"], setup["influencer"]) == {}


def test_an_unknown_code_is_stored_unattributed_not_an_error(setup: dict[str, Any]) -> None:
    order_apply(brand=setup["brand"], data=order_doc(coupon="NOBODY"), source="t")
    order = Order.objects.get()
    assert order.attribution_source == "none"
    assert order.attribution_rule == "unknown code"
    assert order.influencer is None
    assert not Commission.objects.exists()


def test_an_order_without_coupon_is_unattributed(setup: dict[str, Any]) -> None:
    order_apply(brand=setup["brand"], data=order_doc(coupon=None), source="t")
    order = Order.objects.get()
    assert (order.attribution_source, order.coupon) == ("none", "")
    assert order.lines.count() == 3


def test_an_older_document_never_rolls_the_order_back(setup: dict[str, Any]) -> None:
    brand = setup["brand"]
    order_apply(brand=brand, data=order_doc(status="canceled", last_change="2024-02-04T20:31:58+00:00"), source="t")
    result = order_apply(brand=brand, data=order_doc(), source="t")
    assert result.reason == "stale"
    assert Order.objects.get().status == "canceled"


def test_the_same_document_twice_changes_nothing(setup: dict[str, Any]) -> None:
    brand = setup["brand"]
    order_apply(brand=brand, data=order_doc(), source="t")
    before = list(Commission.objects.values_list("pk", "state", "amount_cents", "updated_at"))
    assert order_apply(brand=brand, data=order_doc(), source="t").reason == "unchanged"
    assert list(Commission.objects.values_list("pk", "state", "amount_cents", "updated_at")) == before


def test_removed_items_reverse_their_units_before_invoicing(setup: dict[str, Any]) -> None:
    brand = setup["brand"]
    order_apply(brand=brand, data=order_doc(), source="t")
    changed = order_doc(last_change="2024-02-04T21:00:00+00:00", removed=[{"id": "25", "quantity": 1, "price": 4491}])
    order_apply(brand=brand, data=changed, source="t")
    order = Order.objects.get()
    assert _commissions(order)[1] == ("reversed", 449, 449, 0)
    assert influencer_balances(brand, setup["influencer"]) == {"estimated": 1191 - 449}


def test_gift_lines_earn_no_commission(setup: dict[str, Any]) -> None:
    doc = order_doc()
    doc["items"][2]["isGift"] = True
    order_apply(brand=setup["brand"], data=doc, source="t")
    assert Commission.objects.count() == 2


def test_a_missing_order_in_vtex_is_refused_and_nothing_is_stored(setup: dict[str, Any], fake_oms: Any) -> None:
    with pytest.raises(OrderNotInVTEX):
        order_sync(brand=setup["brand"], vtex_order_id="nope-01", source="t")
    assert not Order.objects.exists()


def test_reprocessing_stored_orders_fixes_only_those_that_drifted(setup: dict[str, Any]) -> None:
    brand = setup["brand"]
    order_apply(brand=brand, data=order_doc(), source="t")
    order_apply(brand=brand, data=order_doc(order_id="2222-01"), source="t")
    Order.objects.filter(vtex_order_id="2222-01").update(status="handling")
    report = orders_reprocess_stored(brand=brand)
    assert (report.checked, report.differing, report.reapplied) == (2, 1, 1)
    assert Order.objects.get(vtex_order_id="2222-01").status == "payment-approved"
    assert orders_reprocess_stored(brand=brand).differing == 0
