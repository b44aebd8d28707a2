"""Several workers apply one brand at once (orders.services.batch lanes): a brand's orders are
split by the influencer they belong to, each lane applies one batch at a time, a held lane
does not hold the others, the batch's accruals lock all their accounts in one statement, and
many orders of many influencers drained by two workers end in exactly the right money."""

import os
import random
from typing import Any

import pytest
from django.db import connection
from django.db.models import F, Q, Sum
from django.test.utils import CaptureQueriesContext

import orders.services.batch as batch_steps
from codes.models import Code
from commissions.models import Commission
from orders.models import HookEvent, Order
from orders.services import orders_apply_batch
from payments.models import LedgerEntry, LedgerTransaction
from tests.factories import InfluencerFactory, MembershipFactory
from tests.orders.conftest import influencer_balances, order_doc
from tests.orders.workers import drain_in_workers, draining_while_lanes_held, events_store, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ORDERS = int(os.environ.get("MGM_TEST_BATCH_ORDERS", "150"))
LANES = 4


@pytest.fixture
def lanes(settings: Any) -> int:
    settings.ORDERS_APPLY_LANES = LANES
    return LANES


def _influencers_with_codes(brand: Any, campaign: Any, count: int) -> list[tuple[Any, str]]:
    out = []
    for n in range(count):
        influencer = MembershipFactory(brand=brand, influencer=InfluencerFactory(display_name=f"Lane {n}")).influencer
        text = f"LANE-{n}"
        Code.objects.create(brand=brand, campaign=campaign, influencer=influencer, text=text)
        out.append((influencer, text))
    return out


def _shopper(doc: dict[str, Any], n: int) -> dict[str, Any]:
    profile = doc["clientProfileData"]
    profile["email"] = f"shopper{n}@email.example"
    profile["document"] = f"{n:011d}"
    profile["phone"] = f"+5521{n:09d}"
    profile["userProfileId"] = f"shopper-{n}"
    return doc


def test_orders_are_split_by_the_influencer_they_belong_to(setup: dict[str, Any], lanes: int, settings: Any) -> None:
    brand = setup["brand"]
    people = _influencers_with_codes(brand, setup["campaign"], 6)
    docs = [(order_doc(order_id=f"90{n}-01", coupon=text.lower()), n) for n, (_i, text) in enumerate(people)]
    # An order already attributed stays with its influencer's lane, whatever coupon it carries.
    moved = people[0][0]
    moved_to = next(person for person, _text in people[1:] if person.pk % lanes != moved.pk % lanes)
    Order.objects.create(brand=brand, vtex_order_id="900-01", influencer=moved_to)
    no_coupon = [(_shopper(order_doc(order_id=f"95{n}-01", coupon=None), n), 100 + n) for n in range(8)]

    split = batch_steps.orders_by_lane(brand=brand, documents=docs + no_coupon)

    lane_of = {extra: lane for lane, items in split.items() for _doc, extra in items}
    assert lane_of[0] == moved_to.pk % lanes
    for n, (influencer, _text) in enumerate(people[1:], start=1):
        assert lane_of[n] == influencer.pk % lanes
    assert sum(len(items) for items in split.values()) == len(docs) + len(no_coupon)
    # Without an influencer, the shopper decides, the same way in every process.
    again = batch_steps.orders_by_lane(brand=brand, documents=no_coupon)
    assert {extra: lane for lane, items in again.items() for _d, extra in items} == {
        extra: lane_of[extra] for _d, extra in no_coupon
    }
    settings.ORDERS_APPLY_LANES = 1
    assert list(batch_steps.orders_by_lane(brand=brand, documents=docs + no_coupon)) == [0]


