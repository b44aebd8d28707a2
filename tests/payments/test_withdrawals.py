import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from accounts.roles import roles_sync
from audit.models import AuditEvent
from brands.models import StaffBrandAccess
from core.errors import ApplicationError, Conflict, PermissionRefused
from payments.models import (
    AccountKind,
    BankExport,
    LedgerEntry,
    PayoutBatch,
    PayoutSettings,
    Withdrawal,
    WithholdingRule,
)
from payments.selectors import balances_for, ledger_verify
from payments.services import (
    bank_export_build,
    ledger_commission_reverse,
    withdrawal_approve,
    withdrawal_mark_failed,
    withdrawal_mark_paid,
    withdrawal_reject,
    withdrawal_request_create,
)
from payments.services.cutoff import payout_period_for
from tests.factories import InfluencerFactory, MembershipFactory, StaffFactory
from tests.payments.conftest import give_payout_account, make_available

pytestmark = pytest.mark.django_db(transaction=False)


def _proof():
    return SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 proof", content_type="application/pdf")


def _request(brand, influencer, amount="300.00", **kwargs):
    return withdrawal_request_create(
        influencer=influencer, brand=brand, amount=amount, requested_by=influencer.user, **kwargs
    )


def _snapshot(brand, influencer):
    return (
        balances_for(brand=brand, influencer=influencer),
        LedgerEntry.objects.count(),
        Withdrawal.objects.count(),
    )


def test_request_reserves_the_amount_at_once_audits_and_emails(brand_a, funded, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = _request(brand_a, funded, "300.50")
    balances = balances_for(brand=brand_a, influencer=funded)
    assert withdrawal.status == Withdrawal.Status.REQUESTED
    assert withdrawal.amount_cents == 300_50
    assert balances[AccountKind.AVAILABLE] == 699_50
    assert balances[AccountKind.RESERVED] == 300_50
    assert AuditEvent.objects.filter(action="withdrawal.requested", target_id=str(withdrawal.pk)).exists()
    assert len(mail.outbox) == 1
    assert "W-" in mail.outbox[0].subject
    assert ledger_verify() == []


def test_request_everything_available(brand_a, funded):
    withdrawal = withdrawal_request_create(
        influencer=funded, brand=brand_a, all_available=True, requested_by=funded.user
    )
    assert withdrawal.amount_cents == 1_000_00
    assert balances_for(brand=brand_a, influencer=funded)[AccountKind.AVAILABLE] == 0


@pytest.mark.parametrize(
    ("amount", "currency", "code"),
    [
        ("0", None, "not_positive"),
        ("-10", None, "not_positive"),
        ("10.005", None, "too_many_decimals"),
        ("1000.01", None, "above_available"),
        ("100", "USD", "currency_mismatch"),
        ("abc", None, "not_a_number"),
        ("NaN", None, "not_a_number"),
        ("1e3x", None, "not_a_number"),
        ("", None, "required"),
        (None, None, "required"),
        ("49.99", None, "below_minimum"),
    ],
)
def test_bad_amounts_get_a_clear_message_and_change_nothing(brand_a, funded, amount, currency, code):
    before = _snapshot(brand_a, funded)
    with pytest.raises(ApplicationError) as excinfo:
        withdrawal_request_create(
            influencer=funded, brand=brand_a, amount=amount, currency=currency, requested_by=funded.user
        )
    assert excinfo.value.code == code
    assert str(excinfo.value)
    assert _snapshot(brand_a, funded) == before


def test_withdrawal_needs_payout_data_on_file(brand_a, influencer_a):
    make_available(brand_a, influencer_a, 1_000_00)
    before = _snapshot(brand_a, influencer_a)
    with pytest.raises(ApplicationError) as excinfo:
        _request(brand_a, influencer_a)
    assert excinfo.value.code == "payout_data_required"
    assert _snapshot(brand_a, influencer_a) == before


def test_withdrawal_needs_approved_kyc(brand_a):
    influencer = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(), status="pending").influencer
    give_payout_account(influencer)
    with pytest.raises(ApplicationError) as excinfo:
        _request(brand_a, influencer)
    assert excinfo.value.code == "kyc_required"
    assert not Withdrawal.objects.exists()


