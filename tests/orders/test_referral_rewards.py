"""Referral commissions follow the recruited influencer's commissions through the ledger:
estimated with them, confirmed with them, reversed or clawed back with them, exactly once
(commissions.referrals, docs/referrals.md). Maria (the coupon of the sample order) was recruited
by Ana; Bea recruited Ana (second level)."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from affiliates.models import PayoutAccount, RecruitingLink, Referral
from affiliates.referrals import RecruitingLinkUnavailable, recruiting_link_get, referral_record
from affiliates.services.payout_accounts import PayoutData, payout_account_update
from audit.models import AuditEvent
from campaigns.models import ReferralProgram
from commissions.models import Commission, ReferralCommission
from commissions.services.adjustments import commission_adjust
from commissions.services.fraud_review import commission_fraud_reject
from orders.services import order_apply
from payments.models import LedgerTransaction
from tests.factories import InfluencerFactory, MembershipFactory
from tests.orders.conftest import influencer_balances, order_doc
from tracking.fraud import fraud_flag_resolve
from tracking.models import FraudFlag

pytestmark = pytest.mark.django_db

INVOICED_AT = "2024-02-05T10:00:00+00:00"
STARTED = datetime(2024, 1, 10, tzinfo=UTC)


def _program(campaign: Any, **overrides: Any) -> ReferralProgram:
    values = {"enabled": True, "rate_percent": Decimal("10"), "months": 6, **overrides}
    return ReferralProgram.objects.create(campaign=campaign, **values)


def _refer(*, referrer: Any, referred: Any, campaign: Any, started: datetime = STARTED) -> Referral:
    link = recruiting_link_get(influencer=referrer, campaign=campaign)
    membership = referred.memberships.get(brand=campaign.brand)
    referral = referral_record(membership=membership, token=link.token)
    assert referral is not None
    Referral.objects.filter(pk=referral.pk).update(started_at=started)  # the sample order is from 2024
    referral.refresh_from_db()
    return referral


@pytest.fixture
def ana(brand_a: Any) -> Any:
    return MembershipFactory(brand=brand_a, influencer=InfluencerFactory(display_name="Ana")).influencer


@pytest.fixture
def referred_setup(setup: dict[str, Any], ana: Any) -> dict[str, Any]:
    _program(setup["campaign"])
    setup["referral"] = _refer(referrer=ana, referred=setup["influencer"], campaign=setup["campaign"])
    setup["ana"] = ana
    return setup


def _maria_net(brand: Any, maria: Any) -> int:
    return sum(c.ledger_posted_cents for c in Commission.objects.filter(brand=brand, influencer=maria))


def test_the_referrer_earns_an_estimated_share_that_is_confirmed_with_the_order(referred_setup: dict[str, Any]) -> None:
    brand, maria, ana = referred_setup["brand"], referred_setup["influencer"], referred_setup["ana"]

    order_apply(brand=brand, data=order_doc(), source="t")
    rewards = list(ReferralCommission.objects.order_by("pk"))
    assert len(rewards) == 3
    assert {r.ledger_stage for r in rewards} == {"estimated"}
    assert influencer_balances(brand, maria) == {"estimated": 1191}
    expected = sum(round(Decimal(c.ledger_posted_cents) / 10) for c in Commission.objects.all())
    assert influencer_balances(brand, ana) == {"estimated": expected}

    order_apply(brand=brand, data=order_doc(status="invoiced", last_change=INVOICED_AT), source="t")
    assert influencer_balances(brand, maria) == {"hold": 1191}
    assert influencer_balances(brand, ana) == {"hold": expected}
    assert {r.ledger_stage for r in ReferralCommission.objects.all()} == {"confirmed"}

    # Replaying the same VTEX states posts nothing more.
    count = LedgerTransaction.objects.count()
    order_apply(brand=brand, data=order_doc(status="invoiced", last_change=INVOICED_AT), source="t")
    assert LedgerTransaction.objects.count() == count


def test_a_cancellation_reverses_both_commissions(referred_setup: dict[str, Any]) -> None:
    brand, maria, ana = referred_setup["brand"], referred_setup["influencer"], referred_setup["ana"]
    order_apply(brand=brand, data=order_doc(), source="t")
    order_apply(brand=brand, data=order_doc(status="canceled", last_change="2024-02-06T10:00:00+00:00"), source="t")
    assert influencer_balances(brand, maria) == {}
    assert influencer_balances(brand, ana) == {}
    assert {r.ledger_posted_cents for r in ReferralCommission.objects.all()} == {0}


def test_an_order_outside_the_months_earns_no_share(setup: dict[str, Any], ana: Any) -> None:
    _program(setup["campaign"], months=1)
    _refer(
        referrer=ana, referred=setup["influencer"], campaign=setup["campaign"], started=datetime(2023, 6, 1, tzinfo=UTC)
    )
    order_apply(brand=setup["brand"], data=order_doc(), source="t")
    assert not ReferralCommission.objects.exists()
    assert influencer_balances(setup["brand"], ana) == {}


def test_a_negative_adjustment_takes_back_the_referrers_share(referred_setup: dict[str, Any]) -> None:
    brand, ana = referred_setup["brand"], referred_setup["ana"]
    order_apply(brand=brand, data=order_doc(), source="t")
    biggest = Commission.objects.order_by("-amount_cents").first()
    assert biggest is not None
    before = influencer_balances(brand, ana)["estimated"]
    commission_adjust(commission_id=biggest.pk, amount_cents=-biggest.amount_cents, reason="Returned outside VTEX")
    reward = ReferralCommission.objects.get(source=biggest)
    assert reward.ledger_posted_cents == 0
    assert influencer_balances(brand, ana)["estimated"] == before - round(Decimal(biggest.amount_cents) / 10)


def test_second_level_is_capped_and_the_bonus_is_paid_once(setup: dict[str, Any], ana: Any, brand_a: Any) -> None:
    bea = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(display_name="Bea")).influencer
    _program(
        setup["campaign"],
        second_level_rate_percent=Decimal("5"),
        second_level_cap_cents=40,
        bonus_cents=5_000,
        bonus_threshold_cents=10_000,
    )
    _refer(referrer=bea, referred=ana, campaign=setup["campaign"])
    _refer(referrer=ana, referred=setup["influencer"], campaign=setup["campaign"])

    order_apply(brand=brand_a, data=order_doc(), source="t")
    second = ReferralCommission.objects.filter(level=2)
    assert sum(r.ledger_posted_cents for r in second) == 40  # 5 % of 1191 is 60: capped at 40
    assert set(second.values_list("beneficiary_id", flat=True)) == {bea.pk}
    assert not ReferralCommission.objects.filter(kind="bonus").exists()  # nothing confirmed yet

    order_apply(brand=brand_a, data=order_doc(status="invoiced", last_change=INVOICED_AT), source="t")
    bonus = ReferralCommission.objects.get(kind="bonus")
    assert (bonus.ledger_stage, bonus.ledger_posted_cents, bonus.beneficiary_id) == ("confirmed", 5_000, ana.pk)
    assert influencer_balances(brand_a, bea) == {"hold": 40}
    order_apply(brand=brand_a, data=order_doc(status="invoiced", last_change=INVOICED_AT), source="t")
    assert ReferralCommission.objects.filter(kind="bonus").count() == 1
    assert LedgerTransaction.objects.filter(reference=bonus.ledger_ref).count() == 1


def test_a_shared_payout_account_makes_it_a_self_referral_that_earns_nothing(referred_setup: dict[str, Any]) -> None:
    brand, maria, ana = referred_setup["brand"], referred_setup["influencer"], referred_setup["ana"]
    order_apply(brand=brand, data=order_doc(), source="t")
    assert influencer_balances(brand, ana)
    data = PayoutData(
        account_holder="Ana Pérez",
        holder_document_type="",
        holder_document_number="",
        bank_name="Bancolombia",
        bank_code="007",
        account_type="savings",
        account_number="12345678901",
        key_type="",
        transfer_key="",
    )
    payout_account_update(influencer=ana, data=data)
    payout_account_update(influencer=maria, data=data)

    referral = Referral.objects.get()
    assert referral.status == "self"
    assert "payout_account" in referral.self_signals
    assert influencer_balances(brand, ana) == {}
    assert influencer_balances(brand, maria) == {"estimated": 1191}  # her own commission is untouched
    flag = FraudFlag.objects.get(rule="referral_ring")
    assert (flag.influencer_id, flag.subject_ref) == (ana.pk, f"referral:{referral.pk}")
    assert AuditEvent.objects.filter(action="referral.status_changed").count() == 1

    # Later orders earn nothing for Ana either.
    order_apply(brand=brand, data=order_doc(status="invoiced", last_change=INVOICED_AT), source="t")
    assert influencer_balances(brand, ana) == {}


def test_rejecting_a_ring_flag_blocks_the_referrals(referred_setup: dict[str, Any], manager_a: Any) -> None:
    brand, ana = referred_setup["brand"], referred_setup["ana"]
    order_apply(brand=brand, data=order_doc(), source="t")
    flag = FraudFlag.objects.create(
        brand=brand, influencer=ana, rule="referral_ring", subject="influencer", subject_ref=f"ring:{ana.pk}"
    )
    fraud_flag_resolve(flag_id=flag.pk, decision="rejected", actor=manager_a, reason="One person, three accounts.")
    # fraud_flag_resolve calls the commissions hook after commit; in a test transaction, call it.

    commission_fraud_reject(brand_id=brand.pk, order_ref=flag.subject_ref, reason="One person", actor=manager_a)
    assert Referral.objects.get().status == "blocked"
    assert influencer_balances(brand, ana) == {}


def test_self_referral_signals_at_application(setup: dict[str, Any], ana: Any, brand_a: Any) -> None:
    _program(setup["campaign"])
    link = recruiting_link_get(influencer=ana, campaign=setup["campaign"], device="browser-of-ana-123456")
    twin = MembershipFactory(brand=brand_a, status="pending").influencer
    twin.document_type, twin.document_number = "CC", "123456789"
    twin.save()
    ana.document_type, ana.document_number = "CC", "123456789"
    Referral.objects.none()
    referral = referral_record(membership=twin.memberships.get(), token=link.token, device="browser-of-ana-123456")
    assert referral is not None
    assert referral.status == "self"
    assert set(referral.self_signals) == {"device"}
    assert FraudFlag.objects.filter(rule="referral_ring", subject_ref=f"referral:{referral.pk}").exists()


def test_first_referrer_wins_and_unknown_tokens_record_nothing(setup: dict[str, Any], ana: Any, brand_a: Any) -> None:
    _program(setup["campaign"])
    other = MembershipFactory(brand=brand_a).influencer
    first = _refer(referrer=ana, referred=setup["influencer"], campaign=setup["campaign"])
    link = recruiting_link_get(influencer=other, campaign=setup["campaign"])
    membership = setup["influencer"].memberships.get()
    assert referral_record(membership=membership, token=link.token) is None
    assert referral_record(membership=membership, token="nope") is None
    assert list(Referral.objects.values_list("pk", "referrer_id")) == [(first.pk, ana.pk)]


def test_recruiting_needs_an_enabled_program_and_an_approved_membership(setup: dict[str, Any], brand_a: Any) -> None:
    pending = MembershipFactory(brand=brand_a, status="pending").influencer
    with pytest.raises(RecruitingLinkUnavailable):
        recruiting_link_get(influencer=setup["influencer"], campaign=setup["campaign"])  # no program
    _program(setup["campaign"])
    with pytest.raises(RecruitingLinkUnavailable):
        recruiting_link_get(influencer=pending, campaign=setup["campaign"])
    assert not RecruitingLink.objects.exists()
    assert not PayoutAccount.objects.exists()
