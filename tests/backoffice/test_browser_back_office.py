"""The back office in a real browser, in Spanish, on a laptop (1280 px) and a phone (390 px),
with the demo data: the manager finds the work grouped and no internals, is offered no payout
decision and, forcing one, gets a translated refusal with a way back; runs a job and watches it
finish; finance sees its queues and decides a withdrawal with its context; the language switcher
in the admin header changes the language.

Screenshots go to test-artifacts/browser/backoffice-*.png (not committed)."""

import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from affiliates import demo as affiliates_demo
from backoffice.models import OperatorJob
from brands import demo as accounts_demo
from campaigns import demo as campaigns_demo
from payments import demo as payments_demo
from payments.models import Withdrawal
from tests.affiliates.test_browser_flow import CHROMIUM_ARGS, sign_in, totp_now

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PASSWORD = "demo-pass-2026"
INTERNALS = ["TOTP", "Sitios", "Tareas periódicas", "Movimientos del libro", "Sistema"]


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"backoffice-{name}.png"), full_page=True)


def _signs_in(browser: Any, base: str, email: str, width: int, locale: str = "es-ES") -> Any:
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, base, email, PASSWORD, next_path="/admin/")
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    page.fill("input[name=token]", totp_now(secret))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    return page


def _right_edge(page: Any, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return float(box["x"] + box["width"])


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_manager_and_finance_run_the_back_office_in_spanish(live_server, chromium_path, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    campaigns_demo.seed(out=io.StringIO())
    accounts_demo.seed(out=io.StringIO())
    affiliates_demo.seed(out=io.StringIO())
    payments_demo.seed(out=io.StringIO())
    withdrawal = Withdrawal.objects.get(brand__slug="demo", status=Withdrawal.Status.REQUESTED)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    change_url = f"{base}/admin/payments/withdrawal/{withdrawal.pk}/change/"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            # --- The manager, on a laptop ---------------------------------------------------
            manager = _signs_in(browser, base, "manager@demo.mgm", 1280)
            manager.goto(f"{base}/admin/")
            nav = manager.locator("#content-main")
            for group in ["Influencers", "Campañas y códigos", "Pedidos y comisiones", "Pagos", "Configuración"]:
                expect(nav.locator(f'caption a.section:text-is("{group}")')).to_be_visible()
            text = manager.locator("body").inner_text()
            for internal in INTERNALS:
                assert internal not in text, internal
            expect(manager.get_by_test_id("queue-applications")).to_be_visible()
            expect(manager.get_by_test_id("queue-approve")).to_have_count(0)
            _shot(manager, "01-manager-index-1280")

            # The list's decision columns are on screen at 1280 px.
            manager.goto(f"{base}/admin/payments/withdrawal/")
            assert _right_edge(manager, "th.column-status") <= 1280
            assert _right_edge(manager, "th.column-approvals_display") <= 1280
            _shot(manager, "02-manager-withdrawals-1280")

            # No payout decision is offered; forcing one gets a translated refusal with a way back.
            manager.goto(change_url)
            expect(manager.get_by_test_id("withdrawal-approve")).to_have_count(0)
            expect(manager.get_by_test_id("withdrawal-pay")).to_have_count(0)
            manager.goto(f"{base}/admin/payments/withdrawal/{withdrawal.pk}/reject/")
            expect(manager.get_by_test_id("refusal")).to_contain_text("No puedes hacer esto")
            _shot(manager, "03-manager-refused-1280")
            manager.get_by_role("link", name="Inicio del back office").click()
            manager.wait_for_load_state()
            assert manager.url.rstrip("/").endswith("/admin")
            withdrawal.refresh_from_db()
            assert withdrawal.status == Withdrawal.Status.REQUESTED

            # A job that needed manage.py: rebuild the reports of a period, with its progress.
            manager.goto(f"{base}/admin/backoffice/operatorjob/run/")
            manager.select_option("select[name=kind]", "rollups_rebuild")
            manager.select_option("select[name=brand]", label="Demo Store")
            manager.fill("input[name=date_from]", "2026-01-01")
            manager.fill("input[name=date_to]", "2026-01-31")
            manager.get_by_test_id("run-job-start").click()
            manager.wait_for_load_state()
            expect(manager.get_by_test_id("job-status")).to_have_text("Terminada", timeout=20_000)
            expect(manager.get_by_test_id("job-result")).to_contain_text("Reportes reconstruidos")
            assert OperatorJob.objects.get().status == OperatorJob.Status.DONE
            _shot(manager, "04-manager-job-1280")

            # The language switcher in the header.
            manager.goto(f"{base}/admin/")
            manager.select_option("#user-tools select[name=language]", "en")
            manager.wait_for_load_state()
            expect(manager.locator('#content-main caption a.section:text-is("Orders & commissions")')).to_be_visible()

            # --- Finance, on a phone --------------------------------------------------------
            finance = _signs_in(browser, base, "finance@demo.mgm", 390)
            finance.goto(f"{base}/admin/")
            expect(finance.get_by_test_id("queue-approve")).to_be_visible()
            expect(finance.get_by_test_id("queue-applications")).to_have_count(0)
            _shot(finance, "05-finance-index-390")
            finance.goto(f"{base}/admin/payments/withdrawal/")
            # A wide list scrolls inside its box; the page itself does not grow sideways.
            overflow = finance.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            wide = finance.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)"
                ".slice(0, 6).map(e => e.tagName + '#' + e.id + '.' + e.className)"
            )
            assert overflow <= 1, (overflow, wide)
            _shot(finance, "06-finance-withdrawals-390")
            finance.goto(change_url)
            context_panel = finance.get_by_test_id("withdrawal-context")
            expect(context_panel).to_be_visible()
            expect(context_panel).to_contain_text("Saldos con esta marca")
            expect(finance.get_by_test_id("context-approvals")).to_contain_text("Faltan 2 aprobaciones")
            _shot(finance, "07-finance-withdrawal-390")
            finance.get_by_test_id("withdrawal-approve").click()
            finance.wait_for_load_state()
            assert withdrawal.approvals.count() == 1
            expect(finance.get_by_test_id("context-approvals")).to_contain_text("Falta 1 aprobación")
            _shot(finance, "08-finance-approved-once-390")
        finally:
            browser.close()


