"""A batch reads ahead and posts together (orders.services.orders.orders_read_ahead,
commissions.postings): its orders are locked in one statement, their lines and commissions read
once, an influencer's confirmations posted in one go at the batch's end, and a tracking step
that fails inside a batch fails only its order, which the retry alone isolates as before."""

import logging
import threading
from typing import Any

import pytest
from django.db import DataError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import orders.services.batch as batch_steps
from campaigns.models import CommissionRule
from codes.models import Code
from commissions.models import Commission
from core import batching
from orders.models import Order, OrderStatusChange
from orders.services import order_apply, orders_apply_batch
from payments.models import CommissionPosition, LedgerTransaction
from tests.factories import CampaignFactory, MembershipFactory
from tests.orders.conftest import influencer_balances, order_doc
from tracking import fraud as tracking_fraud
from tracking import fraud_rules
from tracking.fraud import fraud_flag_record
from tracking.models import AttributionPolicy, CustomerBinding, FraudFlag, OrderSignal

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

IDS = ("901-01", "902-01", "903-01", "904-01")


def _sql(captured: CaptureQueriesContext, *needles: str) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if all(needle in q["sql"] for needle in needles)]


def _batch(brand: Any, status: str, last_change: str) -> dict[str, Any]:
    docs = [(order_doc(order_id=order_id, status=status, last_change=last_change), "test") for order_id in IDS]
    results = orders_apply_batch(brand=brand, documents=docs)
    assert not [result for result in results.values() if isinstance(result, Exception)]
    return results


def test_a_batch_locks_its_orders_and_reads_their_lines_and_commissions_once(setup: dict[str, Any]) -> None:
    brand, influencer = setup["brand"], setup["influencer"]
    _batch(brand, "payment-approved", "2024-02-04T20:15:12+00:00")
    assert Commission.objects.filter(order__brand=brand).count() == 3 * len(IDS)

    with CaptureQueriesContext(connection) as captured:
        _batch(brand, "invoiced", "2024-02-06T10:00:00+00:00")

    order_locks = _sql(captured, 'FROM "orders_order"', "FOR NO KEY UPDATE")
    assert len(order_locks) == 1, order_locks
    # (The reports' rollup of the day reads lines too, by day, not by order.)
    assert len(_sql(captured, 'FROM "orders_orderline" WHERE "orders_orderline"."order_id"')) == 1
    assert len(_sql(captured, 'FROM "commissions_commission"', "FOR NO KEY UPDATE")) == 1
    # The settled check of every order was answered from what was read ahead.
    assert not _sql(captured, 'FROM "commissions_commission"', "LIMIT 1")
    # Four orders of one influencer: their twelve confirmations in one posting.
    assert len(_sql(captured, 'INSERT INTO "payments_ledgertransaction"')) == 1
    assert LedgerTransaction.objects.filter(brand=brand, kind="confirm").count() == 3 * len(IDS)
    assert influencer_balances(brand, influencer) == {"hold": len(IDS) * 1191}
    assert set(Commission.objects.filter(order__brand=brand).values_list("state", flat=True)) == {"confirmed"}
    assert all(position.held_cents > 0 for position in CommissionPosition.objects.filter(brand=brand))
    # Each order's status change was recorded once, at the batch's end.
    assert OrderStatusChange.objects.filter(order__brand=brand, to_status="invoiced").count() == len(IDS)

    # The same documents again: nothing more is posted.
    with CaptureQueriesContext(connection) as again:
        results = _batch(brand, "invoiced", "2024-02-06T10:00:00+00:00")
    assert {result.reason for result in results.values()} == {"unchanged"}
    assert not _sql(again, 'INSERT INTO "payments_ledgertransaction"')
    assert LedgerTransaction.objects.filter(brand=brand, kind="confirm").count() == 3 * len(IDS)


