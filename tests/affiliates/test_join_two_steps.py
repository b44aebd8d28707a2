"""Issue 16, "registration that converts": the offer first, document types by country, two
resumable steps, inputs kept after an error, every help text translated, and one validator of
fiscal ids behind the join page and the registration API."""

import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.services import api_key_create
from affiliates.models import Influencer, KYCDocument, Membership, RecruitingLink
from campaigns.models import CommissionRule, CommissionTier
from tests.affiliates.conftest import join_url, snapshot, step1, step2
from tests.affiliates.factories import jpeg_bytes, upload
from tests.api.conftest import auth
from tests.factories import CampaignFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def options(html: str, select_id: str = "id_document_type") -> list[tuple[str, str]]:
    select = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', html, re.S)
    assert select, html
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1))


@pytest.fixture
def offer_campaign(brand_a: Any) -> Any:
    brand_a.min_withdrawal_cents = 50_000_00
    brand_a.save()
    campaign = CampaignFactory(
        brand=brand_a, name="Navidad", slug="navidad", discount_percent=Decimal("15"), hold_days=30
    )
    CommissionRule.objects.create(campaign=campaign, name="Base", kind="percentage", rate_percent=Decimal("10"))
    CommissionRule.objects.create(
        campaign=campaign, name="Moda", kind="percentage", rate_percent=Decimal("12.5"), dimension="category", ids=["3"]
    )
    CommissionTier.objects.create(campaign=campaign, name="Oro", threshold=1_000_000_00, bonus_percent=Decimal("2"))
    return campaign


# --- 3. The offer first --------------------------------------------------------------------


