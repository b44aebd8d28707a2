"""Payout data read from affiliates' PayoutAccount: an influencer paid by a transfer key only
(PIX / CLABE, no account number) has usable payout data, and the bank file carries the key."""

import csv
import io
from typing import Any

import pytest
from django.utils import translation

from core.errors import ApplicationError
from payments import payout_accounts
from payments.models import LedgerEntry, PayoutBatch, Withdrawal
from payments.services import bank_export_build, withdrawal_approve, withdrawal_request_create
from payments.services.cutoff import payout_period_for
from tests.payments.conftest import give_payout_account, make_available

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _low_minimum(brand_a: Any) -> None:
    brand_a.min_withdrawal_cents = 50_00
    brand_a.save(update_fields=["min_withdrawal_cents"])


def _key_only(influencer: Any, *, key_type: str = "pix_email", key: str = "maria.pix@example.com") -> Any:
    return give_payout_account(
        influencer, account_number="", account_type="wallet", bank_code="", key_type=key_type, transfer_key=key
    )


@pytest.mark.parametrize(("key_type", "key"), [("pix_email", "maria.pix@example.com"), ("clabe", "002010077777777771")])
def test_a_transfer_key_without_account_number_is_usable_payout_data(
    brand_a: Any, influencer_a: Any, key_type: str, key: str
) -> None:
    _key_only(influencer_a, key_type=key_type, key=key)

    on_file = payout_accounts.payout_accounts_on_file(influencer_ids=[influencer_a.pk], brand_id=brand_a.pk)
    decrypted = payout_accounts.payout_accounts_decrypt(influencer_ids=[influencer_a.pk], brand_id=brand_a.pk)

    assert influencer_a.pk in on_file
    assert key not in on_file[influencer_a.pk]  # the label never shows the key
    account = decrypted[influencer_a.pk]
    assert account.is_usable
    assert (account.account_number, account.transfer_key_type, account.transfer_key) == ("", key_type, key)


def test_neither_account_number_nor_key_is_not_payout_data(brand_a: Any, influencer_a: Any) -> None:
    give_payout_account(influencer_a, account_number="", transfer_key="", key_type="")
    make_available(brand_a, influencer_a, 1_000_00)
    entries = LedgerEntry.objects.count()

    assert payout_accounts.payout_accounts_on_file(influencer_ids=[influencer_a.pk], brand_id=brand_a.pk) == {}
    with pytest.raises(ApplicationError) as excinfo:
        withdrawal_request_create(
            influencer=influencer_a, brand=brand_a, amount="300.00", requested_by=influencer_a.user
        )
    assert excinfo.value.code == "payout_data_required"
    assert LedgerEntry.objects.count() == entries
    assert not Withdrawal.objects.exists()


def test_bank_file_carries_the_key_type_and_key_of_a_key_only_influencer(
    brand_a: Any, influencer_a: Any, finance_a: Any
) -> None:
    _key_only(influencer_a)
    make_available(brand_a, influencer_a, 1_000_00)
    withdrawal = withdrawal_request_create(
        influencer=influencer_a, brand=brand_a, amount="250.00", requested_by=influencer_a.user
    )
    withdrawal = withdrawal_approve(withdrawal=withdrawal, approver=finance_a)
    start, end = payout_period_for(withdrawal.requested_at.date())
    batch = PayoutBatch.objects.create(brand=brand_a, period_start=start, period_end=end, status="ready")
    Withdrawal.objects.filter(pk=withdrawal.pk).update(batch=batch)

    _name, content = bank_export_build(batch=batch, actor=finance_a)

    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(rows) == 1
    assert rows[0]["account_number"] == ""
    assert rows[0]["transfer_key_type"] == "pix_email"
    assert rows[0]["transfer_key"] == "maria.pix@example.com"
    assert rows[0]["net_amount"] == "250.00"


def test_the_label_names_account_and_key_types_in_the_readers_language(brand_a: Any, influencer_a: Any) -> None:
    _key_only(influencer_a, key_type="pix_email")
    with translation.override("es"):
        label = payout_accounts.payout_accounts_on_file(influencer_ids=[influencer_a.pk], brand_id=brand_a.pk)
    assert label[influencer_a.pk] == "Billetera digital · Clave PIX: correo electrónico"
    assert "wallet" not in label[influencer_a.pk]
