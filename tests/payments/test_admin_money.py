"""Finance and managers read and type money in major units on the real admin pages: the
withdrawal list and page, the brand's minimum withdrawal, the withdrawal export."""

import csv
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from brands.models import Brand
from core.money import format_minor
from payments.models import Withdrawal
from payments.services import withdrawal_request_create

pytestmark = pytest.mark.django_db


def _in_page_language(response: Any, cents: int, currency: str) -> str:
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        return format_minor(cents, currency)


@pytest.mark.parametrize("language", ["es", "en", "pt-br"])
def test_finance_reads_a_withdrawal_in_major_units(
    brand_a: Any, funded: Any, finance_a: Any, verified_client: Any, language: str
) -> None:
    withdrawal = withdrawal_request_create(influencer=funded, brand=brand_a, amount="987.65", requested_by=funded.user)
    client = verified_client(finance_a)
    for url in (
        reverse("admin:payments_withdrawal_changelist"),
        reverse("admin:payments_withdrawal_change", args=[withdrawal.pk]),
    ):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        body = response.content.decode()
        assert response.status_code == 200
        assert _in_page_language(response, 98_765, brand_a.currency) in body, url
        assert "98765" not in body, url


def test_the_brand_minimum_withdrawal_is_typed_in_the_readers_format(superuser: Any, verified_client: Any) -> None:
    brand = Brand.objects.create(
        name="Lux", slug="lux", vtex_account="lux", currency="BRL", country="BR", time_zone="America/Sao_Paulo"
    )
    brand.min_withdrawal_cents = 5_000_00
    brand.save()
    client = verified_client(superuser)
    url = reverse("admin:brands_brand_change", args=[brand.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="es")
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("on" if v is True else "" if v in (None, False) else v) for k, v in data.items() if k != "logo"}
    with translation.override(page.wsgi_request.LANGUAGE_CODE):
        assert form["min_withdrawal_cents"].value() == format_minor(5_000_00, "BRL").removeprefix("BRL ")

    data["min_withdrawal_cents"] = "75.000,50" if page.wsgi_request.LANGUAGE_CODE != "en" else "75,000.50"
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 302, response.content.decode()[:2000]
    brand.refresh_from_db()
    assert brand.min_withdrawal_cents == 7_500_050


def test_a_bad_amount_leaves_the_brand_unchanged(superuser: Any, verified_client: Any, brand_a: Any) -> None:
    client = verified_client(superuser)
    url = reverse("admin:brands_brand_change", args=[brand_a.pk])
    before = Brand.objects.get(pk=brand_a.pk).min_withdrawal_cents
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="es")
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("on" if v is True else "" if v in (None, False) else v) for k, v in data.items() if k != "logo"}
    data["min_withdrawal_cents"] = "50 mil"
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["min_withdrawal_cents"]
    assert Brand.objects.get(pk=brand_a.pk).min_withdrawal_cents == before


def test_a_withdrawal_export_writes_major_units(
    brand_a: Any, funded: Any, finance_a: Any, verified_client: Any
) -> None:
    withdrawal = withdrawal_request_create(influencer=funded, brand=brand_a, amount="987.65", requested_by=funded.user)
    response = verified_client(finance_a).post(
        reverse("admin:payments_withdrawal_changelist"),
        {"action": "export_csv", "_selected_action": [withdrawal.pk]},
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    header, row = rows[0], rows[1]
    assert not [h for h in header if h.endswith("_cents")]
    assert row[header.index("amount")] == "987.65"
    assert Withdrawal.objects.get(pk=withdrawal.pk).amount_cents == 98_765
