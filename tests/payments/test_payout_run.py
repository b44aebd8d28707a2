"""The payout run in the back office: batch now, bank file, pay (bulk, in the background, with
progress) or fail, reopen a paid withdrawal and download its proof through an expiring link."""

from typing import Any

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from payments.models import AccountKind, PaymentJob, PayoutBatch, Withdrawal
from payments.selectors import balances_for, ledger_verify
from payments.services import withdrawal_approve, withdrawal_mark_paid, withdrawal_request_create
from tests.factories import InfluencerFactory, MembershipFactory, StaffFactory
from tests.payments.conftest import give_payout_account, make_available

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 transfer receipt"


def _approved(brand: Any, finance: Any, n: int) -> list[Withdrawal]:
    brand.min_withdrawal_cents = 10_00
    brand.save(update_fields=["min_withdrawal_cents"])
    out = []
    for _ in range(n):
        influencer = MembershipFactory(brand=brand, influencer=InfluencerFactory(), status="approved").influencer
        give_payout_account(influencer)
        make_available(brand, influencer, 500_00)
        withdrawal = withdrawal_request_create(
            influencer=influencer, brand=brand, amount="120.00", requested_by=influencer.user
        )
        out.append(withdrawal_approve(withdrawal=withdrawal, approver=finance))
    return out


def test_finance_runs_a_whole_payout_from_the_admin(
    brand_a, finance_a, verified_client, django_capture_on_commit_callbacks
):
    withdrawals = _approved(brand_a, finance_a, 3)
    client = verified_client(finance_a)

    # Batch now (no cutoff needed).
    response = client.post(reverse("admin:payments_payoutbatch_now"), {"brand": brand_a.pk})
    batch = PayoutBatch.objects.get(kind=PayoutBatch.Kind.MANUAL)
    assert response.status_code == 302
    assert set(batch.withdrawals.values_list("pk", flat=True)) == {w.pk for w in withdrawals}

    page = client.get(reverse("admin:payments_payoutbatch_change", args=[batch.pk])).content.decode()
    assert reverse("admin:payments_payoutbatch_bank_file", args=[batch.pk]) in page
    assert reverse("admin:payments_payoutbatch_pay", args=[batch.pk]) in page

    bank_file = client.post(reverse("admin:payments_payoutbatch_bank_file", args=[batch.pk]))
    assert bank_file.status_code == 200
    assert bank_file.content.decode("utf-8-sig").count("MGM-") == 3

    # Mark the batch paid: a background job, whose progress the page polls.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:payments_payoutbatch_pay", args=[batch.pk]),
            {"transfer_reference": "TED-2026-0042", "proof": SimpleUploadedFile("receipt.pdf", PDF)},
        )
    job = PaymentJob.objects.get()
    assert response["Location"] == reverse("admin:payments_paymentjob_progress", args=[job.pk])
    assert (job.status, job.done, job.total) == (PaymentJob.Status.DONE, 3, 3)
    partial = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert 'id="payment-progress"' in partial
    assert "<html" not in partial
    assert "3 / 3" in partial
    for withdrawal in withdrawals:
        withdrawal.refresh_from_db()
        assert withdrawal.status == Withdrawal.Status.PAID
        assert withdrawal.transfer_reference == "TED-2026-0042"
        assert balances_for(brand=brand_a, influencer=withdrawal.influencer)[AccountKind.PAID] == 120_00
    assert ledger_verify() == []

    # Reopen a paid withdrawal (was a 500) and download its proof through an expiring link.
    paid = withdrawals[0]
    change = client.get(reverse("admin:payments_withdrawal_change", args=[paid.pk]))
    assert change.status_code == 200
    link = reverse("admin:payments_withdrawal_proof", args=[paid.pk])
    assert link in change.content.decode()
    redirect = client.get(link)
    assert redirect.status_code == 302
    assert "/proof/" in redirect["Location"]
    download = client.get(redirect["Location"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert AuditEvent.objects.filter(action="withdrawal.proof_link_issued", target_id=str(paid.pk)).count() == 1
    assert AuditEvent.objects.filter(action="withdrawal.proof_downloaded", target_id=str(paid.pk)).count() == 1


def test_a_proof_link_expires_and_serves_nobody_else(brand_a, finance_a, verified_client, monkeypatch):
    [withdrawal] = _approved(brand_a, finance_a, 1)
    withdrawal_mark_paid(
        withdrawal=withdrawal,
        actor=finance_a,
        transfer_reference="T1",
        proof=SimpleUploadedFile("r.pdf", PDF),
    )
    client = verified_client(finance_a)
    fresh = client.get(reverse("admin:payments_withdrawal_proof", args=[withdrawal.pk]))["Location"]

    colleague = StaffFactory(email="finance.other@example.com", role="Finance", brands=[brand_a])
    stolen = verified_client(colleague).get(fresh)
    assert stolen.status_code == 403

    real_time = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 3600)
    old = client.get(reverse("admin:payments_withdrawal_proof", args=[withdrawal.pk]))["Location"]
    monkeypatch.undo()
    expired = client.get(old)
    assert expired.status_code == 400
    assert "expired" in expired.content.decode()
    assert AuditEvent.objects.filter(action="withdrawal.proof_downloaded").count() == 0


def test_failing_a_batch_returns_the_money_and_emails_each_influencer(
    brand_a, finance_a, verified_client, django_capture_on_commit_callbacks, mailoutbox
):
    withdrawals = _approved(brand_a, finance_a, 2)
    client = verified_client(finance_a)
    client.post(reverse("admin:payments_payoutbatch_now"), {"brand": brand_a.pk})
    batch = PayoutBatch.objects.get(kind=PayoutBatch.Kind.MANUAL)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:payments_payoutbatch_fail", args=[batch.pk]), {"reason": "File rejected: layout"})
    for withdrawal in withdrawals:
        withdrawal.refresh_from_db()
        assert withdrawal.status == Withdrawal.Status.FAILED
        balances = balances_for(brand=brand_a, influencer=withdrawal.influencer)
        assert (balances[AccountKind.AVAILABLE], balances[AccountKind.RESERVED]) == (500_00, 0)
    recipients = {address for message in mailoutbox for address in message.to}
    assert {w.influencer.user.email for w in withdrawals} <= recipients
    assert ledger_verify() == []


def test_paying_a_batch_needs_the_reference_and_a_proof(brand_a, finance_a, verified_client):
    _approved(brand_a, finance_a, 1)
    client = verified_client(finance_a)
    client.post(reverse("admin:payments_payoutbatch_now"), {"brand": brand_a.pk})
    batch = PayoutBatch.objects.get(kind=PayoutBatch.Kind.MANUAL)
    response = client.post(reverse("admin:payments_payoutbatch_pay", args=[batch.pk]), {"transfer_reference": "X"})
    assert response.status_code == 400
    assert not PaymentJob.objects.exists()
    assert not Withdrawal.objects.filter(status=Withdrawal.Status.PAID).exists()


def test_managers_cannot_pay_or_batch(brand_a, finance_a, manager_a, verified_client):
    _approved(brand_a, finance_a, 1)
    client = verified_client(manager_a)
    assert client.post(reverse("admin:payments_payoutbatch_now"), {"brand": brand_a.pk}).status_code == 403
    assert not PayoutBatch.objects.filter(kind=PayoutBatch.Kind.MANUAL).exists()
