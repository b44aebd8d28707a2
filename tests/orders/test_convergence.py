"""Events out of order converge: whatever order the fetched documents arrive in (cancel before
payment-approved included), the end state is the one VTEX reports last."""

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commissions.models import Commission
from orders.models import Order
from orders.services import order_apply
from tests.orders.conftest import influencer_balances, order_doc

pytestmark = pytest.mark.django_db

HISTORY = [
    ("payment-pending", "2024-02-04T20:10:00+00:00"),
    ("payment-approved", "2024-02-04T20:15:12+00:00"),
    ("cancel", "2024-02-04T20:31:40+00:00"),
    ("canceled", "2024-02-04T20:31:58+00:00"),
]
_counter = iter(range(10**6))


@settings(max_examples=24, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(range(len(HISTORY))), repeat=st.booleans())
def test_cancel_before_payment_approved_in_every_order_gives_the_same_end_state(
    setup: dict[str, Any], order: list[int], repeat: bool
) -> None:
    brand = setup["brand"]
    order_id = f"{next(_counter)}-01"
    deliveries = [HISTORY[i] for i in order] + ([HISTORY[order[0]]] if repeat else [])
    for status, last_change in deliveries:
        order_apply(brand=brand, data=order_doc(order_id=order_id, status=status, last_change=last_change), source="t")
    stored = Order.objects.get(vtex_order_id=order_id)
    assert stored.status == "canceled"
    commissions = Commission.objects.filter(order=stored)
    assert sorted(commissions.values_list("state", "amount_cents", "reversed_cents", "ledger_posted_cents")) == [
        ("reversed", 150, 150, 0),
        ("reversed", 449, 449, 0),
        ("reversed", 592, 592, 0),
    ]
    # Every order of this influencer ends canceled: nothing is owed.
    assert influencer_balances(brand, setup["influencer"]) == {}
