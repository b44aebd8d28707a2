from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.urls import reverse

from accounts.models import User
from affiliates.models import Influencer, KYCDocument, Membership, PolicyAcceptance
from affiliates.services.kyc import KycUpload
from affiliates.services.registration import ApplicantProfile, influencer_apply
from tests.affiliates.factories import jpeg_bytes, pdf_bytes, png_bytes, policies_for, upload
from tests.factories import CampaignFactory


@pytest.fixture(autouse=True)
def _private_media(tmp_path: Any, monkeypatch: Any) -> None:
    """Each test writes KYC files to its own folder, so "nothing stored" can be checked. The
    model field holds its storage instance since import (callable storage), so patch it."""

    (tmp_path / "private").mkdir()
    storage = FileSystemStorage(location=str(tmp_path / "private"), base_url=None)
    monkeypatch.setattr(KYCDocument._meta.get_field("file"), "storage", storage)


@pytest.fixture
def private_dir(tmp_path: Any) -> Any:
    return tmp_path / "private"


def stored_files(private_dir: Any) -> list[Any]:
    return [p for p in private_dir.rglob("*") if p.is_file()]


@pytest.fixture
def policies_a(brand_a: Any) -> Any:
    return policies_for(brand_a)


@pytest.fixture
def policies_b(brand_b: Any) -> Any:
    return policies_for(brand_b)


@pytest.fixture
def campaign_a(brand_a: Any) -> Any:
    return CampaignFactory(brand=brand_a, name="Verano", slug="verano", utm_source="mgm", utm_campaign="verano")


@pytest.fixture
def applicant(brand_a: Any, policies_a: Any, campaign_a: Any) -> Any:
    """A pending application to brand A, as the join page makes it."""

    def make(email: str = "ana@example.com", document: str = "1020304050", **kwargs: Any) -> Any:
        terms, privacy = policies_a
        return influencer_apply(
            brand=kwargs.get("brand", brand_a),
            email=email,
            password="una-clave-larga-2026",
            profile=ApplicantProfile(
                full_name=kwargs.get("full_name", "Ana Torres"),
                country="CO",
                document_type="CO_CC",
                document_number=document,
                phone="+57 300 123 4567",
                instagram=kwargs.get("instagram", "anatorres"),
                audience_size=kwargs.get("audience_size", 15000),
            ),
            documents=[KycUpload(kind=KYCDocument.Kind.IDENTITY, file=upload("cedula.png", png_bytes()))],
            terms=terms,
            privacy=privacy,
            campaign=kwargs.get("campaign", campaign_a),
            language=kwargs.get("language", settings.LANGUAGE_CODE),
        )

    return make


# --- The join page (tests/affiliates/test_join*.py) ---


def join_url(brand: Any) -> str:
    return reverse("affiliates:join", kwargs={"brand_slug": brand.slug})


@pytest.fixture
def form_data(policies_a: Any, campaign_a: Any) -> Any:
    terms, privacy = policies_a

    def make(**overrides: Any) -> dict[str, Any]:
        data = {
            "full_name": "Camila Rojas",
            "email": "camila@example.com",
            "password1": "una-clave-muy-larga-2026",
            "password2": "una-clave-muy-larga-2026",
            "country": "BR",
            "document_type": "BR_CPF",
            "document_number": "529.982.247-25",
            "phone": "+55 11 91234-5678",
            "instagram": "@camilarojas",
            "tiktok": "",
            "youtube": "",
            "audience_size": "25000",
            "campaign": str(campaign_a.pk),
            "identity_document": upload("rg.jpg", jpeg_bytes(), "image/jpeg"),
            "other_document": upload("cpf.pdf", pdf_bytes(), "application/pdf"),
            "accept_terms": "on",
            "accept_privacy": "on",
            "terms_policy": str(terms.pk),
            "privacy_policy": str(privacy.pk),
        }
        data.update(overrides)
        return {k: v for k, v in data.items() if v is not None}

    return make


def snapshot() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "influencers": Influencer.objects.count(),
        "memberships": Membership.objects.count(),
        "acceptances": PolicyAcceptance.objects.count(),
        "kyc": KYCDocument.objects.count(),
        "emails": EmailAddress.objects.count(),
    }


STEP2 = {"campaign", "identity_document", "other_document"}


def step1(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in STEP2}


def step2(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k in STEP2}