def test_a_batch_applies_as_the_orders_would_one_by_one(setup: dict[str, Any], brand_b: Any) -> None:
    """The same orders through a batch and one at a time end in the same commissions, ledger
    and status history (brand B gets the documents one by one)."""
    brand_a = setup["brand"]
    campaign_b = CampaignFactory(brand=brand_b, hold_days=15)
    CommissionRule.objects.create(campaign=campaign_b, name="10%", kind="percentage", rate_percent=10, dimension="all")
    maria_b = MembershipFactory(brand=brand_b).influencer
    Code.objects.create(brand=brand_b, campaign=campaign_b, influencer=maria_b, text=setup["code"].text)

    steps = [
        ("payment-approved", "2024-02-04T20:15:12+00:00"),
        ("invoiced", "2024-02-06T10:00:00+00:00"),
        ("canceled", "2024-02-08T10:00:00+00:00"),
    ]
    for status, last_change in steps:
        _batch(brand_a, status, last_change)
        for order_id in IDS:
            order_apply(
                brand=brand_b, data=order_doc(order_id=order_id, status=status, last_change=last_change), source="t"
            )

    def shape(brand: Any) -> dict[str, Any]:
        return {
            "commissions": sorted(
                Commission.objects.filter(order__brand=brand).values_list(
                    "order__vtex_order_id", "state", "amount_cents", "reversed_cents", "ledger_posted_cents"
                )
            ),
            "ledger": sorted(LedgerTransaction.objects.filter(brand=brand).values_list("kind", flat=True)),
            "changes": sorted(
                OrderStatusChange.objects.filter(order__brand=brand).values_list(
                    "order__vtex_order_id", "from_status", "to_status"
                )
            ),
        }

    assert shape(brand_a) == shape(brand_b)
    assert influencer_balances(brand_a, setup["influencer"]) == influencer_balances(brand_b, maria_b)


def test_a_tracking_step_failing_in_a_batch_fails_only_its_order_and_the_retry_isolates_it(
    setup: dict[str, Any], monkeypatch: Any, caplog: Any
) -> None:
    """Inside a batch the tracking steps run without savepoints of their own: the failing order
    rolls back to its own savepoint, the others commit, and its retry alone screens in a
    savepoint, logs the failure and applies the order (as every single sync always did)."""
    brand = setup["brand"]
    calls: list[str] = []

    def broken(**kwargs: Any) -> None:
        calls.append("rule")
        raise RuntimeError("rule bug")

    monkeypatch.setattr(fraud_rules, "rule_self_referral", broken)
    docs = [(order_doc(order_id=order_id), "test") for order_id in IDS[:2]]
    with caplog.at_level(logging.ERROR, logger="orders.services"):
        results = orders_apply_batch(brand=brand, documents=docs)

    assert {result.reason for result in results.values()} == {"applied"}
    # Each order met the rule in the batch (failed there) and again alone (isolated there).
    assert len(calls) == 4
    assert caplog.text.count("fraud screening failed") == 2
    assert Order.objects.filter(brand=brand, influencer=setup["influencer"]).count() == 2
    assert Commission.objects.filter(order__brand=brand).count() == 6
    assert OrderStatusChange.objects.filter(order__brand=brand).count() == 2


def test_screening_an_order_again_keeps_one_signal_with_what_it_says_now(setup: dict[str, Any]) -> None:
    brand = setup["brand"]
    order_apply(brand=brand, data=order_doc(order_id="911-01"), source="t")
    first = OrderSignal.objects.get(brand=brand, order_ref="911-01")
    order = Order.objects.get(brand=brand, vtex_order_id="911-01")
    Order.objects.filter(pk=order.pk).update(snapshot_hash="")  # the next sync applies again
    order_apply(brand=brand, data=order_doc(order_id="911-01", creation="2024-02-04T21:30:00+00:00"), source="t")
    signals = list(OrderSignal.objects.filter(brand=brand, order_ref="911-01"))
    assert [signal.pk for signal in signals] == [first.pk]
    assert signals[0].placed_at != first.placed_at
    assert signals[0].placed_at.isoformat().startswith("2024-02-04T21:30:00")
    assert (signals[0].coupon, signals[0].influencer_id) == (first.coupon, setup["influencer"].pk)


