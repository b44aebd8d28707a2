from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from audit.models import AuditEvent
from core import batching
from orders.models import Order
from tracking import fraud
from tracking import fraud_rules as rules
from tracking.fraud import (
    FlagResolveRefused,
    fraud_flag_record,
    fraud_flag_resolve,
    fraud_hold_active,
    fraud_screen_order,
)
from tracking.hashing import customer_hashes
from tracking.models import FraudFlag, InfluencerRisk, OrderSignal

T0 = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)


def test_rule_self_referral() -> None:
    mine = customer_hashes(email="me@x.com", document="123.456.789-00")
    assert rules.rule_self_referral(customer_hashes=customer_hashes(email="ME@x.com"), influencer_hashes=mine)
    assert rules.rule_self_referral(customer_hashes=customer_hashes(email="you@x.com"), influencer_hashes=mine) is None


def test_rule_click_flood() -> None:
    assert rules.rule_click_flood(clicks_by_ip={"a": 80}, invalid=0, total=80)
    assert rules.rule_click_flood(clicks_by_ip={"a": 10, "b": 10}, invalid=15, total=20)
    assert rules.rule_click_flood(clicks_by_ip={"a": 10, "b": 10}, invalid=2, total=20) is None


def test_rule_coupon_leak() -> None:
    assert rules.rule_coupon_leak(new_customers_without_click=10) == {
        "new_customers_without_click": 10,
        "window_hours": 24.0,
    }
    assert rules.rule_coupon_leak(new_customers_without_click=9) is None


def test_rule_coupon_site() -> None:
    assert rules.rule_coupon_site(referrer_host="www.cuponation.com.br")
    assert rules.rule_coupon_site(referrer_host="instagram.com") is None


def test_rule_fast_conversion() -> None:
    assert rules.rule_fast_conversion(clicked_at=T0, placed_at=T0 + timedelta(seconds=5))
    assert rules.rule_fast_conversion(clicked_at=T0, placed_at=T0 + timedelta(minutes=9)) is None


def test_rule_conversion_outlier() -> None:
    peers = [0.01, 0.012, 0.011, 0.009, 0.01]
    assert rules.rule_conversion_outlier(rate=0.4, history=[0.01, 0.011, 0.012], peers=peers)
    assert rules.rule_conversion_outlier(rate=0.011, history=[0.01, 0.011, 0.012], peers=peers) is None


def test_rule_shared_payout() -> None:
    assert rules.rule_shared_payout(account_hash="h", other_influencers=[7])
    assert rules.rule_shared_payout(account_hash="h", other_influencers=[]) is None


def _order(brand: Any, influencer: Any, *, email: str, ref: str = "9001-01", coupon: str = "") -> Order:
    return Order.objects.create(
        brand=brand,
        vtex_order_id=ref,
        created_in_vtex_at=T0,
        coupon=coupon,
        attribution_source="coupon",
        influencer=influencer,
        snapshot={"clientProfileData": {"email": email, "document": "555666777"}},
    )


@pytest.mark.django_db
def test_self_referral_is_held_then_released_by_a_manager(brand_a: Any, influencer_a: Any, manager_a: Any) -> None:
    order = _order(brand_a, influencer_a, email=influencer_a.user.email)

    flags = fraud_screen_order(order=order)

    assert [f.rule for f in flags] == ["self_referral"]
    assert fraud_hold_active(commission_ref=order.vtex_order_id)
    assert InfluencerRisk.objects.get(influencer=influencer_a).score > 0
    fraud_flag_resolve(flag_id=flags[0].pk, decision="released", actor=manager_a, reason="Bought a gift, verified.")
    assert not fraud_hold_active(commission_ref=order.vtex_order_id)
    assert AuditEvent.objects.filter(action="tracking.fraud_flag_released").exists()


@pytest.mark.django_db
def test_in_a_batch_the_risk_is_recomputed_once_per_influencer_when_it_ends(brand_a: Any, influencer_a: Any) -> None:
    orders = [_order(brand_a, influencer_a, email=influencer_a.user.email, ref=f"90{n}-01") for n in range(3)]
    recomputed: list[int] = []
    real = fraud.influencer_risk_recompute

    def counting(**kwargs: Any) -> Any:
        recomputed.append(kwargs["influencer_id"])
        return real(**kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fraud, "influencer_risk_recompute", counting)
        with transaction.atomic(), batching.batch_scope():
            for order in orders:
                assert [f.rule for f in fraud_screen_order(order=order)] == ["self_referral"]
            assert recomputed == []  # nothing in the batch reads the score
            assert not InfluencerRisk.objects.exists()
        assert recomputed == [influencer_a.pk]
        risk = InfluencerRisk.objects.get(influencer=influencer_a)
        assert risk.open_flags == 3
        single = _order(brand_a, influencer_a, email=influencer_a.user.email, ref="909-01")
        fraud_screen_order(order=single)  # outside a batch: at once
        assert recomputed == [influencer_a.pk, influencer_a.pk]
    assert InfluencerRisk.objects.get(influencer=influencer_a).open_flags == 4


