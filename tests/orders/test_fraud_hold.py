"""The seams between an order sync and tracking: customer binding and fraud screening after
attribution; a flagged commission stays on hold (estimated only) until a manager releases it,
or is reversed for good when rejected (commissions.services.fraud_review.commission_fraud_*)."""

import logging
from typing import Any

import pytest
from django.apps import apps

from audit.models import AuditEvent
from commissions.handlers import on_fraud_flag_resolved
from commissions.models import Commission
from commissions.services.adjustments import commission_adjust
from commissions.services.fraud_review import commission_fraud_reject, commission_fraud_release
from core import events
from orders.models import Order
from orders.services import order_apply
from payments.models import LedgerEntry, LedgerTransaction
from tests.orders.conftest import SAMPLE_ORDER_ID, influencer_balances, ledger_position, order_doc
from tracking import fraud_rules
from tracking.fraud import fraud_flag_record, fraud_flag_resolve
from tracking.models import AttributionPolicy, CustomerBinding, FraudFlag

pytestmark = pytest.mark.django_db

INVOICED_AT = "2024-02-05T10:00:00+00:00"


def _self_referral(influencer: Any, **kwargs: Any) -> dict[str, Any]:
    doc = order_doc(**kwargs)
    doc["clientProfileData"]["email"] = influencer.user.email
    return doc


def _invoiced_self_referral(influencer: Any) -> dict[str, Any]:
    return _self_referral(influencer, status="invoiced", last_change=INVOICED_AT)


def _money(brand: Any) -> tuple[int, int, list[tuple[str, str, int, str]]]:
    commissions = list(
        Commission.objects.filter(brand=brand)
        .order_by("pk")
        .values_list("state", "fraud_review", "ledger_posted_cents", "ledger_stage")
    )
    return LedgerTransaction.objects.count(), LedgerEntry.objects.count(), commissions


def test_a_self_referral_is_flagged_and_its_commission_stays_estimated_when_invoiced(setup: dict[str, Any]) -> None:
    brand, maria = setup["brand"], setup["influencer"]

    order_apply(brand=brand, data=_self_referral(maria), source="t")
    order_apply(brand=brand, data=_invoiced_self_referral(maria), source="t")

    flag = FraudFlag.objects.get()
    assert (flag.rule, flag.subject_ref, flag.status) == ("self_referral", SAMPLE_ORDER_ID, "open")
    commissions = list(Commission.objects.order_by("pk"))
    assert {(c.state, c.fraud_review, c.ledger_stage) for c in commissions} == {("estimated", "held", "estimated")}
    assert all(c.confirmed_at is None for c in commissions)
    assert influencer_balances(brand, maria) == {"estimated": 1191}  # never reached "hold"
    assert AuditEvent.objects.filter(action="commission.fraud_held").count() == 3


def test_an_ordinary_customer_is_not_held(setup: dict[str, Any]) -> None:
    order_apply(brand=setup["brand"], data=order_doc(status="invoiced", last_change=INVOICED_AT), source="t")
    assert not FraudFlag.objects.exists()
    assert set(Commission.objects.values_list("fraud_review", "state")) == {("clear", "confirmed")}
    assert influencer_balances(setup["brand"], setup["influencer"]) == {"hold": 1191}


def test_releasing_posts_the_confirmation_the_order_already_implies(setup: dict[str, Any], manager_a: Any) -> None:
    brand, maria = setup["brand"], setup["influencer"]
    order_apply(brand=brand, data=_invoiced_self_referral(maria), source="t")
    flag = FraudFlag.objects.get()

    fraud_flag_resolve(flag_id=flag.pk, decision="released", actor=manager_a, reason="A gift for her mother.")
    released = commission_fraud_release(
        brand_id=brand.pk, order_ref=SAMPLE_ORDER_ID, reason="A gift for her mother.", actor=manager_a
    )

    assert len(released) == 3
    assert set(Commission.objects.values_list("state", "fraud_review", "ledger_stage")) == {
        ("confirmed", "released", "confirmed")
    }
    assert influencer_balances(brand, maria) == {"hold": 1191}
    assert sum(ledger_position(brand, c)["held"] for c in Commission.objects.all()) == 1191
    events = AuditEvent.objects.filter(action="commission.fraud_released")
    assert events.count() == 3
    assert {e.actor_id for e in events} == {manager_a.pk}
    # Idempotent: again changes nothing.
    before = _money(brand)
    assert commission_fraud_release(brand_id=brand.pk, order_ref=SAMPLE_ORDER_ID, reason="again", actor=manager_a) == []
    assert _money(brand) == before