def test_new_commissions_are_inserted_together_with_their_history(setup: dict[str, Any]) -> None:
    brand = setup["brand"]
    with CaptureQueriesContext(connection) as captured:
        _batch(brand, "payment-approved", "2024-02-04T20:15:12+00:00")

    assert len(_sql(captured, 'INSERT INTO "commissions_commission"')) == 1
    commissions = list(Commission.objects.filter(order__brand=brand))
    assert len(commissions) == 3 * len(IDS)
    assert all(c.created_at is not None and c.state == "estimated" for c in commissions)
    created = Commission.history.filter(history_type="+", id__in=[c.pk for c in commissions])
    assert created.count() == len(commissions)
    assert not created.filter(created_at__isnull=True).exists()
    # Their ledger accruals and notifications went with them.
    assert LedgerTransaction.objects.filter(brand=brand, kind="accrue").count() == len(commissions)
    assert influencer_balances(brand, setup["influencer"]) == {"estimated": len(IDS) * 1191}


def test_changed_commissions_are_updated_together_with_their_history(setup: dict[str, Any]) -> None:
    brand = setup["brand"]
    _batch(brand, "payment-approved", "2024-02-04T20:15:12+00:00")
    before = {c.pk: c.updated_at for c in Commission.objects.filter(order__brand=brand)}
    with CaptureQueriesContext(connection) as captured:
        _batch(brand, "invoiced", "2024-02-06T10:00:00+00:00")

    updates = _sql(captured, 'UPDATE "commissions_commission"')
    assert len(updates) == 1, updates  # the twelve changed commissions in one statement
    commissions = list(Commission.objects.filter(order__brand=brand))
    assert {c.state for c in commissions} == {"confirmed"}
    assert all(c.confirmed_at is not None and c.updated_at > before[c.pk] for c in commissions)
    changed = Commission.history.filter(history_type="~", id__in=list(before))
    assert changed.count() == len(before)
    assert set(changed.values_list("state", flat=True)) == {"confirmed"}
    assert influencer_balances(brand, setup["influencer"]) == {"hold": len(IDS) * 1191}


def test_a_batch_asks_once_whether_its_customers_are_bound(setup: dict[str, Any]) -> None:
    """No customer of the batch was ever bound: one query for the batch, none per order."""
    with CaptureQueriesContext(connection) as captured:
        _batch(setup["brand"], "payment-approved", "2024-02-04T20:15:12+00:00")
    assert len(_sql(captured, 'FROM "tracking_customerbinding"')) == 1
    assert Order.objects.filter(brand=setup["brand"], influencer=setup["influencer"]).count() == len(IDS)


def test_a_customer_bound_by_one_order_of_a_batch_is_found_by_their_next_order_in_it(setup: dict[str, Any]) -> None:
    """The binding the first order records (cross-device policy) attributes the same customer's
    next order, which has no coupon, although the batch read ahead before it existed."""
    brand, influencer = setup["brand"], setup["influencer"]
    AttributionPolicy.objects.create(campaign=setup["campaign"], cross_device=True)
    docs = [
        (order_doc(order_id="911-01", creation="2024-02-04T20:09:43+00:00"), "test"),
        (order_doc(order_id="912-01", coupon=None, creation="2024-02-05T10:00:00+00:00"), "test"),
    ]
    results = orders_apply_batch(brand=brand, documents=docs)
    assert not [result for result in results.values() if isinstance(result, Exception)]
    assert CustomerBinding.objects.filter(brand=brand, influencer=influencer, order_ref="911-01").exists()
    second = Order.objects.get(brand=brand, vtex_order_id="912-01")
    assert second.influencer_id == influencer.pk
    assert Commission.objects.filter(order=second).exists()


