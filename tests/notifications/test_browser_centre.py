"""The notification centre in a real browser (Debian's Chromium through Playwright) at 390 px,
in English and Spanish: the unread count leads to the centre, one notice and then all are
marked read in place (htmx), and nothing is wider than the phone.

Screenshots go to test-artifacts/notifications/<language>-<step>.png (not committed)."""

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from core import events
from notifications.models import Notification
from payments.services import withdrawal_reject, withdrawal_request_create
from tests.affiliates.test_browser_flow import CHROMIUM_ARGS, sign_in
from tests.factories import PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "notifications"


def _fits(page: Any) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_centre_at_phone_width(
    live_server: Any, chromium_path: str, brand_a: Any, funded: Any, finance_a: Any, monkeypatch: Any, language: str
) -> None:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    funded.user.preferred_language = language
    funded.user.save(update_fields=["preferred_language"])
    withdrawal = withdrawal_request_create(influencer=funded, brand=brand_a, amount="100", requested_by=funded.user)
    withdrawal_reject(
        withdrawal=withdrawal, actor=finance_a, reason="La cuenta bancaria no coincide con el titular del documento"
    )
    for number in (1, 2):
        events.publish(
            "commission.confirmed",
            brand_id=brand_a.pk,
            data={
                "id": 9000 + number,
                "order_id": f"1415461749731-0{number}",
                "influencer_id": funded.pk,
                "currency": brand_a.currency,
                "amount_cents": 123_456_78,
                "reversed_cents": 0,
            },
        )
    assert Notification.objects.filter(influencer=funded, read_at__isnull=True).count() == 4
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, locale=language)
            context.add_cookies([{"name": "django_language", "value": language, "url": base}])
            page = context.new_page()
            sign_in(page, base, funded.user.email, PASSWORD, next_path="/portal/acme/")
            expect(page.get_by_test_id("unread-link")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / f"{language}-dashboard.png"), full_page=True)
            page.get_by_test_id("unread-link").click()
            page.wait_for_load_state()
            expect(page.get_by_test_id("notification")).to_have_count(4)
            expect(page.locator("li.unread")).to_have_count(4)
            scroll, inner = _fits(page)
            assert scroll <= inner, (scroll, inner)
            page.screenshot(path=str(ARTIFACTS / f"{language}-centre.png"), full_page=True)

            page.get_by_test_id("mark-read").first.click()
            expect(page.locator("li.unread")).to_have_count(3)
            page.get_by_test_id("mark-all-read").click()
            expect(page.locator("li.unread")).to_have_count(0)
            expect(page.get_by_test_id("mark-all-read")).to_have_count(0)
            scroll, inner = _fits(page)
            assert scroll <= inner, (scroll, inner)
            page.screenshot(path=str(ARTIFACTS / f"{language}-all-read.png"), full_page=True)
            context.close()
        finally:
            browser.close()
    assert not Notification.objects.filter(influencer=funded, read_at__isnull=True).exists()
