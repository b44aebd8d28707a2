"""Every discrepancy kind of the daily reconciliation, seeded in one run on the fake VTEX:
missed order, status differs, value differs, missed return, unknown to VTEX, could not fetch."""

from datetime import date
from typing import Any

import pytest

from orders.models import Discrepancy, Order
from orders.reconciliation import reconciliation_run
from orders.services import order_apply
from tests.orders.conftest import order_doc

pytestmark = pytest.mark.django_db
DAY = date(2024, 2, 4)


def test_one_run_reports_every_discrepancy_kind(setup: dict[str, Any], fake_oms: Any) -> None:
    brand = setup["brand"]
    # status: we saw the approval, VTEX says canceled.
    order_apply(brand=brand, data=order_doc(order_id="1000000000001-01"), source="t")
    fake_oms.add_order(
        order_doc(order_id="1000000000001-01", status="canceled", last_change="2024-02-04T20:31:58+00:00")
    )
    # value: same status, VTEX lists another total (an item was removed after our fetch).
    order_apply(brand=brand, data=order_doc(order_id="1000000000002-01"), source="t")
    changed = order_doc(order_id="1000000000002-01", last_change="2024-02-04T21:00:00+00:00")
    changed["value"] = int(changed["value"]) - 1500
    fake_oms.add_order(changed)
    # missing: VTEX has an order we were never told about.
    fake_oms.add_order(order_doc(order_id="1000000000003-01", creation="2024-02-04T22:00:00+00:00"))
    # return: an invoiced order with a return invoice we missed (hooks do not fire for returns).
    order_apply(
        brand=brand,
        data=order_doc(order_id="1000000000004-01", status="invoiced", last_change="2024-02-05T10:00:00+00:00"),
        source="t",
    )
    fake_oms.add_order(
        order_doc(
            order_id="1000000000004-01",
            status="invoiced",
            last_change="2024-02-20T10:00:00+00:00",
            returns=[{"number": "R1", "items": [(1, 1)]}],
        )
    )
    # orphan: we have an order VTEX does not know.
    order_apply(brand=brand, data=order_doc(order_id="ghost-01"), source="t")
    # fetch_failed: we have it, VTEX answers a broken document.
    order_apply(brand=brand, data=order_doc(order_id="broken-01"), source="t")
    fake_oms.orders["broken-01"] = {"orderId": "", "creationDate": "2024-01-01T00:00:00+00:00"}

    run = reconciliation_run(brand=brand, day=DAY)

    assert run is not None
    found = dict(Discrepancy.objects.filter(run=run).values_list("vtex_order_id", "kind"))
    assert found == {
        "1000000000001-01": Discrepancy.Kind.STATUS,
        "1000000000002-01": Discrepancy.Kind.VALUE,
        "1000000000003-01": Discrepancy.Kind.MISSING,
        "1000000000004-01": Discrepancy.Kind.RETURN,
        "ghost-01": Discrepancy.Kind.ORPHAN,
        "broken-01": Discrepancy.Kind.FETCH_FAILED,
    }
    assert set(found.values()) == set(Discrepancy.Kind.values)
    value = Discrepancy.objects.get(run=run, kind=Discrepancy.Kind.VALUE)
    assert value.theirs["value_cents"] == value.ours["value_cents"] - 1500
    assert Order.objects.get(vtex_order_id="1000000000002-01").value_cents == value.theirs["value_cents"]