def test_a_batch_reads_its_orders_holds_once_and_holds_what_it_flags_itself(setup: dict[str, Any]) -> None:
    """921 was flagged before the batch; 922 is a self-referral its own screen flags inside the
    batch, after the holds were read ahead: both are held, the two ordinary orders are not, and
    no order asked for its holds alone."""
    brand, maria = setup["brand"], setup["influencer"]
    fraud_flag_record(
        brand_id=brand.pk,
        influencer_id=maria.pk,
        rule=FraudFlag.Rule.COUPON_LEAK,
        subject=FraudFlag.Subject.ORDER,
        subject_ref="921-01",
        evidence={"by": "test"},
    )
    invoiced = {"status": "invoiced", "last_change": "2024-02-05T10:00:00+00:00"}
    self_referral = order_doc(order_id="922-01", **invoiced)
    self_referral["clientProfileData"]["email"] = maria.user.email
    docs = [
        (order_doc(order_id="921-01", **invoiced), "test"),
        (self_referral, "test"),
        (order_doc(order_id="923-01", **invoiced), "test"),
        (order_doc(order_id="924-01", **invoiced), "test"),
    ]
    with CaptureQueriesContext(connection) as captured:
        results = orders_apply_batch(brand=brand, documents=docs)
    assert not [result for result in results.values() if isinstance(result, Exception)]
    assert not _sql(captured, 'SELECT 1 AS "a" FROM "tracking_fraudflag"')
    review = dict(Commission.objects.filter(brand=brand).values_list("order__vtex_order_id", "fraud_review").distinct())
    assert review == {"921-01": "held", "922-01": "held", "923-01": "clear", "924-01": "clear"}
    assert FraudFlag.objects.filter(brand=brand, subject_ref="922-01", rule="self_referral").exists()


def test_a_new_order_of_a_batch_is_inserted_once_with_the_history_of_an_order_applied_alone(
    setup: dict[str, Any], brand_b: Any
) -> None:
    """An order the batch read ahead as new is inserted whole in one statement (no get_or_create
    SELECT and savepoint, no UPDATE after it), and keeps the two history rows an order applied
    alone gets: the row's creation, then the change that filled it."""
    brand = setup["brand"]
    with CaptureQueriesContext(connection) as captured:
        _batch(brand, "payment-approved", "2024-02-04T20:15:12+00:00")
    assert len(_sql(captured, 'INSERT INTO "orders_order"')) == len(IDS)
    assert not _sql(captured, 'UPDATE "orders_order"')
    # The read-ahead (which found none of them) is the one statement reading the orders.
    assert len([sql for sql in _sql(captured, 'FROM "orders_order" WHERE') if "commissions" not in sql]) == 1
    order_apply(brand=brand_b, data=order_doc(order_id=IDS[0]), source="t")

    def history(brand: Any) -> list[tuple[Any, ...]]:
        rows = Order.history.filter(brand=brand, vtex_order_id=IDS[0]).order_by("history_date", "history_id")
        return list(rows.values_list("history_type", "status", "sync_count", "value_cents", "coupon"))

    assert history(brand) == history(brand_b)
    assert [row[:3] for row in history(brand)] == [("+", "", 0), ("~", "payment-approved", 1)]
    order = Order.objects.get(brand=brand, vtex_order_id=IDS[0])
    assert (order.influencer_id, order.sync_count, order.status) == (setup["influencer"].pk, 1, "payment-approved")
    assert order.created_at is not None
    assert order.snapshot_hash


