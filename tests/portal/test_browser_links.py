"""My links in a real browser (Debian's Chromium through Playwright), in Spanish, at 1280 and
390 px: an address off the store is refused beside the field (htmx swapped the 400); a product
page becomes a link; a click on it over real HTTP reaches its numbers on the list and on its
own page, with the chart; nothing is wider than the window.

Screenshots go to test-artifacts/portal/links-es-<width>-<step>.png (not committed)."""

import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from affiliates.assignments import campaign_assign_influencer
from tests.affiliates.test_browser_flow import CHROMIUM_ARGS, sign_in
from tests.factories import PASSWORD, CampaignFactory, InfluencerFactory, MembershipFactory, UserFactory
from tests.tracking.conftest import BROWSER, drain_all
from tracking.models import Link

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "portal"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _click(url: str) -> int:
    """A shopper's click on the short link, over HTTP, without following it to the store."""
    headers = {k[5:].replace("_", "-").title(): v for k, v in BROWSER.items()}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310  (the live server's http URL)
    try:
        return urllib.request.build_opener(_NoRedirect()).open(request).status
    except urllib.error.HTTPError as answer:
        return answer.code


def _fits(page: Any) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_influencer_makes_a_link_and_sees_its_numbers(
    live_server: Any, chromium_path: str, brand_a: Any, settings: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    settings.TRACKING_BUFFER = "spool"
    settings.TRACKING_SPOOL_DIR = str(tmp_path / "spool")
    settings.TRACKING_LINK_L1_SECONDS = 0
    campaign = CampaignFactory(brand=brand_a, name="Verano 2026")
    user = UserFactory(email="ana@example.com", preferred_language="es")
    influencer = MembershipFactory(
        brand=brand_a, influencer=InfluencerFactory(user=user, display_name="Ana Ríos")
    ).influencer
    campaign_assign_influencer(campaign=campaign, influencer=influencer)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    links_page = f"{base}/portal/{brand_a.slug}/links/"
    made = 0

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            for width in (1280, 390):
                context = browser.new_context(viewport={"width": width, "height": 900}, locale="es")
                context.add_cookies([{"name": "django_language", "value": "es", "url": base}])
                page = context.new_page()
                sign_in(page, base, user.email, PASSWORD, next_path="/portal/")
                page.goto(links_page)
                expect(page.get_by_role("heading", name="Mis enlaces")).to_be_visible()

                # Off the store: refused beside the field, what was typed kept, nothing made.
                page.fill("#id_destination_url", "https://otra-tienda.example/zapatos")
                page.get_by_test_id("link-form").locator("button[type=submit]").click()
                error = page.get_by_test_id("destination_url-error")
                expect(error).to_contain_text("no es uno de los dominios de la tienda")
                expect(page.get_by_test_id("form-errors")).to_be_visible()
                expect(page.locator("#id_destination_url")).to_have_value("https://otra-tienda.example/zapatos")
                page.screenshot(path=str(ARTIFACTS / f"links-es-{width}-refused.png"), full_page=True)
                assert Link.objects.count() == made
                scroll, inner = _fits(page)
                assert scroll <= inner, (width, scroll, inner)

                # A product page: the link is made and its page opens.
                product = f"https://www.{brand_a.slug}.example/tenis-runner-{width}/p"
                page.fill("#id_destination_url", product)
                page.fill("#id_label", f"Reel tenis {width}")
                page.get_by_test_id("link-form").locator("button[type=submit]").click()
                expect(page.get_by_test_id("link-heading")).to_have_text(f"Reel tenis {width}")
                expect(page.get_by_test_id("messages")).to_contain_text("Tu enlace está listo")
                link = Link.objects.get(destination_url=product)
                short = page.get_by_test_id("link-url").input_value()
                assert short.endswith(f"/r/{link.slug}")

                # A shopper clicks it (real HTTP); the drain stores it and the rollups follow.
                assert _click(f"{base}/r/{link.slug}") == 302
                assert drain_all() == 1
                page.reload()
                expect(page.get_by_test_id("kpi-clicks")).to_have_text("1")
                expect(page.get_by_test_id("kpi-conversion")).to_have_text("0,0 %")
                expect(page.get_by_test_id("link-chart")).to_be_visible()
                expect(page.locator(".qr svg")).to_be_visible()
                page.screenshot(path=str(ARTIFACTS / f"links-es-{width}-link.png"), full_page=True)
                scroll, inner = _fits(page)
                assert scroll <= inner, (width, scroll, inner)

                # The list shows it with its numbers and small chart; the period changes in place.
                page.goto(links_page)
                card = page.get_by_test_id("link-card").filter(has_text=f"Reel tenis {width}")
                expect(card.get_by_test_id("link-clicks")).to_have_text("1")
                expect(card.get_by_test_id("link-orders")).to_have_text("0")
                page.select_option("#id_period", "7d")
                expect(page.locator("#link-list")).to_contain_text("Últimos 7 días")
                expect(card.get_by_test_id("link-clicks")).to_have_text("1")
                page.screenshot(path=str(ARTIFACTS / f"links-es-{width}-list.png"), full_page=True)
                scroll, inner = _fits(page)
                assert scroll <= inner, (width, scroll, inner)
                made += 1
                context.close()
        finally:
            browser.close()
