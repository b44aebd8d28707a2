"""The approved account is the paid account: payout-data versions, re-approval after a change,
cool-down, two-factor above a threshold, one open withdrawal, and the bank file over HTTP."""

import csv
import io
import time
from typing import Any

import pytest
from django.core import mail
from django.db import DatabaseError, transaction
from django.urls import reverse

from affiliates.services.payout_accounts import PayoutData, payout_account_update
from audit.models import AuditEvent
from core.errors import ApplicationError
from payments.models import (
    AccountKind,
    LedgerTransaction,
    PayoutAccountVersion,
    PayoutBatch,
    PayoutSettings,
    Withdrawal,
    WithdrawalApproval,
)
from payments.selectors import balances_for, ledger_verify
from payments.services import withdrawal_approve, withdrawal_request_create
from payments.services.payout_versions import version_account
from tests.payments.conftest import give_payout_account, make_available

pytestmark = pytest.mark.django_db

PIX_PHONE = "+5511987654321"
NEW_PIX_PHONE = "+5521912345678"


def _br_account(influencer: Any, key: str = PIX_PHONE) -> Any:
    return give_payout_account(
        influencer,
        account_holder="Maria Souza",
        holder_document_type="BR_CPF",
        holder_document_number="52998224725",
        bank_name="Nubank",
        bank_code="260",
        account_number="",
        key_type="pix_phone",
        transfer_key=key,
    )


@pytest.fixture
def pix_funded(brand_a: Any, influencer_a: Any) -> Any:
    brand_a.min_withdrawal_cents = 50_00
    brand_a.save(update_fields=["min_withdrawal_cents"])
    _br_account(influencer_a)
    make_available(brand_a, influencer_a, 1_000_00)
    PayoutSettings.objects.create(brand=brand_a, payout_change_cooldown_hours=0)
    return influencer_a


def _portal_payout(client: Any, influencer: Any, brand: Any, key: str) -> Any:
    client.force_login(influencer.user)
    session = client.session
    session["account_authentication_methods"] = [{"method": "password", "at": time.time(), "reauthenticated": True}]
    session["account_authentication_methods_user"] = str(influencer.user.pk)
    session.save()
    return client.post(
        reverse("portal:payout", kwargs={"brand_slug": brand.slug}),
        {
            "account_holder": "Maria Souza",
            "holder_document_type": "BR_CPF",
            "holder_document_number": "529.982.247-25",
            "bank_name": "Nubank",
            "bank_code": "260",
            "account_type": "savings",
            "account_number": "",
            "key_type": "pix_phone",
            "transfer_key": key,
        },
    )


def _bank_file(client: Any, batch: PayoutBatch) -> Any:
    return client.post(reverse("admin:payments_payoutbatch_bank_file", args=[batch.pk]))