def test_join_page_leads_with_the_invited_campaigns_offer_in_the_readers_format(
    client, brand_a, policies_a, campaign_a, offer_campaign
):
    html = client.get(join_url(brand_a) + "?campaign=navidad", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    offer = html[html.index('data-testid="join-offer"') : html.index('data-testid="join-form"')]
    assert "Navidad" in offer
    assert "Verano" not in offer
    assert "10 % a 12,5 % de cada venta" in offer
    assert "15 % de descuento" in offer
    assert "30 días" in offer
    assert "COP 50.000,00" in offer  # minimum payout, Spanish grouping
    assert "2 %" in offer  # tier bonus
    en = client.get(join_url(brand_a) + "?campaign=navidad", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "10 % to 12.5 % of each sale" in en
    assert "COP 50,000.00" in en
    assert "30 days after the order is invoiced" in en
    # The invitation is remembered for step 2 (the campaign select comes preselected).
    assert html.index("join-offer") < html.index("join-form")


def test_fixed_amounts_are_money_in_the_readers_format(client, brand_a, policies_a):
    campaign = CampaignFactory(brand=brand_a, name="Unidades", slug="unidades")
    CommissionRule.objects.create(campaign=campaign, name="Fija", kind="fixed_per_unit", amount_cents=5_000_00)
    html = client.get(join_url(brand_a) + "?campaign=unidades", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert "COP 5.000,00 por unidade vendida" in html


def test_without_invitation_the_open_campaigns_are_offered(client, brand_a, policies_a, campaign_a, offer_campaign):
    html = client.get(join_url(brand_a), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    offer = html[html.index('data-testid="join-offer"') : html.index('data-testid="join-form"')]
    assert "Navidad" in offer
    assert "Verano" in offer
    assert "?campaign=navidad" in offer  # each can be chosen


def test_a_recruiting_link_invites_to_its_campaign(client, brand_a, policies_a, campaign_a, offer_campaign):
    referrer = MembershipFactory(brand=brand_a, status="approved").influencer
    link = RecruitingLink.objects.create(influencer=referrer, campaign=offer_campaign)
    html = client.get(join_url(brand_a) + f"?ref={link.token}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    offer = html[html.index('data-testid="join-offer"') : html.index('data-testid="join-form"')]
    assert "Navidad" in offer
    assert "Verano" not in offer


def test_a_campaign_of_another_brand_in_the_link_is_ignored(client, brand_a, brand_b, policies_a, campaign_a):
    CampaignFactory(brand=brand_b, name="Ajena", slug="ajena")
    html = client.get(join_url(brand_a) + "?campaign=ajena").content.decode()
    assert "Ajena" not in html
    assert "Verano" in html


# --- 2. Document types by country ----------------------------------------------------------


def test_document_type_select_lists_only_the_countrys_types(client, brand_a, policies_a):
    html = client.get(join_url(brand_a), HTTP_ACCEPT_LANGUAGE="en").content.decode()  # brand in Colombia
    assert [v for v, _label in options(html)] == ["", "CO_CC", "CO_CE", "CO_NIT"]
    # After a post (no JavaScript) the select follows the posted country.
    response = client.post(join_url(brand_a), {"country": "PE"}, HTTP_ACCEPT_LANGUAGE="en")
    listed = options(response.content.decode())
    assert [v for v, _label in listed] == ["", "PE_DNI", "PE_RUC"]
    labels = [label for _v, label in listed]
    assert len(labels) == len(set(labels))  # no duplicates


def test_country_change_refreshes_the_types_with_htmx(client, brand_a, policies_a):
    html = client.get(join_url(brand_a)).content.decode()
    url = reverse("affiliates:join_document_types", kwargs={"brand_slug": brand_a.slug})
    assert f'hx-get="{url}"' in html
    assert 'hx-target="#id_document_type"' in html
    response = client.get(url, {"country": "AR", "document_type": "AR_CUIT"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert re.findall(r'<option value="([^"]*)"', body) == ["", "AR_DNI", "AR_CUIT"]
    assert '<option value="AR_CUIT" selected>' in body  # a still-valid choice is kept
    grouped = client.get(url).content.decode()  # no country: every type, grouped by country
    assert "<optgroup" in grouped
    assert "BR_CPF" in grouped
    assert client.get(reverse("affiliates:join_document_types", kwargs={"brand_slug": "nope"})).status_code == 404


def test_a_type_of_another_country_gets_a_clear_error_and_nothing_is_stored(client, brand_a, form_data):
    before = snapshot()
    data = step1(form_data(country="MX", document_type="BR_CPF"))
    response = client.post(join_url(brand_a), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    error = str(response.context["form"].errors["document_type"])
    assert "not issued in the country you chose" in error
    assert "CURP" in error
    assert "RFC" in error
    assert snapshot() == before


# --- Help texts in every language ----------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "upload_help", "phone_help"),
    [
        ("en", "PDF, JPEG or PNG, up to", "With country code"),
        ("es", "PDF, JPEG o PNG, hasta", "Con el código de país"),
        ("pt-br", "PDF, JPEG ou PNG, até", "Com o código do país"),
    ],
)
def test_every_help_text_is_in_the_readers_language(
    client, brand_a, form_data, registered, language, upload_help, phone_help
):
    step_two = client.get(join_url(brand_a), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert upload_help in step_two
    step_one = Client().get(join_url(brand_a), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert phone_help in step_one


# --- 4. Two steps, resumable, inputs kept --------------------------------------------------


@pytest.fixture
def registered(client: Any, brand_a: Any, form_data: Any) -> Any:
    response = client.post(join_url(brand_a), step1(form_data()))
    assert response.status_code == 302
    return User.objects.get(email="camila@example.com").influencer


def test_step_one_keeps_the_inputs_after_an_error(client, brand_a, form_data):
    data = step1(form_data(document_number="529.982.247-26"))
    html = client.post(join_url(brand_a), data, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'value="camila@example.com"' in html
    assert 'value="una-clave-muy-larga-2026"' in html  # the passwords are not cleared
    assert 'value="+55 11 91234-5678"' in html
    assert "Revisa los campos marcados" in html  # the summary above the form


def test_step_two_says_to_choose_the_file_again_after_an_error(client, brand_a, form_data, registered):
    fake = upload("cedula.pdf", b"not a pdf", "application/pdf")
    response = client.post(join_url(brand_a), step2(form_data(identity_document=fake)), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count('data-testid="file-again"') == 2  # both file fields
    assert "Vuelve a elegir el archivo" in html
    # Untouched page: no such warning.
    assert 'data-testid="file-again"' not in client.get(join_url(brand_a)).content.decode()


def test_an_applicant_who_stopped_after_step_one_finishes_after_signing_in(brand_a, form_data, registered, private_dir):
    user = registered.user
    later = Client()  # another day, another browser: not signed in, step 1 again
    assert later.get(join_url(brand_a)).context["step"] == 1
    later.force_login(user)
    # The portal sends them back to the brand they were joining.
    home = later.get(reverse("portal:home"))
    assert home.status_code == 302
    assert home["Location"] == join_url(brand_a)
    page = later.get(join_url(brand_a))
    assert page.context["step"] == 2
    assert page.context["steps"] == 2
    assert "full_name" not in page.context["form"].fields
    response = later.post(join_url(brand_a), step2(form_data()))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dashboard", kwargs={"brand_slug": brand_a.slug})
    membership = Membership.objects.get(influencer=registered, brand=brand_a)
    assert membership.status == Membership.Status.PENDING
    assert KYCDocument.objects.filter(membership=membership).count() == 2


def test_step_two_without_signing_in_only_in_the_browser_of_step_one(client, brand_a, form_data, registered):
    registered.user.last_login = registered.user.date_joined
    registered.user.save(update_fields=["last_login"])
    # Once the account was signed in to, the session of step 1 no longer stands for it.
    before = snapshot()
    assert client.get(join_url(brand_a)).context["step"] == 1
    response = client.post(join_url(brand_a), step2(form_data()))
    assert response.status_code == 400
    assert snapshot() == before


def test_step_two_in_the_same_browser_ends_on_the_confirmation_page(client, brand_a, form_data, registered):
    response = client.post(join_url(brand_a), step2(form_data()))
    assert response["Location"] == reverse("affiliates:join_done", kwargs={"brand_slug": brand_a.slug})
    # Coming back to the join page does not apply twice.
    again = client.get(join_url(brand_a))
    assert again.status_code == 302
    assert Membership.objects.filter(influencer=registered).count() == 1


def test_the_invited_campaign_is_preselected_in_step_two(client, brand_a, policies_a, campaign_a, form_data):
    other = CampaignFactory(brand=brand_a, name="Otra", slug="otra")
    client.get(join_url(brand_a) + "?campaign=otra")
    assert client.post(join_url(brand_a), step1(form_data())).status_code == 302
    page = client.get(join_url(brand_a))
    assert page.context["form"]["campaign"].value() == other.pk


# --- 1. One validator for the join page and the API ----------------------------------------


def test_registration_api_refuses_a_wrong_rfc_check_character_like_the_join_page(
    brand_a, policies_a, campaign_a, client, form_data
):
    _key, secret = api_key_create(brand=brand_a, name="CRM", scopes=["influencers:write"])
    terms, privacy = policies_a
    payload = {
        "full_name": "Ernesto Gómez",
        "email": "ernesto@example.com",
        "password": "una-clave-muy-larga-2026",
        "country": "MX",
        "document_type": "MX_RFC",
        "document_number": "GODE561231GR9",
        "phone": "+52 55 1234 5678",
        "instagram": "ernesto",
        "audience_size": "1000",
        "identity_document": upload("ine.jpg", jpeg_bytes(), "image/jpeg"),
        "accept_terms": "true",
        "accept_privacy": "true",
        "terms_policy": str(terms.pk),
        "privacy_policy": str(privacy.pk),
    }
    before = snapshot()
    response = Client().post("/api/v1/influencers/register", payload, **auth(secret))
    assert response.status_code == 400
    assert "check digit" in response.content.decode()
    assert snapshot() == before
    payload["document_number"] = "GODE561231GR8"
    payload["identity_document"] = upload("ine.jpg", jpeg_bytes(), "image/jpeg")
    assert Client().post("/api/v1/influencers/register", payload, **auth(secret)).status_code == 201
    assert Influencer.objects.get(user__email="ernesto@example.com").document_number == "GODE561231GR8"
    # The join page refuses the same number with the same rule.
    data = step1(form_data(country="MX", document_type="MX_RFC", document_number="GODE561231GR9"))
    page = client.post(join_url(brand_a), data, HTTP_ACCEPT_LANGUAGE="en")
    assert "check digit" in str(page.context["form"].errors["document_number"])
