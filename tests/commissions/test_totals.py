"""One net rule (commissions.models.NET_CENTS) for every total, and the confirmed sales that tier
evaluation reads, rounded with core.money.round_minor."""

from datetime import UTC, datetime
from typing import Any

import pytest

from commissions.models import Commission
from commissions.selectors import commission_performance, commission_totals_for_influencer
from orders.services import order_apply
from tests.orders.conftest import campaign_a, code_maria, maria, order_doc, setup  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_totals_floor_each_commission_at_zero_like_net_cents(setup: dict[str, Any]) -> None:  # noqa: F811
    order_apply(brand=setup["brand"], data=order_doc(), source="t")
    first = Commission.objects.order_by("line__item_index").first()
    assert first is not None
    # A record whose corrections exceed it (say an adjustment before a full reversal): its net is 0,
    # it does not eat into the other records' commission.
    Commission.objects.filter(pk=first.pk).update(adjustment_cents=-(first.amount_cents + 8))
    totals = commission_totals_for_influencer(influencer=setup["influencer"], brand=setup["brand"])
    per_record = sum(c.net_cents for c in Commission.objects.filter(influencer=setup["influencer"]))
    assert totals["estimated"] == per_record == 1191 - first.amount_cents
    assert totals["total"] == per_record


def test_confirmed_sales_of_a_partly_returned_line_are_rounded_not_truncated(
    setup: dict[str, Any],  # noqa: F811
) -> None:
    order_apply(
        brand=setup["brand"], data=order_doc(status="invoiced", last_change="2024-02-05T10:00:00+00:00"), source="t"
    )
    commissions = list(Commission.objects.order_by("line__item_index"))
    assert {c.state for c in commissions} == {"confirmed"}
    whole = sum(c.base_cents for c in commissions[1:])
    # 2 of 3 units kept of a 1000-cent line: 666.67 cents of sales, rounded to 667 (SQL integer
    # division used to give 666).
    Commission.objects.filter(pk=commissions[0].pk).update(
        quantity=3, units_reversed=1, base_cents=1000, state="partially_reversed"
    )
    performance = commission_performance(
        setup["campaign"].pk,
        [setup["influencer"].pk],
        datetime(2024, 2, 1, tzinfo=UTC),
        datetime(2024, 3, 1, tzinfo=UTC),
    )
    result = performance[setup["influencer"].pk]
    assert (result.sales_cents, result.orders) == (whole + 667, 1)