def test_a_new_order_another_worker_inserts_after_the_read_ahead_is_retried_alone_and_applied_once(
    setup: dict[str, Any], monkeypatch: Any, caplog: Any
) -> None:
    """The batch reads 931 ahead as new; before it inserts it, another worker applies and
    commits the same order. The batch's INSERT breaks the unique constraint inside the order's
    savepoint: the order is rolled back there and retried alone, which finds that row and
    converges (one order, one commission per line, one accrual each); the batch's other order
    commits."""
    brand, influencer = setup["brand"], setup["influencer"]
    real = batch_steps.orders_read_ahead
    other: list[Any] = []

    def other_worker() -> None:
        try:
            other.append(order_apply(brand=brand, data=order_doc(order_id="931-01"), source="other"))
        except Exception as exc:
            other.append(exc)
        finally:
            connections.close_all()

    def read_ahead_then_race(**kwargs: Any) -> None:
        real(**kwargs)
        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join(timeout=60)

    monkeypatch.setattr(batch_steps, "orders_read_ahead", read_ahead_then_race)
    docs = [(order_doc(order_id=order_id), "test") for order_id in ("931-01", "932-01")]
    with caplog.at_level(logging.WARNING, logger="orders.services.batch"):
        results = orders_apply_batch(brand=brand, documents=docs)

    assert [result.reason for result in other] == ["applied"]
    assert "order 931-01 failed in its batch" in caplog.text
    assert "932-01 failed" not in caplog.text
    assert {order_id: result.reason for order_id, result in results.items()} == {  # type: ignore[union-attr]
        "931-01": "unchanged",
        "932-01": "applied",
    }
    assert Order.objects.filter(brand=brand, influencer=influencer).count() == 2
    assert Commission.objects.filter(order__brand=brand).count() == 6
    assert LedgerTransaction.objects.filter(brand=brand, kind="accrue").count() == 6
    assert influencer_balances(brand, influencer) == {"estimated": 2 * 1191}
    assert Order.history.filter(vtex_order_id="931-01").count() == 2
    assert OrderSignal.objects.filter(brand=brand, order_ref="931-01").count() == 1


def _brand_like_setup(brand_b: Any, setup: dict[str, Any]) -> Any:
    """Brand B with the same campaign rule and code as the `setup` brand; its influencer."""
    campaign_b = CampaignFactory(brand=brand_b, hold_days=15)
    CommissionRule.objects.create(campaign=campaign_b, name="10%", kind="percentage", rate_percent=10, dimension="all")
    maria_b = MembershipFactory(brand=brand_b).influencer
    Code.objects.create(brand=brand_b, campaign=campaign_b, influencer=maria_b, text=setup["code"].text)
    return maria_b


def _customer(doc: dict[str, Any], n: int) -> dict[str, Any]:
    doc["clientProfileData"] = {**doc["clientProfileData"], "email": f"shopper{n}@example.com", "document": f"{n:011d}"}
    return doc


def _signals(brand: Any) -> list[tuple[Any, ...]]:
    return sorted(
        OrderSignal.objects.filter(brand=brand).values_list(
            "order_ref", "coupon", "customer_hash", "is_new_customer", "had_click", "placed_at"
        )
    )


def test_a_batch_reads_its_signals_once_and_each_order_sees_those_of_the_orders_before_it(
    setup: dict[str, Any], brand_b: Any
) -> None:
    """One customer: an order screened before the batch, then a batch with an order placed
    earlier than it (a new customer then) and two placed later (returning). The batch reads
    the signals once, writes its own in one statement, and records what the same documents
    applied one at a time record."""
    brand = setup["brand"]
    _brand_like_setup(brand_b, setup)
    before = order_doc(order_id="940-01", creation="2024-02-03T10:00:00+00:00")
    batch = [
        order_doc(order_id="941-01", creation="2024-02-02T10:00:00+00:00"),
        order_doc(order_id="942-01", creation="2024-02-04T10:00:00+00:00"),
        order_doc(order_id="943-01", creation="2024-02-04T11:00:00+00:00"),
    ]
    order_apply(brand=brand, data=before, source="t")
    with CaptureQueriesContext(connection) as captured:
        results = orders_apply_batch(brand=brand, documents=[(doc, "t") for doc in batch])
    assert not [result for result in results.values() if isinstance(result, Exception)]
    assert len(_sql(captured, 'FROM "tracking_ordersignal"')) == 1
    assert len(_sql(captured, 'INSERT INTO "tracking_ordersignal"')) == 1
    for doc in [before, *batch]:
        order_apply(brand=brand_b, data=doc, source="t")

    signals = _signals(brand)
    assert [(row[0], row[3]) for row in signals] == [
        ("940-01", True),
        ("941-01", True),
        ("942-01", False),
        ("943-01", False),
    ]
    assert signals == _signals(brand_b)


