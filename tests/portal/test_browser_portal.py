"""Every portal page in a real browser (Debian's Chromium through Playwright), in es, en and
pt-BR, at 1280 and 390 px wide, with the demo data:

- no page is wider than the window (document scrollWidth ≤ viewport width);
- the balances read the same on the dashboard, earnings, withdrawals and statements;
- a withdrawal below the minimum shows its error on the page (htmx swaps the 400), a valid one
  shows its confirmation;
- a code VTEX rejected reads as rejected, without copy or QR buttons.

Screenshots go to test-artifacts/portal/<language>-<width>-<page>.png (not committed)."""

import io
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from playwright.sync_api import expect, sync_playwright

from accounts.models import User
from affiliates import demo as affiliates_demo
from brands import demo as accounts_demo
from brands.models import Brand
from campaigns import demo as campaigns_demo
from codes import demo as codes_demo
from codes.models import Code
from core.money import format_typed
from creatives import demo as creatives_demo
from payments import demo as payments_demo
from payments.models import Withdrawal
from payments.services import withdrawal_reject
from tests.affiliates.test_browser_flow import CHROMIUM_ARGS, sign_in
from tests.fake_vtex import APP_KEY, APP_TOKEN

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "portal"
PASSWORD = "demo-pass-2026"
# One demo influencer per language, so each makes its own valid withdrawal request.
PEOPLE = {"es": "joao@demo.mgm", "en": "lucia@demo.mgm", "pt-br": "maria@demo.mgm"}
WIDTHS = (1280, 390)
PAGES = [
    "",
    "codes/",
    "links/",
    "creatives/",
    "orders/",
    "earnings/",
    "withdrawals/",
    "statements/",
    "profile/",
    "payout/",
    "security/",
]
BALANCE_PAGES = ["", "earnings/", "withdrawals/", "statements/"]


def _name(path: str) -> str:
    return path.strip("/").replace("/", "-") or "dashboard"


def _fits(page: Any) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def _balances(page: Any) -> dict[str, str]:
    return page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('[data-balance]')]"
        ".map(e => [e.dataset.balance, e.textContent.trim()]))"
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_portal_pages_in_three_languages_at_desktop_and_phone_widths(
    live_server, chromium_path, fake_vtex, monkeypatch
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    campaigns_demo.seed(out=io.StringIO())
    Brand.objects.filter(slug="demo").update(vtex_app_key=APP_KEY, vtex_app_token=APP_TOKEN)
    accounts_demo.seed(out=io.StringIO())
    affiliates_demo.seed(out=io.StringIO())
    codes_demo.seed(out=io.StringIO())
    payments_demo.seed(out=io.StringIO())
    creatives_demo.seed(out=io.StringIO())
    brand = Brand.objects.get(slug="demo")
    # María's queued withdrawal goes back, so she can ask for one too (one open at a time).
    for open_one in Withdrawal.objects.filter(brand=brand, status=Withdrawal.Status.REQUESTED):
        withdrawal_reject(
            withdrawal=open_one, actor=User.objects.get(email="admin@demo.mgm"), reason="Demo: datos revisados"
        )
    # One code of each person is one VTEX refused.
    for email in PEOPLE.values():
        code = Code.objects.filter(brand=brand, influencer__user__email=email).first()
        assert code is not None
        Code.objects.filter(pk=code.pk).update(
            vtex_state="", sync_status=Code.SyncStatus.FAILED, last_sync_error="409 Conflict: coupon already exists"
        )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    portal = f"{base}/portal/{brand.slug}/"
    too_wide: list[str] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            for language, email in PEOPLE.items():
                with translation.override(language):
                    minimum = format_typed(brand.min_withdrawal_cents, brand.currency)
                    below = format_typed(brand.min_withdrawal_cents // 10, brand.currency)
                for width in WIDTHS:
                    context = browser.new_context(
                        viewport={"width": width, "height": 900}, locale={"pt-br": "pt-BR"}.get(language, language)
                    )
                    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
                    page = context.new_page()
                    sign_in(page, base, email, PASSWORD, next_path="/portal/")
                    shown = {}
                    for path in PAGES:
                        page.goto(portal + path)
                        page.wait_for_load_state()
                        assert page.locator("html").get_attribute("lang") == language
                        scroll, inner = _fits(page)
                        if scroll > inner:
                            too_wide.append(f"{language} {width}px {path or 'dashboard'}: {scroll} > {inner}")
                        page.screenshot(path=str(ARTIFACTS / f"{language}-{width}-{_name(path)}.png"), full_page=True)
                        if path in BALANCE_PAGES:
                            shown[path or "dashboard"] = _balances(page)
                    # One balance truth: the same numbers on every page.
                    values = list(shown.values())
                    assert values[0], shown
                    assert all(v == values[0] for v in values), shown

                    # The rejected code reads as rejected, with no copy button.
                    page.goto(portal + "codes/")
                    rejected = page.get_by_test_id("code-rejected").first
                    expect(rejected).to_be_visible()
                    expect(rejected.locator("button.copy")).to_have_count(0)

                    # Below the minimum: the error appears on the page (htmx swapped the 400).
                    page.goto(portal + "withdrawals/")
                    page.fill("#id_amount", below)
                    page.get_by_test_id("withdrawal-form").locator("button[type=submit]").click()
                    expect(page.get_by_test_id("amount-error")).to_be_visible()
                    expect(page.get_by_test_id("form-errors")).to_be_visible()
                    expect(page.locator("#id_amount")).to_have_value(below)
                    page.screenshot(path=str(ARTIFACTS / f"{language}-{width}-withdrawal-error.png"), full_page=True)
                    if width == 390:
                        # A valid request: the confirmation shows in the messages region.
                        page.fill("#id_amount", minimum)
                        page.get_by_test_id("withdrawal-form").locator("button[type=submit]").click()
                        expect(page.get_by_test_id("messages")).to_be_visible()
                        expect(page.locator("[data-balance=reserved]").first).not_to_have_text(values[0]["reserved"])
                        page.screenshot(path=str(ARTIFACTS / f"{language}-{width}-withdrawal-done.png"), full_page=True)
                        scroll, inner = _fits(page)
                        assert scroll <= inner
                    context.close()
        finally:
            browser.close()
    assert not too_wide, too_wide
    assert Withdrawal.objects.filter(brand=brand, status=Withdrawal.Status.REQUESTED).count() == len(PEOPLE)