@pytest.mark.django_db
def test_rejected_flag_keeps_the_commission_held(brand_a: Any, influencer_a: Any, manager_a: Any) -> None:
    order = _order(brand_a, influencer_a, email=influencer_a.user.email)
    flag = fraud_screen_order(order=order)[0]
    fraud_flag_resolve(flag_id=flag.pk, decision="rejected", actor=manager_a, reason="Own purchase.")
    assert fraud_hold_active(commission_ref=order.vtex_order_id)
    flag.refresh_from_db()
    assert flag.status == "rejected"
    assert flag.resolution_reason == "Own purchase."


@pytest.mark.django_db
def test_resolve_without_reason_changes_nothing(brand_a: Any, influencer_a: Any, manager_a: Any) -> None:
    flag = fraud_screen_order(order=_order(brand_a, influencer_a, email=influencer_a.user.email))[0]
    with pytest.raises(FlagResolveRefused):
        fraud_flag_resolve(flag_id=flag.pk, decision="released", actor=manager_a, reason="")
    flag.refresh_from_db()
    assert flag.status == "open"
    assert flag.resolved_at is None


@pytest.mark.django_db
def test_an_ordinary_customer_raises_no_flag(brand_a: Any, influencer_a: Any) -> None:
    order = _order(brand_a, influencer_a, email="someone.else@example.com")
    assert fraud_screen_order(order=order) == []
    assert not fraud_hold_active(commission_ref=order.vtex_order_id)
    assert not FraudFlag.objects.exists()


@pytest.mark.django_db
def test_screening_returns_the_orders_earlier_flags_unless_asked_not_to(brand_a: Any, influencer_a: Any) -> None:
    order = _order(brand_a, influencer_a, email="someone.else@example.com")
    earlier = fraud_flag_record(
        brand_id=brand_a.pk,
        influencer_id=influencer_a.pk,
        rule=FraudFlag.Rule.COUPON_LEAK,
        subject=FraudFlag.Subject.ORDER,
        subject_ref=order.vtex_order_id,
        evidence={"by": "an earlier screen"},
    )
    assert fraud_screen_order(order=order) == [earlier]
    # The order sync reads holds on its own: only what this screen found, no extra query.
    with CaptureQueriesContext(connection) as captured:
        assert fraud_screen_order(order=order, with_earlier=False) == []
    assert not [q for q in captured.captured_queries if 'FROM "tracking_fraudflag"' in q["sql"]]
    assert FraudFlag.objects.count() == 1


@pytest.mark.django_db
def test_screening_twice_records_one_flag(brand_a: Any, influencer_a: Any) -> None:
    order = _order(brand_a, influencer_a, email=influencer_a.user.email)
    fraud_screen_order(order=order)
    fraud_screen_order(order=order)
    assert FraudFlag.objects.count() == 1


@pytest.mark.django_db
def test_review_queue_groups_flags_and_rejects_with_reason(
    brand_a: Any, influencer_a: Any, superuser: Any, verified_client: Any
) -> None:
    flag = fraud_screen_order(order=_order(brand_a, influencer_a, email=influencer_a.user.email))[0]
    client = verified_client(superuser)
    page = client.get("/admin/tracking/fraudflag/review/")
    assert page.status_code == 200
    assert influencer_a.display_name in page.content.decode()
    response = client.post(
        "/admin/tracking/fraudflag/review/", {"flag": [flag.pk], "decision": "rejected", "reason": "Self purchase."}
    )
    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.status == "rejected"
    assert flag.resolved_by == superuser