def test_negative_available_after_a_clawback_blocks_withdrawals_until_positive(brand_a, funded):
    withdrawal = withdrawal_request_create(
        influencer=funded, brand=brand_a, all_available=True, requested_by=funded.user
    )
    finance = StaffFactory(role="Finance", brands=[brand_a])
    withdrawal_approve(withdrawal=withdrawal, approver=finance)
    withdrawal_mark_paid(withdrawal=withdrawal, actor=finance, transfer_reference="TX1", proof=_proof())
    ref = LedgerEntry.objects.filter(transaction__kind="confirm").first().transaction.commission_ref
    ledger_commission_reverse(
        brand=brand_a, influencer=funded, commission_ref=ref, reversal_ref="ret", amount_cents=200_00
    )
    assert balances_for(brand=brand_a, influencer=funded)[AccountKind.AVAILABLE] == -200_00
    with pytest.raises(ApplicationError) as excinfo:
        _request(brand_a, funded, "60")
    assert excinfo.value.code == "balance_negative"
    make_available(brand_a, funded, 300_00)
    assert _request(brand_a, funded, "100").amount_cents == 100_00


def test_finance_approves_then_pays_with_proof_and_withholding(
    brand_a, funded, finance_a, django_capture_on_commit_callbacks
):

    WithholdingRule.objects.create(
        brand=brand_a,
        name="Retención",
        country="CO",
        rate=Decimal("10"),
        threshold_cents=0,
        effective_from=date(2020, 1, 1),
    )
    withdrawal = _request(brand_a, funded, "500.00")
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = withdrawal_approve(withdrawal=withdrawal, approver=finance_a)
        withdrawal = withdrawal_mark_paid(
            withdrawal=withdrawal, actor=finance_a, transfer_reference="BANK-77", proof=_proof()
        )
    assert withdrawal.status == Withdrawal.Status.PAID
    assert withdrawal.withholding_cents == 50_00
    assert withdrawal.proof.name
    balances = balances_for(brand=brand_a, influencer=funded)
    assert balances[AccountKind.RESERVED] == 0
    assert balances[AccountKind.PAID] == 450_00
    assert balances[AccountKind.WITHHOLDING] == 50_00
    assert [e.action for e in AuditEvent.objects.filter(target_id=str(withdrawal.pk)).order_by("id")][-2:] == [
        "withdrawal.approved",
        "withdrawal.paid",
    ]
    assert any("BANK-77" in m.body for m in mail.outbox)
    assert ledger_verify() == []


@pytest.mark.postgres  # the trigger that refuses editing a paid withdrawal is PostgreSQL's
def test_a_paid_withdrawal_cannot_be_edited(brand_a, funded, finance_a):
    withdrawal = _request(brand_a, funded)
    withdrawal_approve(withdrawal=withdrawal, approver=finance_a)
    withdrawal_mark_paid(withdrawal=withdrawal, actor=finance_a, transfer_reference="TX", proof=_proof())
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017, PT011 - refused by a trigger
        Withdrawal.objects.filter(pk=withdrawal.pk).update(amount_cents=1)
    with pytest.raises(Conflict):
        withdrawal_reject(withdrawal=withdrawal, actor=finance_a, reason="too late")


def test_rejection_and_failure_return_the_money(brand_a, funded, finance_a):
    first = _request(brand_a, funded, "100")
    withdrawal_reject(withdrawal=first, actor=finance_a, reason="Duplicated request")
    second = _request(brand_a, funded, "200")
    withdrawal_approve(withdrawal=second, approver=finance_a)
    withdrawal_mark_failed(withdrawal=second, actor=finance_a, reason="Account closed")
    balances = balances_for(brand=brand_a, influencer=funded)
    assert balances[AccountKind.AVAILABLE] == 1_000_00
    assert balances[AccountKind.RESERVED] == 0
    assert Withdrawal.objects.get(pk=first.pk).rejection_reason == "Duplicated request"
    assert ledger_verify() == []


def test_rejection_needs_a_reason(brand_a, funded, finance_a):
    withdrawal = _request(brand_a, funded)
    with pytest.raises(ApplicationError):
        withdrawal_reject(withdrawal=withdrawal, actor=finance_a, reason="  ")
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == Withdrawal.Status.REQUESTED


