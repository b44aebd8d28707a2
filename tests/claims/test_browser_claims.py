"""Missing sale? in a real browser (Debian's Chromium through Playwright) at 390 px in Spanish,
English and Brazilian Portuguese (and 1280 px in Spanish): a duplicate claim is refused beside
the order number (htmx swapped the 400), a new one is sent with the buyer's message, and the
list shows each claim's status and the brand's answer; nothing is wider than the window.

Screenshots: test-artifacts/claims/claims-<lang>-<width>-{refused,list}.png (not committed)."""

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from affiliates.assignments import campaign_assign_influencer
from claims.models import Claim
from claims.services import claim_accept, claim_reject, claim_submit
from tests.affiliates.test_browser_flow import CHROMIUM_ARGS, sign_in
from tests.claims.conftest import SAMPLE_ORDER_ID, recent_order
from tests.factories import PASSWORD, InfluencerFactory, MembershipFactory, StaffFactory, UserFactory

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "claims"

WORDS = {
    "es": ("¿Falta una venta? Reclámala", "ya tiene un reclamo en revisión", "Reclamo enviado", "En revisión"),
    "en": ("Missing sale? Claim it", "already has a claim under review", "Claim sent", "Under review"),
    "pt-br": ("Falta uma venda? Reclame", "já tem uma reclamação em análise", "Reclamação enviada", "Em análise"),
}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_influencer_claims_missing_sales_in_three_languages(
    live_server: Any, chromium_path: str, setup: dict[str, Any], fake_oms: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    brand, campaign = setup["brand"], setup["campaign"]
    campaign.name = "Verano 2026"
    campaign.save()
    user = UserFactory(email="lucia@example.com", preferred_language="es")
    lucia = MembershipFactory(
        brand=brand, influencer=InfluencerFactory(user=user, display_name="Lucía Gómez")
    ).influencer
    campaign_assign_influencer(campaign=campaign, influencer=lucia)
    manager = StaffFactory(role="Manager", brands=[brand])
    fake_oms.add_order(recent_order())  # Maria's coupon: accepted for Lucía below
    fake_oms.add_order(recent_order(order_id="1500000000010-01", coupon=None))
    accepted = claim_submit(influencer=lucia, campaign=campaign, vtex_order_id=SAMPLE_ORDER_ID)
    claim_accept(claim_id=accepted.pk, reason="El chat del comprador muestra tu enlace.", actor=manager)
    rejected = claim_submit(influencer=lucia, campaign=campaign, vtex_order_id="1500000000011-01")
    claim_reject(claim_id=rejected.pk, reason="VTEX no tiene ese pedido.", actor=manager)
    claim_submit(influencer=lucia, campaign=campaign, vtex_order_id="1500000000010-01")  # open

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    url = f"{base}/portal/{brand.slug}/claims/"
    runs = [("es", 1280), ("es", 390), ("en", 390), ("pt-br", 390)]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            for n, (language, width) in enumerate(runs):
                heading, duplicate, sent, open_label = WORDS[language]
                context = browser.new_context(viewport={"width": width, "height": 900}, locale=language)
                context.add_cookies([{"name": "django_language", "value": language, "url": base}])
                page = context.new_page()
                sign_in(page, base, user.email, PASSWORD, next_path="/portal/")
                page.goto(url)
                expect(page.get_by_role("heading", name=heading)).to_be_visible()

                # An order already under review: refused beside the field, the number kept.
                page.fill("#id_vtex_order_id", "1500000000010-01")
                page.get_by_test_id("claim-form").locator("button[type=submit]").click()
                expect(page.get_by_test_id("vtex_order_id-error")).to_contain_text(duplicate)
                expect(page.locator("#id_vtex_order_id")).to_have_value("1500000000010-01")
                page.screenshot(path=str(ARTIFACTS / f"claims-{language}-{width}-refused.png"), full_page=True)
                scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
                assert scroll <= inner, (language, width, scroll, inner)

                # A new claim with the buyer's message.
                order_id = f"15000000002{n}-01"
                page.fill("#id_vtex_order_id", order_id)
                page.fill("#id_buyer_message", "Me escribió que compró por mi reel.")
                page.get_by_test_id("claim-form").locator("button[type=submit]").click()
                expect(page.get_by_test_id("messages")).to_contain_text(sent)
                row = page.get_by_test_id("claim-row").filter(has_text=order_id)
                expect(row).to_contain_text(open_label)
                expect(page.get_by_test_id("claim-list")).to_contain_text("VTEX no tiene ese pedido.")
                page.screenshot(path=str(ARTIFACTS / f"claims-{language}-{width}-list.png"), full_page=True)
                scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
                assert scroll <= inner, (language, width, scroll, inner)
                context.close()
        finally:
            browser.close()
    assert Claim.objects.filter(influencer=lucia).count() == 3 + len(runs)