def test_resolving_a_flag_releases_the_held_commissions_exactly_once(
    setup: dict[str, Any], manager_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Tracking publishes `fraud.flag_resolved`; commissions releases after commit, once, even
    when its `ready()` ran again and when the same decision is submitted twice."""
    brand, maria = setup["brand"], setup["influencer"]
    order_apply(brand=brand, data=_invoiced_self_referral(maria), source="t")
    flag = FraudFlag.objects.get()
    apps.get_app_config("commissions").ready()  # a second registration must not double the release
    assert events.subscribers("fraud.flag_resolved").count(on_fraud_flag_resolved) == 1

    with django_capture_on_commit_callbacks(execute=True):
        fraud_flag_resolve(flag_id=flag.pk, decision="released", actor=manager_a, reason="A gift for her mother.")

    assert set(Commission.objects.values_list("state", "fraud_review", "ledger_stage")) == {
        ("confirmed", "released", "confirmed")
    }
    assert AuditEvent.objects.filter(action="commission.fraud_released", actor=manager_a).count() == 3
    assert LedgerTransaction.objects.filter(kind="confirm").count() == 3
    assert influencer_balances(brand, maria) == {"hold": 1191}
    before = _money(brand)

    with django_capture_on_commit_callbacks(execute=True):
        fraud_flag_resolve(flag_id=flag.pk, decision="released", actor=manager_a, reason="Submitted twice.")

    assert _money(brand) == before
    assert AuditEvent.objects.filter(action="commission.fraud_released").count() == 3


def test_rejecting_a_flag_reverses_the_held_commissions_after_commit(
    setup: dict[str, Any], manager_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    brand, maria = setup["brand"], setup["influencer"]
    order_apply(brand=brand, data=_self_referral(maria), source="t")
    flag = FraudFlag.objects.get()

    with django_capture_on_commit_callbacks(execute=False) as pending:
        fraud_flag_resolve(flag_id=flag.pk, decision="rejected", actor=manager_a, reason="Her own purchase.")
    # Nothing moves before the decision commits.
    assert set(Commission.objects.values_list("fraud_review", flat=True)) == {"held"}
    for callback in pending:
        callback()

    assert set(Commission.objects.values_list("state", "fraud_review", "ledger_posted_cents")) == {
        ("reversed", "rejected", 0)
    }
    assert LedgerTransaction.objects.filter(reference__endswith="#fraud1").count() == 3
    assert influencer_balances(brand, maria) == {}


def test_release_while_another_flag_is_open_keeps_the_hold(setup: dict[str, Any], manager_a: Any) -> None:
    brand, maria = setup["brand"], setup["influencer"]
    order_apply(brand=brand, data=_invoiced_self_referral(maria), source="t")
    fraud_flag_record(
        brand_id=brand.pk,
        influencer_id=maria.pk,
        rule="coupon_site",
        subject="order",
        subject_ref=SAMPLE_ORDER_ID,
        evidence={"referrer": "cupons.example"},
    )
    first = FraudFlag.objects.get(rule="self_referral")
    fraud_flag_resolve(flag_id=first.pk, decision="released", actor=manager_a, reason="Checked, fine.")
    before = _money(brand)

    assert commission_fraud_release(brand_id=brand.pk, order_ref=SAMPLE_ORDER_ID, reason="x", actor=manager_a) == []

    assert _money(brand) == before
    assert influencer_balances(brand, maria) == {"estimated": 1191}


def test_rejecting_reverses_through_the_ledger_and_a_later_sync_never_resurrects(
    setup: dict[str, Any], manager_a: Any
) -> None:
    brand, maria = setup["brand"], setup["influencer"]
    order_apply(brand=brand, data=_self_referral(maria), source="t")
    flag = FraudFlag.objects.get()
    fraud_flag_resolve(flag_id=flag.pk, decision="rejected", actor=manager_a, reason="Her own purchase.")

    rejected = commission_fraud_reject(
        brand_id=brand.pk, order_ref=SAMPLE_ORDER_ID, reason="Her own purchase.", actor=manager_a
    )

    assert len(rejected) == 3
    assert set(Commission.objects.values_list("state", "fraud_review", "ledger_posted_cents")) == {
        ("reversed", "rejected", 0)
    }
    assert influencer_balances(brand, maria) == {}
    assert LedgerTransaction.objects.filter(reference__endswith="#fraud1").count() == 3
    assert AuditEvent.objects.filter(action="commission.fraud_rejected", actor=manager_a).count() == 3
    assert set(Commission.objects.values_list("fraud_reason", flat=True)) == {"Her own purchase."}

    before = _money(brand)
    order_apply(brand=brand, data=_invoiced_self_referral(maria), source="t")  # VTEX invoices it later
    order_apply(brand=brand, data=_invoiced_self_referral(maria), source="t", force=True)
    assert commission_fraud_reject(brand_id=brand.pk, order_ref=SAMPLE_ORDER_ID, reason="again", actor=None) == []
    assert _money(brand) == before
    assert influencer_balances(brand, maria) == {}


def test_rejecting_a_confirmed_commission_takes_the_money_back_from_hold(setup: dict[str, Any], manager_a: Any) -> None:
    brand, maria = setup["brand"], setup["influencer"]
    order_apply(brand=brand, data=order_doc(status="invoiced", last_change=INVOICED_AT), source="t")
    commission_adjust(commission_id=Commission.objects.first().pk, amount_cents=100, reason="bonus", actor=manager_a)
    assert influencer_balances(brand, maria) == {"hold": 1291}

    commission_fraud_reject(brand_id=brand.pk, order_ref=SAMPLE_ORDER_ID, reason="Found later.", actor=manager_a)

    assert influencer_balances(brand, maria) == {}
    assert set(Commission.objects.values_list("state", "fraud_review")) == {("reversed", "rejected")}


def test_fraud_decisions_are_brand_scoped(setup: dict[str, Any], brand_b: Any, manager_b: Any) -> None:
    brand, maria = setup["brand"], setup["influencer"]
    order_apply(brand=brand, data=_self_referral(maria), source="t")
    before = _money(brand)
    audits = AuditEvent.objects.count()

    assert commission_fraud_reject(brand_id=brand_b.pk, order_ref=SAMPLE_ORDER_ID, reason="nope", actor=manager_b) == []
    assert (
        commission_fraud_release(brand_id=brand_b.pk, order_ref=SAMPLE_ORDER_ID, reason="nope", actor=manager_b) == []
    )

    assert _money(brand) == before
    assert AuditEvent.objects.count() == audits


def test_an_adjustment_of_a_held_commission_does_not_confirm_it(setup: dict[str, Any], manager_a: Any) -> None:
    brand, maria = setup["brand"], setup["influencer"]
    order_apply(brand=brand, data=_invoiced_self_referral(maria), source="t")
    commission_adjust(commission_id=Commission.objects.first().pk, amount_cents=100, reason="bonus", actor=manager_a)
    assert influencer_balances(brand, maria) == {"estimated": 1291}
    assert not LedgerTransaction.objects.filter(kind="confirm").exists()


def test_a_failing_fraud_rule_is_logged_and_does_not_block_the_sync(
    setup: dict[str, Any], monkeypatch: Any, caplog: Any
) -> None:

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("rule bug")

    monkeypatch.setattr(fraud_rules, "rule_self_referral", broken)
    with caplog.at_level(logging.ERROR, logger="orders.services"):
        result = order_apply(brand=setup["brand"], data=_self_referral(setup["influencer"]), source="t")

    assert result.reason == "applied"
    assert Order.objects.get().influencer_id == setup["influencer"].pk
    assert Commission.objects.count() == 3
    assert not FraudFlag.objects.exists()
    assert "fraud screening failed" in caplog.text

    # The next applied sync screens again and holds the commissions.
    monkeypatch.undo()
    order_apply(brand=setup["brand"], data=_invoiced_self_referral(setup["influencer"]), source="t")
    assert FraudFlag.objects.count() == 1
    assert set(Commission.objects.values_list("fraud_review", "state")) == {("held", "estimated")}


def test_cross_device_binding_is_recorded_only_when_the_policy_enables_it(setup: dict[str, Any]) -> None:
    brand = setup["brand"]
    order_apply(brand=brand, data=order_doc(), source="t")
    assert not CustomerBinding.objects.exists()

    AttributionPolicy.objects.create(campaign=setup["campaign"], cross_device=True, binding_days=90)
    order_apply(brand=brand, data=order_doc(order_id="1415461749732-01"), source="t")

    binding = CustomerBinding.objects.order_by("pk").first()
    assert binding is not None
    assert (binding.influencer_id, binding.campaign_id, binding.order_ref) == (
        setup["influencer"].pk,
        setup["campaign"].pk,
        "1415461749732-01",
    )