def test_a_coupon_leaking_within_a_batch_is_flagged_as_one_order_at_a_time_flags_it(
    setup: dict[str, Any], brand_b: Any
) -> None:
    """Eleven new customers use the coupon within a day, with no click, four before the batch
    and seven in it: the orders from the tenth on are flagged, as when each is applied alone,
    although the batch read the coupon's uses once, before its own orders existed."""
    brand = setup["brand"]
    _brand_like_setup(brand_b, setup)
    docs = [
        _customer(order_doc(order_id=f"95{n}-01", creation=f"2024-02-04T1{n}:00:00+00:00"), n) for n in range(10)
    ] + [_customer(order_doc(order_id="960-01", creation="2024-02-04T19:30:00+00:00"), 10)]
    for doc in docs[:4]:
        order_apply(brand=brand, data=doc, source="t")
    with CaptureQueriesContext(connection) as captured:
        results = orders_apply_batch(brand=brand, documents=[(doc, "t") for doc in reversed(docs[4:])])
    assert not [result for result in results.values() if isinstance(result, Exception)]
    assert len(_sql(captured, 'FROM "tracking_ordersignal"')) == 1
    for doc in docs:
        order_apply(brand=brand_b, data=doc, source="t")

    def leaks(brand: Any) -> list[str]:
        flags = FraudFlag.objects.filter(brand=brand, rule=FraudFlag.Rule.COUPON_LEAK)
        return sorted(flags.values_list("subject_ref", flat=True))

    assert leaks(brand) == ["959-01", "960-01"]
    assert leaks(brand) == leaks(brand_b)
    assert _signals(brand) == _signals(brand_b)


def test_a_batch_records_a_new_flag_without_looking_for_it_and_inserts_it_at_its_end(setup: dict[str, Any]) -> None:
    """The read-ahead knows the batch's orders have no flags: the self-referral's flag is
    recorded without a SELECT for it or a savepoint of its own, and inserted once, with the
    batch's other new flags, after the order's savepoint."""
    brand, maria = setup["brand"], setup["influencer"]
    self_referral = order_doc(order_id="975-01")
    self_referral["clientProfileData"]["email"] = maria.user.email
    with CaptureQueriesContext(connection) as captured:
        results = orders_apply_batch(brand=brand, documents=[(self_referral, "t")])
    assert results["975-01"].reason == "applied"  # type: ignore[union-attr]
    assert FraudFlag.objects.filter(brand=brand, subject_ref="975-01", rule="self_referral").count() == 1
    assert not _sql(captured, 'FROM "tracking_fraudflag"', "FOR NO KEY UPDATE")
    assert len(_sql(captured, 'INSERT INTO "tracking_fraudflag"')) == 1
    sql = [q["sql"] for q in captured.captured_queries]
    opened = next(i for i, q in enumerate(sql) if q.startswith("SAVEPOINT"))  # the order's own
    released = sql.index(sql[opened].replace("SAVEPOINT", "RELEASE SAVEPOINT"))
    within = sql[opened + 1 : released]
    assert not [q for q in within if q.startswith('INSERT INTO "tracking_fraudflag"') or "SAVEPOINT" in q]
    assert any(q.startswith('INSERT INTO "tracking_fraudflag"') for q in sql[released:])