@pytest.mark.django_db
def test_the_coupon_leak_count_read_ahead_equals_the_tables_without_a_query_per_order(
    brand_a: Any, influencer_a: Any
) -> None:
    """A popular coupon's day: the batch reads its counted uses once and counts each order's
    window by bisection, with the batch's own signals (one new, one screened again with a click
    now) as the table would count them once written, and no query per order."""

    def signal(ref: str, at: datetime, *, coupon: str = "CUPOM", new: bool = True, click: bool = False) -> OrderSignal:
        return OrderSignal(
            brand=brand_a,
            influencer=influencer_a,
            order_ref=ref,
            coupon=coupon,
            is_new_customer=new,
            had_click=click,
            placed_at=at,
        )

    OrderSignal.objects.bulk_create(
        [signal(f"in-{n}", T0 - timedelta(minutes=7 * n)) for n in range(200)]  # counted, over 23 hours
        + [signal(f"click-{n}", T0 - timedelta(hours=1), click=True) for n in range(5)]
        + [signal(f"back-{n}", T0 - timedelta(hours=2), new=False) for n in range(5)]
        + [signal(f"old-{n}", T0 - timedelta(days=1, minutes=1 + n)) for n in range(5)]
        + [signal(f"other-{n}", T0 - timedelta(hours=3), coupon="OTRO") for n in range(5)]
    )
    later, earlier = T0 + timedelta(hours=1), T0 - timedelta(hours=10)
    assert fraud._coupon_leak_count(brand_a.pk, "CUPOM", placed_at=T0) == 200
    # An hour later the two oldest uses have left the window.
    assert fraud._coupon_leak_count(brand_a.pk, "CUPOM", placed_at=later) == 198

    with transaction.atomic(), batching.batch_scope():
        fraud.order_signals_read_ahead(
            brand_id=brand_a.pk, customer_hashes=[], coupons=["CUPOM"], placed=[T0, later, earlier]
        )
        fraud._order_signal_record(signal("new-1", T0 - timedelta(minutes=1)), defer=True)
        fraud._order_signal_record(signal("in-3", T0 - timedelta(minutes=21), click=True), defer=True)
        with CaptureQueriesContext(connection) as captured:
            in_batch = [fraud._coupon_leak_count(brand_a.pk, "CUPOM", placed_at=at) for at in (T0, later, earlier)]
        assert captured.captured_queries == []
    assert in_batch == [fraud._coupon_leak_count(brand_a.pk, "CUPOM", placed_at=at) for at in (T0, later, earlier)]
    # Ten hours earlier: the uses from 86 on (602 minutes before T0 and older), and the five
    # of the day before.
    assert in_batch == [200, 198, 114 + 5]


def test_a_flag_reads_as_its_rule_in_the_users_language_and_a_retired_rule_as_its_code() -> None:
    flag = FraudFlag(rule=FraudFlag.Rule.COUPON_LEAK, subject_ref="1234-01")
    with translation.override("es"):
        assert str(flag) == "Filtración de cupón · 1234-01"
    with translation.override("pt-br"):
        assert str(flag) == "Vazamento de cupom · 1234-01"
    assert str(FraudFlag(rule="retired_rule", subject_ref="1234-01")) == "retired_rule · 1234-01"


@pytest.mark.django_db
def test_a_batch_inserts_its_new_flags_together_when_it_ends_then_recomputes_the_risk(
    brand_a: Any, influencer_a: Any
) -> None:
    """Screened without savepoints (an order of a batch), each new flag gets its id at once and
    waits for the batch's end: one INSERT for all, then the influencer's risk from all of them.
    The same finding again in the batch is the flag it holds, not a second row."""
    if connection.vendor != "postgresql":
        pytest.skip("ids are reserved from PostgreSQL's sequence; elsewhere each flag is saved at once")
    orders = [_order(brand_a, influencer_a, email=influencer_a.user.email, ref=f"91{n}-01") for n in range(3)]
    with transaction.atomic(), batching.batch_scope():
        with CaptureQueriesContext(connection) as captured:
            flags = [fraud_screen_order(order=order, with_earlier=False, savepoints=False)[0] for order in orders]
            again = fraud_screen_order(order=orders[0], with_earlier=False, savepoints=False)
        assert not [q for q in captured.captured_queries if 'INSERT INTO "tracking_fraudflag"' in q["sql"]]
        assert again == [flags[0]]
        assert not FraudFlag.objects.exists()
        assert all(flag.pk for flag in flags)
        with CaptureQueriesContext(connection) as captured:
            batching.current().flush()  # type: ignore[union-attr]
        inserts = [q for q in captured.captured_queries if 'INSERT INTO "tracking_fraudflag"' in q["sql"]]
        assert len(inserts) == 1
    assert sorted(FraudFlag.objects.values_list("subject_ref", flat=True)) == ["910-01", "911-01", "912-01"]
    assert {flag.pk for flag in flags} == set(FraudFlag.objects.values_list("pk", flat=True))
    assert InfluencerRisk.objects.get(influencer=influencer_a).open_flags == 3
    audited = AuditEvent.objects.filter(action="tracking.fraud_flagged").values_list("target_id", flat=True)
    assert sorted(map(str, audited)) == sorted(str(flag.pk) for flag in flags)