def _csv_rows(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_payout_change_after_approval_never_reaches_the_bank_file_without_a_new_approval(
    client, brand_a, pix_funded, finance_a, finance_a2, verified_client, django_capture_on_commit_callbacks
):
    finance = verified_client(finance_a)
    withdrawal = withdrawal_request_create(
        influencer=pix_funded, brand=brand_a, amount="300.00", requested_by=pix_funded.user
    )
    withdrawal_approve(withdrawal=withdrawal, approver=finance_a)
    finance.post(
        reverse("admin:payments_withdrawal_changelist"),
        {"action": "batch_now_selected", "_selected_action": [withdrawal.pk]},
    )
    batch = PayoutBatch.objects.get(kind=PayoutBatch.Kind.MANUAL)

    # Before the change: the approved key, written exactly (no formula guard on identifiers).
    before = _bank_file(finance, batch)
    assert before.status_code == 200
    assert _csv_rows(before)[0]["transfer_key"] == PIX_PHONE
    assert f",{PIX_PHONE}," in before.content.decode("utf-8-sig")

    # The influencer (or whoever took over the account) changes the payout data in the portal.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        changed = _portal_payout(client, pix_funded, brand_a, NEW_PIX_PHONE)
    assert changed.status_code == 302
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.REQUESTED
    assert withdrawal.payout_account_version is None
    assert withdrawal.payout_change["before"]["transfer_key"].endswith("4321")
    assert withdrawal.payout_change["after"]["transfer_key"].endswith("5678")
    assert WithdrawalApproval.objects.filter(withdrawal=withdrawal, voided_at__isnull=True).count() == 0
    recipients = {address for message in mail.outbox for address in message.to}
    assert {pix_funded.user.email, finance_a.email} <= recipients

    # Finance sees the change on the withdrawal, and the batch has nothing approved to pay.
    page = finance.get(reverse("admin:payments_withdrawal_change", args=[withdrawal.pk])).content.decode()
    assert "approvals were voided" in page
    refused = _bank_file(finance, batch)
    assert refused.status_code == 302
    exports_before = AuditEvent.objects.filter(action="payout_batch.bank_file_exported").count()

    # A new approval pays the new account, exactly.
    verified_client(finance_a2).post(reverse("admin:payments_withdrawal_approve", args=[withdrawal.pk]))
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.APPROVED
    assert withdrawal.payout_account_version.number == 2
    after = _bank_file(finance, batch)
    rows = _csv_rows(after)
    assert [row["transfer_key"] for row in rows] == [NEW_PIX_PHONE]
    assert PIX_PHONE not in after.content.decode("utf-8-sig")
    assert AuditEvent.objects.filter(action="payout_batch.bank_file_exported").count() == exports_before + 1


def test_the_bank_file_pays_the_approved_version_even_if_live_data_changed_underneath(
    brand_a, pix_funded, finance_a, verified_client
):
    withdrawal = withdrawal_request_create(
        influencer=pix_funded, brand=brand_a, amount="100.00", requested_by=pix_funded.user
    )
    withdrawal_approve(withdrawal=withdrawal, approver=finance_a)
    # Someone writes the live row directly (no service, no event): the file still pays v1.
    account = pix_funded.payout_account
    account.transfer_key = NEW_PIX_PHONE
    account.save()
    batch = PayoutBatch.objects.create(brand=brand_a, kind="manual", period_start="2026-01-01", period_end="2026-01-01")
    Withdrawal.objects.filter(pk=withdrawal.pk).update(batch=batch, status="approved")
    rows = _csv_rows(_bank_file(verified_client(finance_a), batch))
    assert [row["transfer_key"] for row in rows] == [PIX_PHONE]
    assert rows[0]["payout_account_version"] == "1"


def test_a_second_open_withdrawal_is_refused_and_nothing_changes(brand_a, pix_funded):
    first = withdrawal_request_create(
        influencer=pix_funded, brand=brand_a, amount="100.00", requested_by=pix_funded.user
    )
    balances = balances_for(brand=brand_a, influencer=pix_funded)
    transactions = LedgerTransaction.objects.count()
    with pytest.raises(ApplicationError) as refused:
        withdrawal_request_create(influencer=pix_funded, brand=brand_a, amount="50.00", requested_by=pix_funded.user)
    assert refused.value.code == "withdrawal_open"
    assert str(first) in str(refused.value)
    assert Withdrawal.objects.count() == 1
    assert LedgerTransaction.objects.count() == transactions
    assert balances_for(brand=brand_a, influencer=pix_funded) == balances
    assert ledger_verify() == []


def test_the_database_refuses_a_second_open_withdrawal_too(brand_a, pix_funded):
    first = withdrawal_request_create(
        influencer=pix_funded, brand=brand_a, amount="100.00", requested_by=pix_funded.user
    )
    clone = Withdrawal(
        brand=brand_a,
        influencer=pix_funded,
        amount_cents=1,
        currency=first.currency,
        requested_at=first.requested_at,
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        clone.save()


def test_portal_refuses_a_second_withdrawal_with_the_message(client, brand_a, pix_funded):
    withdrawal_request_create(influencer=pix_funded, brand=brand_a, amount="100.00", requested_by=pix_funded.user)
    client.force_login(pix_funded.user)
    response = client.post(reverse("portal:withdrawals", kwargs={"brand_slug": brand_a.slug}), {"amount": "50.00"})
    assert response.status_code == 400
    assert "already have a withdrawal in progress" in response.content.decode()
    assert Withdrawal.objects.count() == 1


def test_new_withdrawals_wait_the_cool_down_after_a_change(brand_a, pix_funded, django_capture_on_commit_callbacks):
    PayoutSettings.objects.filter(brand=brand_a).update(payout_change_cooldown_hours=48)
    payout_account_update(
        influencer=pix_funded,
        data=PayoutData(
            account_holder="Maria Souza",
            bank_name="Nubank",
            account_type="savings",
            holder_document_type="BR_CPF",
            holder_document_number="52998224725",
            key_type="pix_phone",
            transfer_key=NEW_PIX_PHONE,
        ),
        actor=pix_funded.user,
    )
    with pytest.raises(ApplicationError) as refused:
        withdrawal_request_create(influencer=pix_funded, brand=brand_a, amount="100.00", requested_by=pix_funded.user)
    assert refused.value.code == "payout_change_cooldown"
    assert not Withdrawal.objects.exists()
    PayoutSettings.objects.filter(brand=brand_a).update(payout_change_cooldown_hours=0)
    assert withdrawal_request_create(
        influencer=pix_funded, brand=brand_a, amount="100.00", requested_by=pix_funded.user
    ).pk


def test_the_first_payout_data_is_not_a_change_and_starts_no_cool_down(brand_a, influencer_a):
    brand_a.min_withdrawal_cents = 50_00
    brand_a.save(update_fields=["min_withdrawal_cents"])
    make_available(brand_a, influencer_a, 500_00)
    _br_account(influencer_a)
    assert withdrawal_request_create(
        influencer=influencer_a, brand=brand_a, amount="100.00", requested_by=influencer_a.user
    ).pk


def test_changing_payout_data_above_the_threshold_needs_a_verified_second_factor(
    client, brand_a, pix_funded, verified_client
):
    PayoutSettings.objects.filter(brand=brand_a).update(payout_change_2fa_threshold_cents=500_00)
    response = _portal_payout(client, pix_funded, brand_a, NEW_PIX_PHONE)
    assert response.status_code == 400
    assert "two-factor authentication" in response.content.decode()
    assert 'data-testid="payout-two-factor"' in response.content.decode()
    assert pix_funded.payout_account.__class__.objects.get(pk=pix_funded.payout_account.pk).transfer_key == PIX_PHONE
    assert PayoutAccountVersion.objects.count() == 0

    verified = verified_client(pix_funded.user)
    session = verified.session
    session["account_authentication_methods"] = [{"method": "password", "at": time.time(), "reauthenticated": True}]
    session["account_authentication_methods_user"] = str(pix_funded.user.pk)
    session.save()
    response = verified.post(
        reverse("portal:payout", kwargs={"brand_slug": brand_a.slug}),
        {
            "account_holder": "Maria Souza",
            "holder_document_type": "BR_CPF",
            "holder_document_number": "529.982.247-25",
            "bank_name": "Nubank",
            "bank_code": "260",
            "account_type": "savings",
            "key_type": "pix_phone",
            "transfer_key": NEW_PIX_PHONE,
        },
    )
    assert response.status_code == 302
    pix_funded.payout_account.refresh_from_db()
    assert pix_funded.payout_account.transfer_key == NEW_PIX_PHONE


def test_below_the_threshold_no_second_factor_is_needed(client, brand_a, pix_funded):
    PayoutSettings.objects.filter(brand=brand_a).update(payout_change_2fa_threshold_cents=5_000_00)
    assert _portal_payout(client, pix_funded, brand_a, NEW_PIX_PHONE).status_code == 302


@pytest.mark.postgres
def test_payout_account_versions_are_immutable(brand_a, pix_funded, finance_a):
    withdrawal = withdrawal_request_create(
        influencer=pix_funded, brand=brand_a, amount="100.00", requested_by=pix_funded.user
    )
    withdrawal_approve(withdrawal=withdrawal, approver=finance_a)
    version = PayoutAccountVersion.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        PayoutAccountVersion.objects.filter(pk=version.pk).update(fingerprint="0" * 64)
    with pytest.raises(DatabaseError), transaction.atomic():
        PayoutAccountVersion.objects.filter(pk=version.pk).update(key_type="pix_email")
    with pytest.raises(DatabaseError), transaction.atomic():
        PayoutAccountVersion.objects.filter(pk=version.pk).delete()
    assert PayoutAccountVersion.objects.get().fingerprint == version.fingerprint


def test_a_version_whose_ciphertext_was_swapped_is_never_paid(brand_a, pix_funded, finance_a):
    withdrawal = withdrawal_request_create(
        influencer=pix_funded, brand=brand_a, amount="100.00", requested_by=pix_funded.user
    )
    withdrawal_approve(withdrawal=withdrawal, approver=finance_a)
    version = PayoutAccountVersion.objects.get()
    # Re-encrypting is allowed (key rotation); a different key inside is detected.
    PayoutAccountVersion.objects.filter(pk=version.pk).update(transfer_key=NEW_PIX_PHONE)
    with pytest.raises(ApplicationError) as refused:
        version_account(PayoutAccountVersion.objects.get())
    assert refused.value.code == "payout_version_tampered"


def test_balances_unchanged_by_a_payout_change(brand_a, pix_funded, finance_a, client):
    withdrawal = withdrawal_request_create(
        influencer=pix_funded, brand=brand_a, amount="300.00", requested_by=pix_funded.user
    )
    withdrawal_approve(withdrawal=withdrawal, approver=finance_a)
    before = balances_for(brand=brand_a, influencer=pix_funded)
    _portal_payout(client, pix_funded, brand_a, NEW_PIX_PHONE)
    assert balances_for(brand=brand_a, influencer=pix_funded) == before
    assert before[AccountKind.RESERVED] == 300_00
    assert ledger_verify() == []
