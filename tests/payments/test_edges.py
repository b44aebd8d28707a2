"""Portal pages, finance admin screens and the read API: who sees what, and the flows."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.api_scopes import READ_SCOPES
from accounts.models import APIKey
from audit.models import AuditEvent
from payments.models import AccountKind, CommissionPosition, PayoutBatch, PayoutSettings, Withdrawal, WithholdingRule
from payments.selectors import balances_for, ledger_verify
from payments.services import (
    ledger_commission_reverse,
    withdrawal_approve,
    withdrawal_mark_paid,
    withdrawal_request_create,
)
from payments.services.cutoff import payout_period_for
from tests.factories import InfluencerFactory, MembershipFactory
from tests.payments.conftest import give_payout_account, make_available

pytestmark = pytest.mark.django_db


def _portal(user):
    client = Client()
    client.force_login(user)
    return client


def _url(name, brand, **kwargs):
    return reverse(f"portal:{name.removeprefix('portal_')}", kwargs={"brand_slug": brand.slug, **kwargs})


def test_influencer_requests_a_withdrawal_in_the_portal(brand_a, funded):
    client = _portal(funded.user)
    page = client.get(_url("portal_withdrawals", brand_a))
    assert page.status_code == 200
    assert "1,000.00" in page.content.decode()

    response = client.post(_url("portal_withdrawals", brand_a), {"amount": "250.00"})
    assert response.status_code == 302
    assert Withdrawal.objects.get().amount_cents == 250_00


def test_portal_shows_a_clear_error_and_changes_nothing_for_a_bad_amount(brand_a, funded):
    response = _portal(funded.user).post(_url("portal_withdrawals", brand_a), {"amount": "12.345"})
    assert response.status_code == 400
    assert "decimal" in response.content.decode()
    assert not Withdrawal.objects.exists()


def test_portal_htmx_returns_the_panel_only(brand_a, funded):
    response = _portal(funded.user).post(
        _url("portal_withdrawals", brand_a), {"amount": "5000"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert 'id="withdrawal-panel"' in body
    assert "<html" not in body


def test_influencers_see_only_their_own_brands_and_money(brand_a, brand_b, funded):
    intruder = MembershipFactory(brand=brand_b, influencer=InfluencerFactory()).influencer
    client = _portal(intruder.user)
    assert client.get(_url("portal_withdrawals", brand_a)).status_code == 404
    assert client.get(_url("portal_statements", brand_a)).status_code == 404
    period = payout_period_for(timezone.localdate())[0].isoformat()
    assert client.get(_url("portal_statement_pdf", brand_a, period=period)).status_code == 404
    assert client.post(_url("portal_withdrawals", brand_a), {"amount": "100"}).status_code == 404
    assert not Withdrawal.objects.exists()
    # Another influencer of the same brand sees their own (empty) balance, never funded's.
    neighbour = MembershipFactory(brand=brand_a, influencer=InfluencerFactory()).influencer
    body = _portal(neighbour.user).get(_url("portal_withdrawals", brand_a)).content.decode()
    assert "1,000.00" not in body


def test_portal_requires_sign_in(brand_a, client):
    response = client.get(_url("portal_withdrawals", brand_a))
    assert response.status_code == 302


def test_statement_html_and_pdf_show_the_withholding(brand_a, funded, finance_a):
    WithholdingRule.objects.create(
        brand=brand_a, name="Retención en la fuente", country="CO", rate=Decimal("10"), effective_from=date(2020, 1, 1)
    )
    w = withdrawal_request_create(influencer=funded, brand=brand_a, amount="400", requested_by=funded.user)
    withdrawal_approve(withdrawal=w, approver=finance_a)
    withdrawal_mark_paid(
        withdrawal=w, actor=finance_a, transfer_reference="TX-9", proof=SimpleUploadedFile("p.pdf", b"%PDF")
    )
    period = payout_period_for(timezone.localtime(timezone.now(), brand_a.tz).date())[0].isoformat()
    client = _portal(funded.user)
    listing = client.get(_url("portal_statements", brand_a)).content.decode()
    assert period in listing
    html = client.get(_url("portal_statement", brand_a, period=period)).content.decode()
    assert "Retención en la fuente" in html
    assert "40.00" in html
    assert "360.00" in html
    pdf = client.get(_url("portal_statement_pdf", brand_a, period=period))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert client.get(_url("portal_statement", brand_a, period="2026-03-02")).status_code == 404


def test_done_when_flow_in_the_admin(brand_a, funded, finance_a, finance_a2, verified_client):
    """Request → two approvals above the threshold → bank file → paid with proof → statement
    shows the withholding → a later return claws back and the next balance shows it."""
    PayoutSettings.objects.create(brand=brand_a, second_approval_threshold_cents=300_00)
    WithholdingRule.objects.create(
        brand=brand_a, name="ReteFuente", country="CO", rate=Decimal("11"), effective_from=date(2020, 1, 1)
    )
    response = _portal(funded.user).post(_url("portal_withdrawals", brand_a), {"all_available": "on"})
    assert response.status_code == 302
    w = Withdrawal.objects.get()
    assert w.approvals_required == 2

    first, second = verified_client(finance_a), verified_client(finance_a2)
    queue = first.get(reverse("admin:payments_withdrawal_changelist"))
    assert queue.status_code == 200
    assert "Totals of the filtered list" in queue.content.decode()
    first.post(reverse("admin:payments_withdrawal_approve", args=[w.pk]))
    assert Withdrawal.objects.get(pk=w.pk).status == "requested"
    second.post(reverse("admin:payments_withdrawal_approve", args=[w.pk]))
    w.refresh_from_db()
    assert w.status == "approved"
    assert w.withholding_cents == 110_00

    start, end = payout_period_for(timezone.localtime(w.requested_at, brand_a.tz).date())
    batch = PayoutBatch.objects.create(brand=brand_a, period_start=start, period_end=end, status="ready")
    Withdrawal.objects.filter(pk=w.pk).update(batch=batch)
    export = first.post(reverse("admin:payments_payoutbatch_bank_file", args=[batch.pk]))
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0]["net_amount"] == "890.00"
    assert AuditEvent.objects.filter(action="payout_batch.bank_file_exported", actor_id=finance_a.pk).exists()

    paid = first.post(
        reverse("admin:payments_withdrawal_pay", args=[w.pk]),
        {"transfer_reference": "BANCO-123", "proof": SimpleUploadedFile("proof.pdf", b"%PDF-1.4")},
    )
    assert paid.status_code == 302
    w.refresh_from_db()
    assert w.status == "paid"
    proof = first.get(reverse("admin:payments_withdrawal_proof", args=[w.pk]), follow=True)
    assert proof.status_code == 200  # through the expiring, audited link

    period = start.isoformat()
    statement = _portal(funded.user).get(_url("portal_statement", brand_a, period=period)).content.decode()
    assert "ReteFuente" in statement
    assert "110.00" in statement

    commission = balances_for(brand=brand_a, influencer=funded)
    assert commission[AccountKind.AVAILABLE] == 0

    ref = CommissionPosition.objects.get(influencer=funded).commission_ref
    ledger_commission_reverse(
        brand=brand_a, influencer=funded, commission_ref=ref, reversal_ref="return-1", amount_cents=150_00
    )
    page = _portal(funded.user).get(_url("portal_withdrawals", brand_a)).content.decode()
    assert "-150.00" in page
    assert ledger_verify() == []


def test_admin_reject_needs_a_reason_and_is_scoped(brand_a, brand_b, funded, finance_a, verified_client):
    w = withdrawal_request_create(influencer=funded, brand=brand_a, amount="100", requested_by=funded.user)
    client = verified_client(finance_a)
    url = reverse("admin:payments_withdrawal_reject", args=[w.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "Duplicated"}).status_code == 302
    assert Withdrawal.objects.get(pk=w.pk).status == "rejected"

    other = MembershipFactory(brand=brand_b, influencer=InfluencerFactory()).influencer
    give_payout_account(other)
    brand_b.min_withdrawal_cents = 1
    brand_b.save()
    make_available(brand_b, other, 10_000)
    wb = withdrawal_request_create(influencer=other, brand=brand_b, amount="10", requested_by=other.user)
    assert client.get(reverse("admin:payments_withdrawal_change", args=[wb.pk])).status_code == 404
    assert client.post(reverse("admin:payments_withdrawal_approve", args=[wb.pk])).status_code == 404
    assert Withdrawal.objects.get(pk=wb.pk).status == "requested"


def test_manager_sees_but_cannot_approve(brand_a, funded, manager_a, verified_client):
    w = withdrawal_request_create(influencer=funded, brand=brand_a, amount="100", requested_by=funded.user)
    client = verified_client(manager_a)
    assert client.get(reverse("admin:payments_withdrawal_changelist")).status_code == 200
    assert client.post(reverse("admin:payments_withdrawal_approve", args=[w.pk])).status_code == 403
    assert Withdrawal.objects.get(pk=w.pk).status == "requested"


def test_ledger_admin_pages_render(brand_a, funded, superuser, verified_client):
    client = verified_client(superuser)
    for name in (
        "ledgertransaction",
        "ledgerentry",
        "ledgeraccount",
        "commissionposition",
        "payoutbatch",
        "withholdingrule",
    ):
        assert client.get(reverse(f"admin:payments_{name}_changelist")).status_code == 200, name


def _api(brand):
    prefix, raw = APIKey.generate()
    APIKey.objects.create(brand=brand, name="bi", prefix=prefix, hashed_key=APIKey.hash_secret(raw), scopes=READ_SCOPES)
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {raw}"
    return client


def test_read_api_is_scoped_to_the_key_brand(brand_a, brand_b, funded):
    withdrawal_request_create(influencer=funded, brand=brand_a, amount="100", requested_by=funded.user)
    client_a, client_b = _api(brand_a), _api(brand_b)

    balances = client_a.get("/api/v1/balances/").json()
    assert balances[0]["available_cents"] == 900_00
    assert balances[0]["reserved_cents"] == 100_00
    assert len(client_a.get("/api/v1/ledger-entries/?account=available").json()["results"]) >= 2
    assert client_a.get("/api/v1/withdrawals/").json()["results"][0]["amount_cents"] == 100_00
    assert client_a.get("/api/v1/payout-batches/").status_code == 200

    assert client_b.get("/api/v1/balances/").json() == []
    assert len(client_b.get("/api/v1/ledger-entries/").json()["results"]) == 0
    assert len(client_b.get("/api/v1/withdrawals/").json()["results"]) == 0
    assert Client().get("/api/v1/balances/").status_code in (401, 403)