def test_a_busy_lane_does_not_hold_the_brands_other_lanes(
    setup: dict[str, Any], fake_oms: Any, lanes: int, settings: Any
) -> None:
    """The lane lock is per (brand, lane): with one lane held by another worker, a worker
    applies the brand's orders of the other lanes, then waits for the held one."""
    brand = setup["brand"]
    people = _influencers_with_codes(brand, setup["campaign"], 8)
    busy_person, busy_code = people[0]
    busy_lane = busy_person.pk % lanes
    free_person, free_code = next((p, c) for p, c in people[1:] if p.pk % lanes != busy_lane)
    fake_oms.add_order(order_doc(order_id="881-01", coupon=busy_code))
    fake_oms.add_order(order_doc(order_id="882-01", coupon=free_code))
    events_store(brand, [("881-01", "payment-approved", "c1"), ("882-01", "payment-approved", "c2")])
    with draining_while_lanes_held(brand, [busy_lane]) as (drained, worker):
        wait_until(
            lambda: Order.objects.filter(vtex_order_id="882-01").exists(),
            "the free lane was not applied while another lane was busy",
        )
        assert Commission.objects.filter(order__vtex_order_id="882-01", influencer=free_person).count() == 3
        # The busy lane's order waits for its turn, nothing of it written yet.
        assert HookEvent.objects.get(vtex_order_id="881-01").status == "pending"
        assert not Order.objects.filter(vtex_order_id="881-01").exists()
        assert worker.is_alive()
    assert len(drained) == 1
    assert drained[0].applied == 2
    assert Commission.objects.filter(order__vtex_order_id="881-01", influencer=busy_person).count() == 3


def test_a_batch_locks_all_its_influencers_accounts_in_one_statement(
    setup: dict[str, Any], lanes: int, settings: Any
) -> None:
    settings.ORDERS_APPLY_LANES = 1
    brand = setup["brand"]
    people = _influencers_with_codes(brand, setup["campaign"], 5)
    docs = [(order_doc(order_id=f"77{n}-01", coupon=text), "test") for n, (_i, text) in enumerate(people)]
    with CaptureQueriesContext(connection) as captured:
        results = orders_apply_batch(brand=brand, documents=docs)
    assert all(not isinstance(result, Exception) for result in results.values())
    account_locks = [
        q["sql"]
        for q in captured.captured_queries
        if "payments_ledgeraccount" in q["sql"] and "FOR NO KEY UPDATE" in q["sql"]
    ]
    assert len(account_locks) == 1, account_locks
    for influencer, _text in people:
        assert influencer_balances(brand, influencer) == {"estimated": 1191}


def test_many_orders_of_many_influencers_across_two_workers_and_four_lanes(
    setup: dict[str, Any], fake_oms: Any, lanes: int, settings: Any
) -> None:
    settings.ORDERS_BATCH_LEASE_SECONDS = 600
    brand = setup["brand"]
    people = _influencers_with_codes(brand, setup["campaign"], 7)
    rng = random.Random(29)
    final: dict[str, tuple[str, Any]] = {}
    rows: list[tuple[str, str, str]] = []
    for n in range(ORDERS):
        order_id = f"{800000 + n}-01"
        status = rng.choice(["payment-approved", "invoiced", "canceled"])
        influencer, text = people[n % len(people)]
        final[order_id] = (status, influencer)
        doc = _shopper(
            order_doc(order_id=order_id, status=status, coupon=text, last_change="2024-02-05T10:00:00+00:00"), n
        )
        fake_oms.add_order(doc)
        rows.append((order_id, "payment-approved", "2024-02-04T20:15:12Z"))
        if status != "payment-approved":
            rows.append((order_id, status, "2024-02-05T10:00:00Z"))
    rows += rng.sample(rows, len(rows) // 4)  # VTEX retries
    rng.shuffle(rows)
    events_store(brand, rows)

    assert drain_in_workers(2) == []

    assert not HookEvent.objects.exclude(status="processed").exists()
    assert Commission.objects.count() == 3 * ORDERS
    held = set(Commission.objects.filter(fraud_review="held").values_list("order__vtex_order_id", flat=True))
    for influencer, _text in people:
        mine = {o: s for o, (s, who) in final.items() if who == influencer}
        invoiced = sum(1 for o, s in mine.items() if s == "invoiced" and o not in held)
        estimated = sum(1 for o, s in mine.items() if s == "payment-approved" or (s == "invoiced" and o in held))
        expected = {"estimated": 1191 * estimated, "hold": 1191 * invoiced}
        assert influencer_balances(brand, influencer) == {k: v for k, v in expected.items() if v}
        canceled = sum(1 for s in mine.values() if s == "canceled")
        assert Commission.objects.filter(influencer=influencer, state="reversed").count() == 3 * canceled
    unbalanced = (
        LedgerEntry.objects.values("transaction_id")
        .annotate(c=Sum("amount_cents", filter=Q(side="C")), d=Sum("amount_cents", filter=Q(side="D")))
        .exclude(c=F("d"))
    )
    assert not list(unbalanced)
    assert LedgerTransaction.objects.values("kind", "reference").distinct().count() == LedgerTransaction.objects.count()
