"""CNAB 240 PIX remittance, parsed back field by field with positions taken from the FEBRABAN
layout (docs/ledger.md), independently of the writer's own field table."""

from datetime import date
from typing import Any

import pytest

from core.errors import ApplicationError
from payments.models import PayoutBatch, PayoutSettings, Withdrawal
from payments.services import bank_export_build, withdrawal_approve, withdrawal_request_create
from tests.factories import InfluencerFactory, MembershipFactory
from tests.payments.conftest import give_payout_account, make_available

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 2)

KEYS = [
    ("pix_phone", "+5511987654321", "01"),
    ("pix_email", "Maria.Souza@example.com.br", "02"),
    ("pix_cpf", "52998224725", "03"),
    ("pix_random", "123e4567-e89b-12d3-a456-426614174000", "04"),
]


def cut(line: str, start: int, end: int) -> str:
    """Positions are 1-based and inclusive, as the FEBRABAN layout writes them."""
    return line[start - 1 : end]


@pytest.fixture
def brl_brand(brand_a: Any) -> Any:
    brand_a.currency = "BRL"
    brand_a.country = "BR"
    brand_a.min_withdrawal_cents = 10_00
    brand_a.save()
    PayoutSettings.objects.create(
        brand=brand_a,
        bank_file_format="cnab240_pix",
        payout_change_cooldown_hours=0,
        payer_name="Acme Comércio Ltda",
        payer_document="11.222.333/0001-81",
        payer_bank_code="341",
        payer_agreement="ACME123",
        payer_branch="1234",
        payer_branch_digit="5",
        payer_account="98765",
        payer_account_digit="0",
    )
    return brand_a


def _withdrawals(brand: Any, finance: Any) -> list[Withdrawal]:
    created = []
    for index, (key_type, key, _code) in enumerate(KEYS):
        influencer = MembershipFactory(brand=brand, influencer=InfluencerFactory(), status="approved").influencer
        give_payout_account(
            influencer,
            account_holder=f"José Açaí {index}",
            holder_document_type="BR_CPF",
            holder_document_number="52998224725",
            bank_name="Banco",
            bank_code="260",
            account_number="",
            key_type=key_type,
            transfer_key=key,
        )
        make_available(brand, influencer, 1_000_00)
        withdrawal = withdrawal_request_create(
            influencer=influencer, brand=brand, amount=f"{100 + index}.25", requested_by=influencer.user
        )
        created.append(withdrawal_approve(withdrawal=withdrawal, approver=finance))
    return created


