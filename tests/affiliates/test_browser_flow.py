"""Flows 1 and 2 in a real browser: apply on /join/demo/ → verify the email → a manager approves
in the admin (with 2FA) → the influencer signs in and sees the code on the dashboard.

Screenshots of each step go to test-artifacts/browser/ (not committed)."""

import base64
import io
import re
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django_otp.oath import totp
from playwright.sync_api import expect, sync_playwright

from affiliates import demo as affiliates_demo
from affiliates.models import Membership
from brands import demo as accounts_demo
from brands.models import Brand
from campaigns import demo as campaigns_demo
from codes.models import Code
from tests.affiliates.factories import png_bytes
from tests.fake_vtex import APP_KEY, APP_TOKEN

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MANAGER = ("manager@demo.mgm", "demo-pass-2026")
APPLICANT_EMAIL = "valentina@example.com"
APPLICANT_PASSWORD = "mi-clave-segura-2026"


def totp_now(secret: str) -> str:
    padded = secret + "=" * (-len(secret) % 8)
    return f"{totp(base64.b32decode(padded)):06d}"


def sign_in(page: Any, base: str, email: str, password: str, next_path: str = "") -> None:
    page.goto(f"{base}/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_apply_verify_approve_and_see_the_code(live_server, chromium_path, fake_vtex, tmp_path, monkeypatch):
    # Sync Playwright runs an event loop in this thread; scoped to this test so the variable
    # does not leak into later tests (check --deploy refuses it).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    # The demo data of `make run` that this flow needs (brand, campaign, staff, policies).
    campaigns_demo.seed(out=io.StringIO())
    # The demo store's VTEX is the fake one here (tests/fake_vtex.py and its credentials).
    Brand.objects.filter(slug="demo").update(vtex_app_key=APP_KEY, vtex_app_token=APP_TOKEN)
    accounts_demo.seed(out=io.StringIO())
    affiliates_demo.seed(out=io.StringIO())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    identity = tmp_path / "cedula.png"
    identity.write_bytes(png_bytes((300, 200)))
    base = live_server.url

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            # 1. Apply on the demo brand's join page.
            applicant = browser.new_context(locale="es-CO")
            page = applicant.new_page()
            page.goto(f"{base}/join/demo/")
            expect(page.get_by_test_id("join-form")).to_be_visible()
            page.fill("#id_full_name", "Valentina Ríos")
            page.fill("#id_email", APPLICANT_EMAIL)
            page.fill("#id_password1", APPLICANT_PASSWORD)
            page.fill("#id_password2", APPLICANT_PASSWORD)
            # htmx replaces the document types when the country changes: wait until it has
            # settled, or the swap may land after (and undo) the choice below.
            page.evaluate(
                "() => { window.__settled = false; document.body.addEventListener("
                "'htmx:afterSettle', () => { window.__settled = true }, {once: true}) }"
            )
            page.select_option("#id_country", "CO")
            page.wait_for_function("() => window.__settled")
            expect(page.locator("#id_document_type option[value=CO_CC]")).to_have_count(1)
            page.select_option("#id_document_type", "CO_CC")
            page.fill("#id_document_number", "1.098.765.432")
            page.fill("#id_phone", "+57 301 222 3344")
            page.fill("#id_instagram", "@valenrios")
            page.fill("#id_audience_size", "32000")
            page.check("#id_accept_terms")
            page.check("#id_accept_privacy")
            page.screenshot(path=str(ARTIFACTS / "01-join-form.png"), full_page=True)
            page.get_by_test_id("join-submit").click()
            # Step 2: the identity document.
            expect(page.locator("[data-step='2']")).to_be_visible()
            page.set_input_files("#id_identity_document", str(identity))
            page.get_by_test_id("join-submit").click()
            expect(page.get_by_test_id("join-done")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "02-application-sent.png"), full_page=True)
            membership = Membership.objects.get(influencer__user__email=APPLICANT_EMAIL)
            assert membership.status == "pending"

            # 2. Verify the email with the link allauth sent.
            [verification] = [m for m in mail.outbox if m.to == [APPLICANT_EMAIL]]
            link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", verification.body).group(0)
            page.goto(link)
            page.click("main form button[type=submit]")
            page.wait_for_load_state()
            page.screenshot(path=str(ARTIFACTS / "03-email-verified.png"), full_page=True)

            assert EmailAddress.objects.get(email=APPLICANT_EMAIL).verified

            # 3. A manager enrols in 2FA, sees the application and approves it with the campaign.
            staff = browser.new_context(locale="en-US")
            admin = staff.new_page()
            sign_in(admin, base, *MANAGER, next_path="/admin/")
            secret = admin.get_by_test_id("totp-secret").inner_text().strip()
            admin.screenshot(path=str(ARTIFACTS / "04a-manager-2fa.png"), full_page=True)
            admin.fill("input[name=token]", totp_now(secret))
            admin.click("main form button[type=submit]")
            admin.wait_for_load_state()
            admin.screenshot(path=str(ARTIFACTS / "04b-after-2fa.png"), full_page=True)
            admin.goto(f"{base}/admin/")
            expect(admin.get_by_test_id("pending-applications")).to_have_text("2")  # the demo's + ours
            admin.screenshot(path=str(ARTIFACTS / "04-admin-pending-counter.png"), full_page=True)
            admin.goto(f"{base}/admin/affiliates/membership/?status__exact=pending")
            admin.get_by_role("link", name="Valentina Ríos").first.click()
            admin.get_by_test_id("decision-approve").click()
            admin.get_by_label("Lanzamiento").check()
            admin.screenshot(path=str(ARTIFACTS / "05-admin-approve.png"), full_page=True)
            admin.get_by_test_id("decision-submit").click()
            admin.wait_for_load_state()
            admin.screenshot(path=str(ARTIFACTS / "06-admin-approved.png"), full_page=True)
            membership.refresh_from_db()
            assert membership.status == "approved"
            code = Code.objects.get(influencer=membership.influencer)
            assert code.text in fake_vtex.coupons  # synced to (the fake) VTEX by the worker
            assert any(m.to == [APPLICANT_EMAIL] and code.text in m.body for m in mail.outbox)

            # 4. The influencer signs in and finds the code on the dashboard.
            sign_in(page, base, APPLICANT_EMAIL, APPLICANT_PASSWORD, next_path="/portal/")
            expect(page.get_by_test_id("dashboard-code")).to_have_text(code.text)
            page.screenshot(path=str(ARTIFACTS / "07-portal-dashboard.png"), full_page=True)
        finally:
            browser.close()