# What a manager must read in English and Brazilian Portuguese: the work groups, the refusal, the
# money of the demo withdrawal (COP 60.000,00 in major units, never 6000000) and no internals.
LANGUAGES = {
    "en": {
        "locale": "en-US",
        "groups": ["Influencers", "Campaigns & codes", "Orders & commissions", "Payouts", "Settings"],
        "internals": ["TOTP", "Sites", "Periodic tasks", "Ledger movements", "System"],
        "refusal": "You cannot do this",
        "money": "60,000.00",
        "balances": "Balances with this brand",
        "switch_to": ("es", "Pedidos y comisiones"),
    },
    "pt-br": {
        "locale": "pt-BR",
        "groups": ["Influencers", "Campanhas e cupons", "Pedidos e comissões", "Pagamentos", "Configurações"],
        "internals": ["TOTP", "Sites", "Tarefas periódicas", "Movimentos do livro", "Sistema"],
        "refusal": "Você não pode fazer isto",
        "money": "60.000,00",
        "balances": "Saldos com esta marca",
        "switch_to": ("en", "Orders & commissions"),
    },
}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", list(LANGUAGES))
def test_manager_and_finance_read_the_back_office_in_english_and_portuguese(
    live_server, chromium_path, monkeypatch, language
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    words = LANGUAGES[language]
    campaigns_demo.seed(out=io.StringIO())
    accounts_demo.seed(out=io.StringIO())
    affiliates_demo.seed(out=io.StringIO())
    payments_demo.seed(out=io.StringIO())
    withdrawal = Withdrawal.objects.get(brand__slug="demo", status=Withdrawal.Status.REQUESTED)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            manager = _signs_in(browser, base, "manager@demo.mgm", 1280, words["locale"])
            manager.goto(f"{base}/admin/")
            assert manager.locator("html").get_attribute("lang") == language
            for group in words["groups"]:
                expect(manager.locator(f'#content-main caption a.section:text-is("{group}")')).to_be_visible()
            text = manager.locator("body").inner_text()
            for internal in words["internals"]:
                assert internal not in text, internal
            _shot(manager, f"{language}-01-manager-index-1280")

            manager.goto(f"{base}/admin/payments/withdrawal/")
            listing = manager.locator("#result_list").inner_text()
            assert words["money"] in listing
            assert "6000000" not in listing
            _shot(manager, f"{language}-02-manager-withdrawals-1280")

            manager.goto(f"{base}/admin/payments/withdrawal/{withdrawal.pk}/reject/")
            expect(manager.get_by_test_id("refusal")).to_contain_text(words["refusal"])
            _shot(manager, f"{language}-03-manager-refused-1280")
            withdrawal.refresh_from_db()
            assert withdrawal.status == Withdrawal.Status.REQUESTED

            other, heading = words["switch_to"]
            manager.goto(f"{base}/admin/")
            manager.select_option("#user-tools select[name=language]", other)
            manager.wait_for_load_state()
            expect(manager.locator(f'#content-main caption a.section:text-is("{heading}")')).to_be_visible()

            finance = _signs_in(browser, base, "finance@demo.mgm", 390, words["locale"])
            finance.goto(f"{base}/admin/payments/withdrawal/{withdrawal.pk}/change/")
            expect(finance.get_by_test_id("withdrawal-context")).to_contain_text(words["balances"])
            expect(finance.get_by_test_id("withdrawal-approve")).to_be_visible()
            page_text = finance.locator("#content").inner_text()
            assert words["money"] in page_text
            assert "6000000" not in page_text
            _shot(finance, f"{language}-04-finance-withdrawal-390")
        finally:
            browser.close()
