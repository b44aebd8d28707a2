import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from affiliates.models import Membership, PolicyAcceptance
from audit.models import AuditEvent
from tests.affiliates.conftest import join_url, snapshot, step1, step2, stored_files
from tests.affiliates.factories import PolicyDocumentFactory, png_bytes, upload
from tests.factories import BrandFactory, CampaignFactory, InfluencerFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def apply_in_two_steps(client: Any, brand: Any, data: dict[str, Any], **extra: Any) -> tuple[Any, Any]:
    first = client.post(join_url(brand), step1(data), **extra)
    assert first.status_code == 302, first.context["form"].errors if first.context else first
    return first, client.post(join_url(brand), step2(data), **extra)


@pytest.fixture
def registered(client: Any, brand_a: Any, form_data: Any) -> Any:
    """Step 1 done in this browser (account, profile, consents); step 2 still to do."""
    response = client.post(join_url(brand_a), step1(form_data()))
    assert response.status_code == 302
    return User.objects.get(email="camila@example.com").influencer


def test_join_page_is_themed_with_the_brand_and_lists_the_current_policies(client, brand_a, policies_a):
    brand_a.primary_color = "#AA3300"
    brand_a.save()
    response = client.get(join_url(brand_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert "--primary: #AA3300" in html
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert f'<style nonce="{nonce}">' in html  # the theme passes the CSP
    assert "style=" not in html  # no inline style attributes anywhere
    assert "Acme" in html
    assert 'enctype="multipart/form-data"' in html
    assert reverse("affiliates:policy", args=[brand_a.slug, "terms"]) in html


def test_join_page_of_a_brand_without_policies_takes_no_applications(client, brand_a):
    response = client.get(join_url(brand_a))
    assert response.status_code == 200
    assert 'data-testid="join-form"' not in response.content.decode()


def test_unknown_or_inactive_brand_is_404(client, brand_a, policies_a):
    assert client.get(reverse("affiliates:join", kwargs={"brand_slug": "nope"})).status_code == 404
    brand_a.is_active = False
    brand_a.save()
    assert client.get(join_url(brand_a)).status_code == 404


def test_valid_application_creates_a_pending_membership_with_consents_kyc_and_emails(
    client,
    brand_a,
    campaign_a,
    policies_a,
    form_data,
    manager_a,
    manager_b,
    private_dir,
    django_capture_on_commit_callbacks,
):
    meta = {"HTTP_USER_AGENT": "Mozilla/5.0 Test", "REMOTE_ADDR": "203.0.113.9"}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(join_url(brand_a), step1(form_data()), **meta)
    # Step 1: the account, the profile and the consents; no application yet, managers not told.
    assert first.status_code == 302
    assert first["Location"] == join_url(brand_a)
    assert not Membership.objects.exists()
    assert [m.to[0] for m in mail.outbox] == ["camila@example.com"]  # allauth's verification email
    assert AuditEvent.objects.filter(action="influencer.registered").count() == 1
    page = client.get(join_url(brand_a))
    assert page.context["step"] == 2
    assert "accept_terms" not in page.context["form"].fields  # consent given in step 1 is on record

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(join_url(brand_a), step2(form_data()), **meta)
    assert response.status_code == 302
    assert response["Location"] == reverse("affiliates:join_done", kwargs={"brand_slug": brand_a.slug})

    user = User.objects.get(email="camila@example.com")
    assert user.check_password("una-clave-muy-larga-2026")
    assert not user.is_staff
    assert EmailAddress.objects.get(user=user).verified is False
    influencer = user.influencer
    assert influencer.document_type == "BR_CPF"
    assert influencer.document_number == "52998224725"
    assert influencer.instagram == "camilarojas"
    assert influencer.phone == "+5511912345678"
    membership = Membership.objects.get(influencer=influencer)
    assert membership.brand == brand_a
    assert membership.status == Membership.Status.PENDING
    assert membership.campaign == campaign_a

    acceptances = PolicyAcceptance.objects.filter(influencer=influencer).select_related("policy")
    assert {(a.policy.kind, a.policy.version) for a in acceptances} == {("terms", "1.0"), ("privacy", "1.0")}
    assert all(a.ip == "203.0.113.9" and a.user_agent == "Mozilla/5.0 Test" for a in acceptances)

    documents = list(membership.kyc_documents.order_by("pk"))
    assert [(d.kind, d.content_type) for d in documents] == [("identity", "image/jpeg"), ("other", "application/pdf")]
    assert len(stored_files(private_dir)) == 2
    assert all(not d.file.name.endswith(("rg.jpg", "cpf.pdf")) for d in documents)  # names never from the uploader

    assert AuditEvent.objects.filter(action="membership.applied", target_id=str(membership.pk)).exists()
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert "camila@example.com" in subjects  # allauth's verification email
    assert "manager.a@example.com" in subjects
    assert "Camila Rojas" in subjects["manager.a@example.com"]
    assert "manager.b@example.com" not in subjects  # another brand's manager hears nothing


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"document_number": "529.982.247-26"}, "document_number", "check digit"),
        ({"country": "CO"}, "document_type", "not issued in the country"),
        ({"accept_terms": None}, "accept_terms", "Accept the terms"),
        ({"accept_privacy": None}, "accept_privacy", "Accept the privacy policy"),
        ({"password2": "otra-clave-distinta-99"}, "password2", "do not match"),
        ({"password1": "12345678901", "password2": "12345678901"}, "password1", "numeric"),
        ({"instagram": ""}, "instagram", "at least one social network"),
        ({"phone": "call me"}, None, "phone number"),
        ({"document_type": "MX_RFC", "country": "MX", "document_number": "GODE561231GR9"}, "document_number", "check"),
    ],
)
def test_invalid_step_one_explains_the_problem_and_stores_nothing(
    client, brand_a, form_data, private_dir, overrides, field, message
):
    before = snapshot()
    response = client.post(join_url(brand_a), step1(form_data(**overrides)), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    form = response.context["form"]
    errors = " ".join(str(e) for e in (form.errors.get(field, []) if field else form.errors.as_text().split("\n")))
    assert message in (errors or form.errors.as_text())
    assert snapshot() == before
    assert stored_files(private_dir) == []
    assert mail.outbox == []


def test_step_two_without_identity_document_stores_nothing(client, brand_a, form_data, registered, private_dir):
    before = snapshot()
    response = client.post(join_url(brand_a), step2(form_data(identity_document=None)), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "required" in str(response.context["form"].errors["identity_document"])
    assert snapshot() == before
    assert stored_files(private_dir) == []


def test_fake_file_type_is_refused_whatever_its_name(client, brand_a, form_data, registered, private_dir):
    before = snapshot()
    fake = upload("cedula.pdf", b"MZ\x90\x00 not a pdf at all", "application/pdf")
    response = client.post(join_url(brand_a), step2(form_data(identity_document=fake)), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "PDF, JPEG or PNG" in str(response.context["form"].errors["identity_document"])
    assert snapshot() == before
    assert stored_files(private_dir) == []


def test_oversized_file_is_refused(client, brand_a, form_data, registered, private_dir, settings):
    settings.KYC_MAX_UPLOAD_BYTES = 2048
    before = snapshot()
    big = upload("id.png", png_bytes((400, 400)) + b"\x00" * 4096, "image/png")
    response = client.post(join_url(brand_a), step2(form_data(identity_document=big)), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "the limit is" in str(response.context["form"].errors["identity_document"])
    assert snapshot() == before
    assert stored_files(private_dir) == []


def test_duplicate_email_for_the_same_brand_is_refused(client, brand_a, form_data, applicant, private_dir):
    applicant(email="camila@example.com", document="1020304050")
    files_before = stored_files(private_dir)
    before = snapshot()
    response = client.post(join_url(brand_a), step1(form_data(email="Camila@Example.com")), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "already applied to Acme" in str(response.context["form"].errors["email"])
    assert snapshot() == before
    assert stored_files(private_dir) == files_before


def test_duplicate_document_for_the_same_brand_is_refused(client, brand_a, form_data, applicant, private_dir):
    applicant(email="first@example.com", document="1020304050")
    files_before = stored_files(private_dir)
    before = snapshot()
    data = form_data(country="CO", document_type="CO_CC", document_number="1.020.304.050")
    response = client.post(join_url(brand_a), step1(data), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "already applied to Acme" in str(response.context["form"].errors["document_number"])
    assert snapshot() == before
    assert stored_files(private_dir) == files_before


def test_messages_come_in_the_visitors_language(client, brand_a, form_data):
    response = client.post(join_url(brand_a), step1(form_data(accept_terms=None)), HTTP_ACCEPT_LANGUAGE="pt-br")
    assert response.status_code == 400
    assert response["Content-Language"] == "pt-br"
    response = client.post(join_url(brand_a), step1(form_data(accept_terms=None)), HTTP_ACCEPT_LANGUAGE="en")
    assert "Accept the terms and conditions to apply." in response.content.decode()


def test_consent_to_an_outdated_policy_version_is_refused(client, brand_a, form_data, policies_a):
    before = snapshot()
    PolicyDocumentFactory(brand=brand_a, kind="terms", version="2.0")  # published after the page was shown
    response = client.post(join_url(brand_a), step1(form_data()), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "changed" in response.content.decode()
    assert snapshot() == before


def test_applicants_cannot_assign_themselves_status_staff_or_another_brand(client, brand_a, brand_b, form_data):
    data = form_data(
        status="approved", is_staff="on", is_superuser="on", brand=str(brand_b.pk), influencer="1", verified="on"
    )
    _first, response = apply_in_two_steps(client, brand_a, data)
    assert response.status_code == 302
    user = User.objects.get(email="camila@example.com")
    assert not user.is_staff
    assert not user.is_superuser
    assert not EmailAddress.objects.get(user=user).verified
    membership = Membership.objects.get(influencer__user=user)
    assert (membership.brand, membership.status) == (brand_a, Membership.Status.PENDING)


def test_campaign_of_another_brand_cannot_be_chosen(client, brand_a, brand_b, form_data, registered):
    other = CampaignFactory(brand=brand_b)
    before = snapshot()
    response = client.post(join_url(brand_a), step2(form_data(campaign=str(other.pk))))
    assert response.status_code == 400
    assert "campaign" in response.context["form"].errors
    assert snapshot() == before


def test_registration_is_rate_limited_per_ip(client, brand_a, form_data, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "3/m/ip"}
    for _ in range(3):
        assert client.post(join_url(brand_a), step1(form_data(accept_terms=None))).status_code == 400
    response = client.post(join_url(brand_a), step1(form_data()), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert "Too many applications" in response.content.decode()
    assert not User.objects.filter(email="camila@example.com").exists()


def test_join_page_requires_csrf(brand_a, form_data):
    client = Client(enforce_csrf_checks=True)
    response = client.post(join_url(brand_a), step1(form_data()))
    assert response.status_code == 403
    assert not User.objects.filter(email="camila@example.com").exists()


def test_existing_email_of_another_brand_is_asked_to_sign_in(client, brand_a, form_data):
    UserFactory(email="camila@example.com")
    before = snapshot()
    response = client.post(join_url(brand_a), step1(form_data()), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Sign in" in str(response.context["form"].errors["email"])
    assert snapshot() == before


def test_signed_in_influencer_applies_to_another_brand_with_its_consents(
    client, brand_a, brand_b, policies_b, private_dir
):
    membership = MembershipFactory(brand=brand_a, status="approved")
    client.force_login(membership.influencer.user)
    terms, privacy = policies_b
    url = join_url(brand_b)
    page = client.get(url)
    assert page.status_code == 200
    assert "full_name" not in page.context["form"].fields  # nothing to re-enter about the person
    response = client.post(
        url,
        {
            "identity_document": upload("id.png", png_bytes(), "image/png"),
            "accept_terms": "on",
            "accept_privacy": "on",
            "terms_policy": terms.pk,
            "privacy_policy": privacy.pk,
        },
    )
    assert response.status_code == 302
    new = Membership.objects.get(influencer=membership.influencer, brand=brand_b)
    assert new.status == Membership.Status.PENDING
    assert PolicyAcceptance.objects.filter(influencer=membership.influencer, policy__brand=brand_b).count() == 2
    assert len(stored_files(private_dir)) == 1
    # Applying again goes to the portal instead of creating a duplicate.
    assert client.get(url).status_code == 302
    assert Membership.objects.filter(influencer=membership.influencer, brand=brand_b).count() == 1


def test_staff_cannot_apply_with_their_account(client, brand_a, policies_a, manager_a):
    client.force_login(manager_a)
    response = client.get(join_url(brand_a))
    assert "not an influencer account" in response.content.decode() or response.status_code == 200
    assert "join-form" not in response.content.decode()


def test_policy_pages_show_the_current_version(client, brand_a, policies_a):
    response = client.get(reverse("affiliates:policy", args=[brand_a.slug, "privacy"]))
    assert response.status_code == 200
    assert "privacy 1.0" in response.content.decode()
    assert client.get(reverse("affiliates:policy", args=[brand_a.slug, "other"])).status_code == 404
    unrelated = BrandFactory(slug="nopolicies")
    assert client.get(reverse("affiliates:policy", args=[unrelated.slug, "terms"])).status_code == 404


def test_home_page_links_to_the_join_page(client, brand_a):
    response = client.get(reverse("home"))
    assert join_url(brand_a) in response.content.decode()


def test_the_influencer_factory_still_works_without_documents():
    assert InfluencerFactory().document_number == ""
