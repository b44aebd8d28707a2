"""The portal's money pages: errors and confirmations where the person looks (htmx and plain
POST), amounts typed in the reader's format, one balance on every page (a property over random
ledgers), statements that name orders, and exports of one's own data."""

import contextlib
import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from core.errors import ApplicationError
from core.money import format_minor
from orders.services import order_apply
from payments.models import LedgerTransaction, Withdrawal
from payments.selectors import influencer_balance_get, statement_build
from payments.services import (
    ledger_commission_accrue,
    ledger_commission_confirm,
    ledger_commission_reverse,
    withdrawal_request_create,
)
from payments.services.cutoff import payout_period_for
from tests.factories import InfluencerFactory, MembershipFactory
from tests.orders.conftest import COUPON, SAMPLE_ORDER_ID, campaign_a, code_maria, maria, order_doc, setup  # noqa: F401
from tests.payments.conftest import give_payout_account, make_available

pytestmark = pytest.mark.django_db

BALANCE = re.compile(r'data-balance="(\w+)">([^<]*)<')


def _client(user: Any, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def _url(name: str, brand: Any, **kwargs: Any) -> str:
    return reverse(f"portal:{name}", kwargs={"brand_slug": brand.slug, **kwargs})


def _balances(html: str) -> dict[str, str]:
    return dict(BALANCE.findall(html))


@pytest.fixture
def funded(brand_a: Any) -> Any:
    """An approved influencer with COP 1.000,00 available, minimum COP 500,00."""
    brand_a.min_withdrawal_cents = 500_00
    brand_a.save(update_fields=["min_withdrawal_cents"])
    influencer = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(), status="approved").influencer
    give_payout_account(influencer)
    make_available(brand_a, influencer, 1_000_00)
    return influencer


# --- Errors and confirmations -----------------------------------------------------------------


