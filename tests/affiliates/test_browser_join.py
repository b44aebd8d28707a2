"""The join page in a real browser at 390 px, in Spanish: the offer first, the document types
following the country (htmx), step 1 with an error (inputs kept), step 2 with an error ("choose
the file again"), then sent. Screenshots: test-artifacts/browser/join-*-390-es.png."""

import io
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from affiliates import demo as affiliates_demo
from affiliates.models import Membership
from campaigns import demo as campaigns_demo
from tests.affiliates.factories import png_bytes
from tests.affiliates.test_browser_flow import ARTIFACTS, CHROMIUM_ARGS

PASSWORD = "mi-clave-segura-2026"


def no_overflow(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide at 390px"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_join_in_two_steps_on_a_phone_in_spanish(live_server, chromium_path, tmp_path, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    campaigns_demo.seed(out=io.StringIO())
    affiliates_demo.seed(out=io.StringIO())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    identity = tmp_path / "cedula.png"
    identity.write_bytes(png_bytes((300, 200)))
    fake = tmp_path / "cedula.pdf"
    fake.write_bytes(b"MZ not a pdf")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="es-CO", viewport={"width": 390, "height": 844})
            page = context.new_page()
            page.goto(f"{live_server.url}/join/demo/?campaign=lanzamiento")
            offer = page.get_by_test_id("join-offer")
            expect(offer).to_contain_text("Lanzamiento")
            expect(page.get_by_test_id("offer-commission")).to_contain_text("10 % de cada venta")
            expect(page.get_by_test_id("offer-minimum")).to_have_text("COP 50.000,00")
            expect(page.get_by_test_id("join-steps")).to_be_visible()
            no_overflow(page)

            # The document types follow the country (htmx), no duplicates.
            page.select_option("#id_country", "PE")
            expect(page.locator("#id_document_type option[value=PE_RUC]")).to_have_count(1)
            values = page.eval_on_selector_all("#id_document_type option", "els => els.map(e => e.value)")
            assert values == ["", "PE_DNI", "PE_RUC"]
            page.select_option("#id_country", "CO")
            expect(page.locator("#id_document_type option[value=CO_NIT]")).to_have_count(1)

            page.fill("#id_full_name", "Valentina Ríos")
            page.fill("#id_email", "valentina@example.com")
            page.fill("#id_password1", PASSWORD)
            page.fill("#id_password2", PASSWORD + "x")  # a mistake
            page.select_option("#id_document_type", "CO_CC")
            page.fill("#id_document_number", "1.098.765.432")
            page.fill("#id_phone", "+57 301 222 3344")
            page.fill("#id_instagram", "@valenrios")
            page.fill("#id_audience_size", "32000")
            page.check("#id_accept_terms")
            page.check("#id_accept_privacy")
            page.screenshot(path=str(ARTIFACTS / "join-step1-390-es.png"), full_page=True)
            page.get_by_test_id("join-submit").click()
            expect(page.get_by_test_id("join-errors")).to_contain_text("Revisa los campos marcados")
            assert page.input_value("#id_email") == "valentina@example.com"  # kept
            assert page.input_value("#id_password1") == PASSWORD  # kept
            page.screenshot(path=str(ARTIFACTS / "join-step1-error-390-es.png"), full_page=True)
            no_overflow(page)
            page.fill("#id_password2", PASSWORD)
            page.get_by_test_id("join-submit").click()

            # Step 2: the documents.
            expect(page.locator("[data-step='2']")).to_be_visible()
            expect(page.locator(".messages")).to_contain_text("Tu cuenta está creada")
            no_overflow(page)
            page.screenshot(path=str(ARTIFACTS / "join-step2-390-es.png"), full_page=True)
            page.set_input_files("#id_identity_document", str(fake))
            page.get_by_test_id("join-submit").click()
            expect(page.get_by_test_id("file-again").first).to_contain_text("Vuelve a elegir el archivo")
            page.screenshot(path=str(ARTIFACTS / "join-step2-error-390-es.png"), full_page=True)
            page.set_input_files("#id_identity_document", str(identity))
            page.get_by_test_id("join-submit").click()
            expect(page.get_by_test_id("join-done")).to_be_visible()
            membership = Membership.objects.get(influencer__user__email="valentina@example.com")
            assert membership.status == "pending"
            assert membership.campaign is not None
            assert membership.campaign.slug == "lanzamiento"
        finally:
            browser.close()