def test_a_flag_another_worker_records_first_fails_the_order_in_its_batch_and_its_retry_finds_it(
    setup: dict[str, Any], monkeypatch: Any, caplog: Any
) -> None:
    """972 is a self-referral. The batch read ahead that it has no flag; before its screen
    records one, another worker records the same flag and commits. The batch's INSERT of its
    new flags breaks the unique constraint at its end: the batch is applied again in halves,
    972 alone finds that flag; one flag, the order applied and held, the other order committed."""
    brand, maria = setup["brand"], setup["influencer"]
    real = tracking_fraud._flag_known_absent
    raced: list[Any] = []

    def other_worker() -> None:
        try:
            raced.append(
                fraud_flag_record(
                    brand_id=brand.pk,
                    influencer_id=maria.pk,
                    rule=FraudFlag.Rule.SELF_REFERRAL,
                    subject=FraudFlag.Subject.ORDER,
                    subject_ref="972-01",
                    evidence={"by": "the other worker"},
                )
            )
        except Exception as exc:
            raced.append(exc)
        finally:
            connections.close_all()

    def known_absent_then_race(**kwargs: Any) -> bool:
        absent = real(**kwargs)
        if absent and kwargs["subject_ref"] == "972-01" and not raced:
            thread = threading.Thread(target=other_worker)
            thread.start()
            thread.join(timeout=60)
        return absent

    monkeypatch.setattr(tracking_fraud, "_flag_known_absent", known_absent_then_race)
    self_referral = order_doc(order_id="972-01")
    self_referral["clientProfileData"]["email"] = maria.user.email
    docs = [(order_doc(order_id="971-01"), "t"), (self_referral, "t")]
    with caplog.at_level(logging.WARNING, logger="orders.services.batch"):
        results = orders_apply_batch(brand=brand, documents=docs)

    assert [type(flag) for flag in raced] == [FraudFlag]
    assert "a batch of 2 orders" in caplog.text
    assert "failed as a whole; applying it again in halves" in caplog.text
    assert {order_id: result.reason for order_id, result in results.items()} == {  # type: ignore[union-attr]
        "971-01": "applied",
        "972-01": "applied",
    }
    flags = FraudFlag.objects.filter(brand=brand, subject_ref="972-01")
    # The one flag the other worker recorded, its evidence brought up to date by the retry.
    assert [(flag.pk, flag.rule) for flag in flags] == [(raced[0].pk, "self_referral")]
    review = dict(Commission.objects.filter(brand=brand).values_list("order__vtex_order_id", "fraud_review").distinct())
    assert review == {"971-01": "clear", "972-01": "held"}


def test_a_batch_reserves_its_new_commissions_ids_together_in_increasing_order(setup: dict[str, Any]) -> None:
    """Twelve new commissions of four new orders: one query for their ids, handed out in
    the order the commissions were made."""
    brand = setup["brand"]
    with CaptureQueriesContext(connection) as captured:
        _batch(brand, "payment-approved", "2024-02-04T20:15:12+00:00")
    assert len(_sql(captured, "SELECT nextval(")) == 1
    by_pk = list(
        Commission.objects.filter(order__brand=brand)
        .order_by("pk")
        .values_list("order__vtex_order_id", "line__item_index")
    )
    assert by_pk == sorted(by_pk)
    assert len(by_pk) == 3 * len(IDS)


def test_a_signal_its_column_cannot_take_fails_at_once_not_at_the_batch_end(setup: dict[str, Any]) -> None:
    """A signal its columns cannot take is written at once (failing in the order's savepoint,
    as it always did) instead of failing the batch's end and with it every order of the batch;
    the others are held for the end. An order's whole coupon (80 characters) fits."""
    brand, maria = setup["brand"], setup["influencer"]

    def signal(ref: str, coupon: str) -> OrderSignal:
        return OrderSignal(
            brand_id=brand.pk, order_ref=ref, influencer_id=maria.pk, coupon=coupon, placed_at=timezone.now()
        )

    fits, longest = signal("981-01", "SHORT"), signal("982-01", "L" * Order._meta.get_field("coupon").max_length)
    with transaction.atomic(), batching.batch_scope():
        with pytest.raises(DataError), transaction.atomic():
            tracking_fraud._order_signal_record(signal("980-01", "X" * 90), defer=True)
        tracking_fraud._order_signal_record(fits, defer=True)
        tracking_fraud._order_signal_record(longest, defer=True)
        assert batching.collected(("tracking:signals", brand.pk)) == [fits, longest]
        assert not OrderSignal.objects.filter(brand=brand).exists()
    assert sorted(OrderSignal.objects.filter(brand=brand).values_list("order_ref", flat=True)) == ["981-01", "982-01"]