def test_below_the_minimum_htmx_gets_the_panel_with_the_error_beside_the_field(brand_a, funded):
    before = influencer_balance_get(brand=brand_a, influencer=funded)
    response = _client(funded.user).post(_url("withdrawals", brand_a), {"amount": "100.00"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400  # swapped by htmx (responseHandling in base.html)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="portal-messages"')  # out-of-band region first
    assert 'data-testid="form-errors"' in body
    error = body.split('data-testid="amount-error"')[1].split("</ul>")[0]
    assert "minimum" in error.lower()
    assert 'value="100.00"' in body  # what was typed stays
    assert not Withdrawal.objects.exists()
    assert influencer_balance_get(brand=brand_a, influencer=funded) == before


def test_below_the_minimum_without_javascript_re_renders_the_page_with_the_error(brand_a, funded):
    response = _client(funded.user).post(_url("withdrawals", brand_a), {"amount": "100.00"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "<html" in body
    assert 'data-testid="amount-error"' in body
    assert not Withdrawal.objects.exists()


def test_a_valid_request_is_confirmed_in_the_panel_after_htmx_follows_the_redirect(brand_a, funded):
    client = _client(funded.user)
    response = client.post(_url("withdrawals", brand_a), {"amount": "600.00"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 302
    withdrawal = Withdrawal.objects.get()
    assert withdrawal.amount_cents == 600_00
    # The browser's XMLHttpRequest follows the redirect with the same headers.
    followed = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    messages = followed.split('id="portal-messages"')[1].split("</div>")[0]
    assert 'hx-swap-oob="true"' in followed.split('id="portal-messages"')[0][-60:] + followed[:200]
    assert f"Withdrawal {withdrawal} requested" in messages
    assert _balances(followed)["reserved"] == "COP 600.00"


@pytest.mark.parametrize(
    ("language", "typed", "placeholder"),
    [("es", "55.000,00", "500,00"), ("pt-br", "55.000,00", "500,00"), ("en", "55,000.00", "500.00")],
)
def test_amounts_are_typed_in_the_readers_format(brand_a, language, typed, placeholder):
    brand_a.min_withdrawal_cents = 500_00
    brand_a.save(update_fields=["min_withdrawal_cents"])
    influencer = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(), status="approved").influencer
    give_payout_account(influencer)
    make_available(brand_a, influencer, 60_000_00)
    client = _client(influencer.user, language)
    page = client.get(_url("withdrawals", brand_a)).content.decode()
    assert f'placeholder="{placeholder}"' in page
    assert client.post(_url("withdrawals", brand_a), {"amount": typed}).status_code == 302
    assert Withdrawal.objects.get(influencer=influencer).amount_cents == 55_000_00


def test_profile_errors_show_a_summary_and_keep_what_was_typed(brand_a, funded):
    response = _client(funded.user).post(
        _url("profile", brand_a),
        {"display_name": "Ana Nueva", "phone": "x" * 40, "audience_size": "-1", "preferred_language": "en"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-testid="form-errors"' in body
    assert 'value="Ana Nueva"' in body
    funded.refresh_from_db()
    assert funded.display_name != "Ana Nueva"


# --- One balance truth ------------------------------------------------------------------------

PAGES = ("dashboard", "earnings", "withdrawals", "statements")

operation = st.one_of(
    st.tuples(st.just("accrue"), st.integers(min_value=1, max_value=50_000_00)),
    st.tuples(st.just("confirm"), st.integers(min_value=0, max_value=20)),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=20)),
    st.tuples(st.just("release"), st.integers(min_value=1, max_value=50_000_00)),
    st.tuples(st.just("withdraw"), st.integers(min_value=1, max_value=100)),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=8))
def test_every_page_shows_the_one_balance_the_ledger_sums(brand_a, ops):
    brand_a.min_withdrawal_cents = 1
    brand_a.save(update_fields=["min_withdrawal_cents"])
    influencer = MembershipFactory(brand=brand_a, influencer=InfluencerFactory(), status="approved").influencer
    give_payout_account(influencer)
    refs: list[str] = []
    for kind, value in ops:
        if kind == "accrue":
            ref = f"p-{influencer.pk}-{len(refs)}"
            ledger_commission_accrue(brand=brand_a, influencer=influencer, commission_ref=ref, amount_cents=value)
            refs.append(ref)
        elif kind in ("confirm", "reverse") and refs:
            ref = refs[value % len(refs)]
            # An illegal move for this commission's stage is refused by the ledger, nothing posted.
            with contextlib.suppress(ApplicationError):
                if kind == "confirm":
                    ledger_commission_confirm(brand=brand_a, influencer=influencer, commission_ref=ref)
                else:
                    ledger_commission_reverse(
                        brand=brand_a,
                        influencer=influencer,
                        commission_ref=ref,
                        reversal_ref=f"r{value}",
                        amount_cents=1,
                    )
        elif kind == "release":
            make_available(brand_a, influencer, value)
        elif kind == "withdraw":
            available = influencer_balance_get(brand=brand_a, influencer=influencer).available
            if available > 0 and not Withdrawal.objects.filter(influencer=influencer, status="requested").exists():
                withdrawal_request_create(
                    influencer=influencer,
                    brand=brand_a,
                    amount=str(max(1, available * value // 100) / 100),
                    requested_by=influencer.user,
                )
    truth = influencer_balance_get(brand=brand_a, influencer=influencer)
    client = _client(influencer.user)
    shown = [_balances(client.get(_url(page, brand_a)).content.decode()) for page in PAGES]
    assert all(s == shown[0] for s in shown), dict(zip(PAGES, shown, strict=True))

    assert shown[0]["available"] == format_minor(truth.available, "COP")
    assert shown[0]["confirmed"] == format_minor(truth.confirmed, "COP")
    assert shown[0]["estimated"] == format_minor(truth.estimated, "COP")
    assert shown[0]["on_hold"] == format_minor(truth.on_hold, "COP")
    # The statement of the current period closes on the same balance.
    start, _end = payout_period_for(timezone.localtime(timezone.now(), brand_a.tz).date())
    closing = statement_build(influencer=influencer, brand=brand_a, period_start=start).closing
    assert closing["available"] == truth.available
    assert closing["hold"] == truth.on_hold
    assert closing["estimated"] == truth.estimated


# --- Statements and earnings name the order --------------------------------------------------


def test_statement_and_earnings_name_the_vtex_order_never_an_internal_reference(setup):  # noqa: F811
    brand, influencer = setup["brand"], setup["influencer"]
    order_apply(brand=brand, data=order_doc(status="invoiced"), source="t")
    txn = LedgerTransaction.objects.filter(influencer=influencer).exclude(commission_ref="").first()
    assert txn is not None
    client = _client(influencer.user)
    earnings = client.get(_url("earnings", brand)).content.decode()
    assert f"Order {SAMPLE_ORDER_ID}" in earnings
    assert "commission:" not in earnings
    assert f"code {COUPON}" in earnings
    start, _end = payout_period_for(timezone.localtime(txn.occurred_at, brand.tz).date())
    statement = client.get(_url("statement", brand, period=start.isoformat())).content.decode()
    assert f"Order {SAMPLE_ORDER_ID}" in statement
    assert "commission:" not in statement


# --- Exports ---------------------------------------------------------------------------------


def test_earnings_export_in_spanish_uses_semicolons_and_decimal_commas(brand_a, funded):
    response = _client(funded.user, "es").get(_url("export", brand_a, kind="earnings", fmt="csv"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="earnings-acme-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Fecha", "Movimiento", "Detalles", "Etapa", "Monto"]
    amounts = {row[-1] for row in rows[1:]}
    assert "1000,00" in amounts or "1.000,00" in amounts


def test_exports_in_english_and_as_xlsx(brand_a, funded):
    client = _client(funded.user, "en")
    english = client.get(_url("export", brand_a, kind="earnings", fmt="csv")).content.decode("utf-8-sig")
    assert english.splitlines()[0] == "Date,Movement,Details,Stage,Amount"
    xlsx = client.get(_url("export", brand_a, kind="orders", fmt="xlsx"))
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in next(sheet.iter_rows())][:3] == ["Order", "Date", "Status"]
    start, _end = payout_period_for(timezone.now().date() - timedelta(days=30))
    statement = client.get(_url("export", brand_a, kind="statement", fmt="xlsx") + f"?period={start.isoformat()}")
    assert statement.status_code == 200


def test_exports_refuse_unknown_kinds_formats_and_other_peoples_brands(brand_a, brand_b, funded):
    client = _client(funded.user)
    assert client.get(_url("export", brand_a, kind="secrets", fmt="csv")).status_code == 404
    assert client.get(_url("export", brand_a, kind="earnings", fmt="exe")).status_code == 404
    assert client.get(_url("export", brand_b, kind="earnings", fmt="csv")).status_code == 404
    assert client.get(_url("export", brand_a, kind="statement", fmt="csv") + "?period=2026-13-01").status_code == 404
    anonymous = Client().get(_url("export", brand_a, kind="earnings", fmt="csv"))
    assert anonymous.status_code == 302
