"""Rules shared across paths: plain amounts for the bank file, withholdings by fiscal regime,
the same withdrawal terms for requested and automatic withdrawals, and the bench's guard."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from django.utils import translation

from bench import cutoff_bench
from bench._common import database_recreate
from core.errors import ApplicationError
from core.money import CURRENCY_EXPONENT, format_plain
from payments.models import PayoutSettings, Withdrawal, WithholdingRule
from payments.services import (
    ledger_commission_accrue,
    ledger_commission_confirm,
    payout_cutoff_run,
    withdrawal_approve,
    withdrawal_request_create,
)
from payments.services.withdrawals import withdrawal_terms
from tests.factories import InfluencerFactory, MembershipFactory
from tests.payments.conftest import give_payout_account


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (123456, "BRL", "1234.56"),
        (5, "COP", "0.05"),
        (-5, "COP", "-0.05"),
        (0, "MXN", "0.00"),
        (100000000, "USD", "1000000.00"),
        (1234, "JPY", "1234"),
        (1234, "KWD", "1.234"),
    ],
)
def test_format_plain_writes_a_plain_decimal_with_the_currency_exponent(
    monkeypatch: Any, amount: int, currency: str, expected: str
) -> None:
    monkeypatch.setitem(CURRENCY_EXPONENT, "JPY", 0)
    monkeypatch.setitem(CURRENCY_EXPONENT, "KWD", 3)
    for language in ("en", "es", "pt-br"):
        with translation.override(language):
            assert format_plain(amount, currency) == expected


with_db = pytest.mark.django_db


@with_db
def test_a_regime_specific_withholding_applies_only_to_influencers_with_that_regime(
    brand_a: Any, funded: Any, finance_a: Any
) -> None:
    common = {"brand": brand_a, "country": funded.country, "effective_from": date(2020, 1, 1)}
    WithholdingRule.objects.create(name="Everyone", rate=Decimal("1"), **common)
    WithholdingRule.objects.create(name="Simplified", fiscal_regime="simplified", rate=Decimal("10"), **common)
    WithholdingRule.objects.create(name="Ordinary", fiscal_regime="ordinary", rate=Decimal("20"), **common)
    funded.fiscal_regime = "simplified"
    funded.save(update_fields=["fiscal_regime"])

    withdrawal = withdrawal_request_create(influencer=funded, brand=brand_a, amount="500.00", requested_by=funded.user)
    withdrawal = withdrawal_approve(withdrawal=withdrawal, approver=finance_a)

    assert sorted(withdrawal.withholdings.values_list("name", "amount_cents")) == [
        ("Everyone", 5_00),
        ("Simplified", 50_00),
    ]
    assert withdrawal.withholding_cents == 55_00


@with_db
def test_withdrawal_terms_refuse_missing_payout_data_and_amounts_below_the_minimum(brand_a: Any) -> None:
    brand_a.min_withdrawal_cents = 50_00
    options = PayoutSettings(brand=brand_a, second_approval_threshold_cents=100_00)

    with pytest.raises(ApplicationError) as missing:
        withdrawal_terms(brand=brand_a, options=options, cents=500_00, payout_label=None)
    with pytest.raises(ApplicationError) as small:
        withdrawal_terms(brand=brand_a, options=options, cents=49_99, payout_label="savings")

    assert (missing.value.code, small.value.code) == ("payout_data_required", "below_minimum")
    assert withdrawal_terms(brand=brand_a, options=options, cents=100_00, payout_label="x").approvals_required == 1
    assert withdrawal_terms(brand=brand_a, options=options, cents=100_01, payout_label="x").approvals_required == 2


@with_db
def test_automatic_withdrawals_follow_the_same_two_approval_threshold_as_requests(brand_a: Any) -> None:
    brand_a.min_withdrawal_cents = 100
    brand_a.save(update_fields=["min_withdrawal_cents"])
    PayoutSettings.objects.create(brand=brand_a, automatic_payouts=True, second_approval_threshold_cents=1_050)
    hold_until = datetime(2026, 3, 2, tzinfo=UTC)
    people = {}
    for cents in (1_050, 1_051):
        person = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(), status="approved").influencer
        give_payout_account(person)
        ref = f"auto-{cents}"
        ledger_commission_accrue(
            brand=brand_a,
            influencer=person,
            commission_ref=ref,
            amount_cents=cents,
            occurred_at=hold_until - timedelta(days=20),
        )
        ledger_commission_confirm(
            brand=brand_a,
            influencer=person,
            commission_ref=ref,
            hold_until=hold_until,
            occurred_at=hold_until - timedelta(days=15),
        )
        people[person.pk] = cents

    batch = payout_cutoff_run(brand=brand_a, period_start=date(2026, 3, 1), now=datetime(2026, 3, 16, 6, tzinfo=UTC))

    rows = Withdrawal.objects.filter(batch=batch, automatic=True).values_list("amount_cents", "approvals_required")
    assert sorted(rows) == [(1_050, 1), (1_051, 2)]


def test_the_cutoff_bench_refuses_to_drop_a_database_without_bench_in_its_name(monkeypatch: Any) -> None:
    def no_connection(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("connected before checking the name")

    monkeypatch.setattr(psycopg, "connect", no_connection)
    with pytest.raises(SystemExit, match="must contain 'bench'"):
        cutoff_bench.recreate_database("postgres://postgres@127.0.0.1:5432/mgm_fa")
    with pytest.raises(SystemExit, match="must contain 'bench'"):
        database_recreate("mgm_fa", server={"host": "127.0.0.1"}, drop=False)
