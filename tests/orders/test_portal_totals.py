"""The portal dashboard reads commission totals from the rollups; they must agree with the
commission records (commissions.selectors) in every state an order goes through."""

from datetime import date
from typing import Any

from affiliates.models import Membership
from commissions.selectors import commission_totals_for_influencer
from orders.services import order_apply
from portal.selectors import Period, portal_commission_totals
from tests.orders.conftest import order_doc

PERIOD = Period(key="custom", label="February 2024", start=date(2024, 1, 25), end=date(2024, 2, 29))


def _both(setup: dict[str, Any]) -> tuple[tuple[int, int], tuple[int, int]]:
    membership = Membership.objects.get(brand=setup["brand"], influencer=setup["influencer"])
    from_rollups = portal_commission_totals(membership=membership, period=PERIOD)
    records = commission_totals_for_influencer(
        influencer=setup["influencer"], brand=setup["brand"], date_from=PERIOD.start, date_to=PERIOD.end
    )
    return (
        (from_rollups.estimated_cents, from_rollups.confirmed_cents),
        (records["estimated"], records["confirmed"] + records["partially_reversed"]),
    )


def test_rollup_totals_match_the_records_through_an_orders_life(
    setup: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    brand = setup["brand"]
    steps = [
        order_doc(),
        order_doc(status="invoiced", last_change="2024-02-05T10:00:00+00:00"),
        order_doc(
            status="invoiced", last_change="2024-02-20T10:00:00+00:00", returns=[{"number": "R-1", "items": [(0, 1)]}]
        ),
    ]
    expected = [(1191, 0), (0, 1191), (0, 1191 - 296)]
    for doc, totals in zip(steps, expected, strict=True):
        with django_capture_on_commit_callbacks(execute=True):
            order_apply(brand=brand, data=doc, source="test")
        rollups, records = _both(setup)
        assert rollups == records == totals