def test_cnab240_pix_file_parses_back_field_by_field(brl_brand, finance_a):
    withdrawals = _withdrawals(brl_brand, finance_a)
    batch = PayoutBatch.objects.create(brand=brl_brand, kind="manual", period_start=DAY, period_end=DAY, status="ready")
    Withdrawal.objects.filter(pk__in=[w.pk for w in withdrawals]).update(batch=batch)

    filename, content = bank_export_build(batch=batch, actor=finance_a)

    assert filename.endswith(".rem")
    text = content.decode("ascii")
    assert text.endswith("\r\n")
    lines = text.split("\r\n")[:-1]
    assert all(len(line) == 240 for line in lines)
    assert len(lines) == 1 + 1 + 2 * len(KEYS) + 1 + 1

    header = lines[0]
    assert cut(header, 1, 3) == "341"
    assert cut(header, 4, 7) == "0000"
    assert cut(header, 8, 8) == "0"
    assert cut(header, 9, 17) == " " * 9
    assert cut(header, 18, 18) == "2"  # CNPJ
    assert cut(header, 19, 32) == "00011222333000181"[-14:]
    assert cut(header, 33, 52) == "ACME123".ljust(20)
    assert cut(header, 53, 57) == "01234"
    assert cut(header, 58, 58) == "5"
    assert cut(header, 59, 70) == "000000098765"
    assert cut(header, 71, 71) == "0"
    assert cut(header, 73, 102) == "ACME COMERCIO LTDA".ljust(30)  # upper case, no accents
    assert cut(header, 143, 143) == "1"  # remessa
    assert cut(header, 144, 151).isdigit()
    assert cut(header, 152, 157).isdigit()
    assert cut(header, 158, 163) == "000001"  # first export of the brand
    assert cut(header, 164, 166) == "103"
    assert cut(header, 212, 240) == " " * 29

    batch_header = lines[1]
    assert cut(batch_header, 1, 8) == "34100011"
    assert cut(batch_header, 9, 9) == "C"
    assert cut(batch_header, 10, 11) == "20"
    assert cut(batch_header, 12, 13) == "45"  # PIX transferência
    assert cut(batch_header, 14, 16) == "046"
    assert cut(batch_header, 18, 32) == cut(header, 18, 32)
    assert cut(batch_header, 33, 102) == cut(header, 33, 102)

    total = 0
    for index, ((_key_type, key, initiation), withdrawal) in enumerate(zip(KEYS, withdrawals, strict=True)):
        a, b = lines[2 + 2 * index], lines[3 + 2 * index]
        assert cut(a, 1, 8) == "34100013"
        assert int(cut(a, 9, 13)) == 2 * index + 1
        assert cut(a, 14, 14) == "A"
        assert cut(a, 15, 17) == "000"
        assert cut(a, 18, 20) == "009"  # SPI (PIX)
        assert cut(a, 44, 73) == f"JOSE ACAI {index}".ljust(30)
        assert cut(a, 74, 93) == f"MGM-{withdrawal.pk}".ljust(20)
        assert cut(a, 102, 104) == "BRL"
        assert int(cut(a, 120, 134)) == withdrawal.net_cents
        total += withdrawal.net_cents

        assert cut(b, 1, 8) == "34100013"
        assert int(cut(b, 9, 13)) == 2 * index + 2
        assert cut(b, 14, 14) == "B"
        assert cut(b, 15, 17) == initiation.ljust(3)
        assert cut(b, 18, 18) == "1"  # CPF
        assert cut(b, 19, 32) == "00052998224725"
        assert cut(b, 128, 226) == key.ljust(99)  # exactly, case kept
        assert cut(b, 128, 226).rstrip() == key

    trailer = lines[-2]
    assert cut(trailer, 1, 8) == "34100015"
    assert int(cut(trailer, 18, 23)) == 2 + 2 * len(KEYS)  # batch header + details + trailer
    assert int(cut(trailer, 24, 41)) == total
    file_trailer = lines[-1]
    assert cut(file_trailer, 1, 8) == "34199999"
    assert int(cut(file_trailer, 18, 23)) == 1
    assert int(cut(file_trailer, 24, 29)) == len(lines)


def test_cnab240_refuses_a_withdrawal_without_a_pix_key(brl_brand, finance_a, influencer_a):
    give_payout_account(influencer_a, holder_document_type="BR_CPF", holder_document_number="52998224725")
    make_available(brl_brand, influencer_a, 500_00)
    withdrawal = withdrawal_approve(
        withdrawal=withdrawal_request_create(
            influencer=influencer_a, brand=brl_brand, amount="100", requested_by=influencer_a.user
        ),
        approver=finance_a,
    )
    batch = PayoutBatch.objects.create(brand=brl_brand, kind="manual", period_start=DAY, period_end=DAY)
    Withdrawal.objects.filter(pk=withdrawal.pk).update(batch=batch)
    with pytest.raises(ApplicationError) as refused:
        bank_export_build(batch=batch, actor=finance_a)
    assert refused.value.code == "bank_format_no_pix_key"
    assert str(withdrawal) in str(refused.value)


def test_cnab240_needs_the_payers_bank_details(brl_brand, finance_a):
    withdrawals = _withdrawals(brl_brand, finance_a)[:1]
    PayoutSettings.objects.filter(brand=brl_brand).update(payer_agreement="")
    batch = PayoutBatch.objects.create(brand=brl_brand, kind="manual", period_start=DAY, period_end=DAY)
    Withdrawal.objects.filter(pk=withdrawals[0].pk).update(batch=batch)
    with pytest.raises(ApplicationError) as refused:
        bank_export_build(batch=batch, actor=finance_a)
    assert refused.value.code == "bank_format_settings"
