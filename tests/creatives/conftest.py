"""Creatives write to a private folder of their own per test, so "nothing stored" can be
checked; personas: Ana takes part in campaign A (active code, approval link), Bruno is approved
by the same brand but not in the campaign, Carla is of another brand."""

from typing import Any

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile

from affiliates.assignments import campaign_assign_influencer
from codes.models import Code
from creatives.models import Creative
from creatives.services import creative_create
from tests.affiliates.factories import png_bytes
from tests.factories import CampaignFactory, InfluencerFactory, MembershipFactory
from tracking.models import Link


@pytest.fixture(autouse=True)
def _private_media(tmp_path: Any, monkeypatch: Any) -> None:
    (tmp_path / "private").mkdir()
    storage = FileSystemStorage(location=str(tmp_path / "private"), base_url=None)
    monkeypatch.setattr(Creative._meta.get_field("file"), "storage", storage)
    monkeypatch.setattr(Creative._meta.get_field("thumbnail"), "storage", storage)


@pytest.fixture
def private_dir(tmp_path: Any) -> Any:
    return tmp_path / "private"


def stored_files(private_dir: Any) -> list[Any]:
    return [p for p in private_dir.rglob("*") if p.is_file()]


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def campaign_a(brand_a: Any) -> Any:
    return CampaignFactory(brand=brand_a, name="Verano", slug="verano")


@pytest.fixture
def campaign_b(brand_b: Any) -> Any:
    return CampaignFactory(brand=brand_b, name="Invierno", slug="invierno")


def member(brand: Any, campaign: Any | None, name: str, *, code: str = "", link_slug: str = "") -> Any:
    membership = MembershipFactory(brand=brand, influencer=InfluencerFactory(display_name=name))
    if campaign is not None:
        campaign_assign_influencer(campaign=campaign, influencer=membership.influencer)
        if code:
            Code.objects.create(
                brand=brand,
                campaign=campaign,
                influencer=membership.influencer,
                text=code,
                vtex_state=Code.VTEXState.ACTIVE,
                sync_status=Code.SyncStatus.SYNCED,
            )
        if link_slug:
            Link.objects.create(
                brand=brand,
                campaign=campaign,
                influencer=membership.influencer,
                slug=link_slug,
                destination_url="https://www.acme.example/",
                origin=Link.Origin.APPROVAL,
            )
    return membership


@pytest.fixture
def ana(brand_a: Any, campaign_a: Any) -> Any:
    return member(brand_a, campaign_a, "Ana Ríos", code="ANA10", link_slug="ana-verano")


@pytest.fixture
def bruno(brand_a: Any, campaign_a: Any) -> Any:
    """Approved by brand A, in another campaign of it (not campaign A)."""
    other = CampaignFactory(brand=brand_a, name="Otoño", slug="otono")
    return member(brand_a, other, "Bruno Paz", code="BRUNO5", link_slug="bruno-otono")


@pytest.fixture
def carla(brand_b: Any, campaign_b: Any) -> Any:
    return member(brand_b, campaign_b, "Carla Gil", code="CARLA", link_slug="carla-invierno")


@pytest.fixture
def library_a(campaign_a: Any, manager_a: Any) -> dict[str, Creative]:
    return {
        "image": creative_create(
            campaign=campaign_a,
            kind="image",
            title="Foto playa",
            upload=upload("playa.png", png_bytes((800, 600))),
            actor=manager_a,
        ),
        "video": creative_create(
            campaign=campaign_a, kind="video", title="Reel", video_url="https://www.youtube.com/watch?v=abc"
        ),
        "caption": creative_create(
            campaign=campaign_a,
            kind="caption",
            title="Texto reel",
            caption="¡Llegó el verano en {brand}! Usa {code} con 10 % en {link}",
        ),
    }
