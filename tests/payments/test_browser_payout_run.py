"""The whole payout run in a real browser with the demo data: the demo influencer's queued
withdrawal (above the demo brand's two-approvals threshold) is approved by both demo finance
users (each with 2FA), put in a batch now, its bank file downloaded, the batch marked paid with a
transfer reference and proof (background job with progress), and the paid withdrawal reopened
and its proof downloaded through the audited, expiring link.

Screenshots go to test-artifacts/browser/payout-*.png (not committed)."""

import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from affiliates import demo as affiliates_demo
from audit.models import AuditEvent
from brands import demo as accounts_demo
from brands.models import Brand
from campaigns import demo as campaigns_demo
from payments import demo as payments_demo
from payments.models import PaymentJob, PayoutBatch, Withdrawal
from tests.affiliates.test_browser_flow import CHROMIUM_ARGS, sign_in, totp_now
from tests.fake_vtex import APP_KEY, APP_TOKEN

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PASSWORD = "demo-pass-2026"


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"payout-{name}.png"), full_page=True)


def _finance_signs_in(browser: Any, base: str, email: str) -> Any:
    page = browser.new_context(locale="en-US", accept_downloads=True).new_page()
    sign_in(page, base, email, PASSWORD, next_path="/admin/")
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    page.fill("input[name=token]", totp_now(secret))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    return page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_demo_withdrawal_from_request_to_paid_in_the_admin(
    live_server, chromium_path, fake_vtex, tmp_path, monkeypatch
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    campaigns_demo.seed(out=io.StringIO())
    Brand.objects.filter(slug="demo").update(vtex_app_key=APP_KEY, vtex_app_token=APP_TOKEN)
    accounts_demo.seed(out=io.StringIO())
    affiliates_demo.seed(out=io.StringIO())
    payments_demo.seed(out=io.StringIO())
    withdrawal = Withdrawal.objects.get(brand__slug="demo", status=Withdrawal.Status.REQUESTED)
    assert withdrawal.approvals_required == 2
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proof = tmp_path / "comprobante.pdf"
    proof.write_bytes(b"%PDF-1.4 demo transfer receipt")
    base = live_server.url
    change_url = f"{base}/admin/payments/withdrawal/{withdrawal.pk}/change/"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            # Two approvals from the two demo finance users.
            first = _finance_signs_in(browser, base, "finance@demo.mgm")
            first.goto(change_url)
            _shot(first, "01-requested")
            first.get_by_role("button", name="Approve").click()
            first.wait_for_load_state()
            withdrawal.refresh_from_db()
            assert withdrawal.status == Withdrawal.Status.REQUESTED  # waits for the second approval

            second = _finance_signs_in(browser, base, "finance2@demo.mgm")
            second.goto(change_url)
            second.get_by_role("button", name="Approve").click()
            second.wait_for_load_state()
            _shot(second, "02-approved")
            withdrawal.refresh_from_db()
            assert withdrawal.status == Withdrawal.Status.APPROVED
            assert withdrawal.payout_account_version is not None

            # Batch it now from the withdrawal list (not waiting for the cutoff).
            second.goto(f"{base}/admin/payments/withdrawal/?status__exact=approved")
            second.check(f"input[name=_selected_action][value='{withdrawal.pk}']")
            second.select_option("select[name=action]", "batch_now_selected")
            second.click("button[name=index]")
            second.wait_for_load_state()
            batch = PayoutBatch.objects.get(kind=PayoutBatch.Kind.MANUAL)
            expect(second.get_by_role("link", name="Export bank file")).to_be_visible()
            _shot(second, "03-batch")

            # Download the bank file.
            second.get_by_role("link", name="Export bank file").click()
            with second.expect_download() as bank_download:
                second.click("input[type=submit]")
            bank_file = Path(bank_download.value.path()).read_text("utf-8-sig")
            assert f"MGM-{withdrawal.pk}" in bank_file
            assert AuditEvent.objects.filter(action="payout_batch.bank_file_exported").count() == 1

            # Mark the batch paid with reference and proof; the job's progress page shows it done.
            second.goto(f"{base}/admin/payments/payoutbatch/{batch.pk}/change/")
            second.get_by_role("link", name="Mark batch paid").click()
            second.fill("input[name=transfer_reference]", "BANCO-2026-0001")
            second.set_input_files("input[name=proof]", str(proof))
            _shot(second, "04-pay-form")
            second.click("input[type=submit]")
            expect(second.get_by_test_id("job-status")).to_have_text("Done", timeout=30_000)
            expect(second.get_by_test_id("job-count")).to_have_text("1 / 1")
            _shot(second, "05-paid-progress")
            assert PaymentJob.objects.get().status == PaymentJob.Status.DONE
            withdrawal.refresh_from_db()
            assert withdrawal.status == Withdrawal.Status.PAID

            # Reopen the paid withdrawal (this page used to crash) and download the proof.
            second.goto(change_url)
            expect(second.get_by_text("BANCO-2026-0001").first).to_be_visible()
            _shot(second, "06-paid-withdrawal")
            with second.expect_download() as proof_download:
                second.get_by_role("link", name="Download (link valid for 5 minutes").click()
            assert Path(proof_download.value.path()).read_bytes() == proof.read_bytes()
            assert AuditEvent.objects.filter(action="withdrawal.proof_downloaded").count() == 1
        finally:
            browser.close()