def test_four_eyes_the_influencer_never_approves_their_own_withdrawal(brand_a, funded):
    roles_sync()
    user = funded.user
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name="Finance"))
    StaffBrandAccess.objects.create(user=user, brand=brand_a)
    withdrawal = _request(brand_a, funded)
    with pytest.raises(PermissionRefused):
        withdrawal_approve(withdrawal=withdrawal, approver=user)
    assert not withdrawal.approvals.exists()


def test_above_the_threshold_two_different_finance_users_must_approve(brand_a, funded, finance_a, finance_a2):
    PayoutSettings.objects.create(brand=brand_a, second_approval_threshold_cents=200_00)
    withdrawal = _request(brand_a, funded, "500")
    assert withdrawal.approvals_required == 2
    withdrawal = withdrawal_approve(withdrawal=withdrawal, approver=finance_a)
    assert withdrawal.status == Withdrawal.Status.REQUESTED
    withdrawal = withdrawal_approve(withdrawal=withdrawal, approver=finance_a)  # the same person again: no effect
    assert withdrawal.status == Withdrawal.Status.REQUESTED
    assert withdrawal.approvals.count() == 1
    withdrawal = withdrawal_approve(withdrawal=withdrawal, approver=finance_a2)
    assert withdrawal.status == Withdrawal.Status.APPROVED


def test_staff_of_another_brand_or_without_the_role_cannot_decide(brand_a, brand_b, funded, manager_a):
    withdrawal = _request(brand_a, funded)
    finance_b = StaffFactory(role="Finance", brands=[brand_b])
    for user in (finance_b, manager_a):
        with pytest.raises(PermissionRefused):
            withdrawal_approve(withdrawal=withdrawal, approver=user)
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == Withdrawal.Status.REQUESTED


def test_mark_paid_needs_reference_and_proof_and_changes_nothing_without(brand_a, funded, finance_a):
    withdrawal = withdrawal_approve(withdrawal=_request(brand_a, funded), approver=finance_a)
    before = _snapshot(brand_a, funded)
    for reference, proof in (("", _proof()), ("TX", None), ("TX", SimpleUploadedFile("x.exe", b"MZ"))):
        with pytest.raises(ApplicationError):
            withdrawal_mark_paid(withdrawal=withdrawal, actor=finance_a, transfer_reference=reference, proof=proof)
    assert _snapshot(brand_a, funded) == before
    assert Withdrawal.objects.get(pk=withdrawal.pk).status == Withdrawal.Status.APPROVED


def test_bank_export_decrypts_only_there_is_audited_and_neutralises_formulas(brand_a, funded, finance_a):
    withdrawal = withdrawal_approve(withdrawal=_request(brand_a, funded, "250.00"), approver=finance_a)
    start, end = payout_period_for(withdrawal.requested_at.date())
    batch = PayoutBatch.objects.create(brand=brand_a, period_start=start, period_end=end, status="ready")
    Withdrawal.objects.filter(pk=withdrawal.pk).update(batch=batch)

    filename, content = bank_export_build(batch=batch, actor=finance_a)

    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert filename.endswith(".csv")
    assert rows[0]["withdrawal_id"] == str(withdrawal.pk)
    assert rows[0]["net_amount"] == "250.00"
    assert rows[0]["bank_name"] == "Bancolombia"
    assert rows[0]["beneficiary_name"].startswith("'=")  # CSV injection neutralised in free text
    assert rows[0]["account_number"] == "12345678"  # identifiers written exactly
    event = AuditEvent.objects.get(action="payout_batch.bank_file_exported")
    assert event.after["withdrawals"] == [withdrawal.pk]
    assert "12345678" not in str(event.after)
    assert BankExport.objects.get().rows == 1


def test_bank_export_is_refused_to_managers(brand_a, funded, manager_a, finance_a):
    batch = PayoutBatch.objects.create(brand=brand_a, period_start="2026-01-01", period_end="2026-01-15")
    with pytest.raises(PermissionRefused):
        bank_export_build(batch=batch, actor=manager_a)
    assert not AuditEvent.objects.filter(action="payout_batch.bank_file_exported").exists()
