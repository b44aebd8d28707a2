"""The portal's Creatives page: only approved influencers of the campaign see its library,
each caption carries their own active code and default link, and files come only through a
link signed for that person that expires (never a public URL); everyone else gets 404."""

from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from affiliates.assignments import campaign_assign_influencer
from codes.models import Code
from core.storage import private_link_read
from creatives.services import creative_create, creative_set_active
from tests.affiliates.factories import pdf_bytes
from tests.creatives.conftest import upload
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def _url(brand: Any, name: str = "creatives", **kwargs: Any) -> str:
    return reverse(f"portal:{name}", kwargs={"brand_slug": brand.slug, **kwargs})


def _download(client: Any, brand: Any, creative: Any) -> Any:
    first = client.get(_url(brand, "creative_download", pk=creative.pk))
    assert first.status_code == 302
    assert "/creatives/file/" in first["Location"]
    return client.get(first["Location"])


def test_the_page_shows_the_campaign_library_with_the_captions_filled_with_ones_own_code_and_link(
    client: Any, ana: Any, bruno: Any, brand_a: Any, library_a: Any
) -> None:
    client.force_login(ana.influencer.user)
    response = client.get(_url(brand_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="creative-card"') == 3
    caption = html.split('data-testid="creative-caption">')[1].split("</textarea>")[0]
    assert caption == f"¡Llegó el verano en Acme! Usa ANA10 con 10 % en {settings.SITE_URL}/r/ana-verano"
    assert "BRUNO5" not in html
    assert "bruno-otono" not in html
    assert f'src="{_url(brand_a, "creative_thumbnail", pk=library_a["image"].pk)}"' in html
    assert "https://www.youtube.com/watch?v=abc" in html
    assert 'data-copy="' in html  # the copy button carries the filled caption
    assert 'data-nav="creatives"' in html
    assert 'aria-current="page" data-nav="creatives"' in html


def test_without_an_active_code_the_placeholder_stays_and_the_page_says_why(
    client: Any, ana: Any, brand_a: Any, library_a: Any
) -> None:
    Code.objects.filter(influencer=ana.influencer).update(vtex_state="", sync_status=Code.SyncStatus.PENDING)
    client.force_login(ana.influencer.user)
    html = client.get(_url(brand_a)).content.decode()
    caption = html.split('data-testid="creative-caption">')[1].split("</textarea>")[0]
    assert "{code}" in caption
    assert "ANA10" not in caption
    assert "/r/ana-verano" in caption
    assert 'data-testid="caption-missing"' in html


def test_an_influencer_downloads_a_file_through_a_link_signed_for_them(
    client: Any, ana: Any, brand_a: Any, library_a: Any, campaign_a: Any
) -> None:
    client.force_login(ana.influencer.user)
    image = library_a["image"]
    response = _download(client, brand_a, image)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert f'filename="foto-playa-{image.pk}.png"' in response["Content-Disposition"]
    thumb = client.get(_url(brand_a, "creative_thumbnail", pk=image.pk))
    assert thumb.status_code == 200
    assert thumb["Content-Type"] == "image/jpeg"
    guidelines = creative_create(
        campaign=campaign_a, kind="guidelines", title="Manual", upload=upload("m.pdf", pdf_bytes())
    )
    pdf = _download(client, brand_a, guidelines)
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")


def test_an_influencer_not_in_the_campaign_sees_no_library_and_gets_404_for_its_files(
    client: Any, bruno: Any, ana: Any, brand_a: Any, library_a: Any
) -> None:
    client.force_login(bruno.influencer.user)
    html = client.get(_url(brand_a)).content.decode()
    assert 'data-testid="creative-card"' not in html
    assert "Foto playa" not in html
    image = library_a["image"]
    assert client.get(_url(brand_a, "creative_download", pk=image.pk)).status_code == 404
    assert client.get(_url(brand_a, "creative_thumbnail", pk=image.pk)).status_code == 404
    # Ana's signed link does not work for Bruno either
    client.force_login(ana.influencer.user)
    location = client.get(_url(brand_a, "creative_download", pk=image.pk))["Location"]
    client.force_login(bruno.influencer.user)
    assert client.get(location).status_code == 404


def test_an_influencer_of_another_brand_gets_404_everywhere(
    client: Any, carla: Any, brand_a: Any, brand_b: Any, library_a: Any
) -> None:
    client.force_login(carla.influencer.user)
    image = library_a["image"]
    assert client.get(_url(brand_a)).status_code == 404
    assert client.get(_url(brand_a, "creative_download", pk=image.pk)).status_code == 404
    assert client.get(_url(brand_b, "creative_download", pk=image.pk)).status_code == 404
    assert client.get(_url(brand_b, "creative_thumbnail", pk=image.pk)).status_code == 404
    html = client.get(_url(brand_b)).content.decode()
    assert "Foto playa" not in html
    assert 'data-testid="creatives-empty"' not in html


def test_a_pending_or_suspended_member_sees_the_status_page_not_the_library(
    client: Any, ana: Any, brand_a: Any, library_a: Any
) -> None:
    ana.status = "suspended"
    ana.save(update_fields=["status"])
    client.force_login(ana.influencer.user)
    html = client.get(_url(brand_a)).content.decode()
    assert "Foto playa" not in html
    assert client.get(_url(brand_a, "creative_download", pk=library_a["image"].pk)).status_code != 302


def test_an_archived_creative_leaves_the_page_and_its_links_stop_working(
    client: Any, ana: Any, brand_a: Any, library_a: Any
) -> None:
    client.force_login(ana.influencer.user)
    image = library_a["image"]
    location = client.get(_url(brand_a, "creative_download", pk=image.pk))["Location"]
    creative_set_active(creative=image, active=False)
    assert "Foto playa" not in client.get(_url(brand_a)).content.decode()
    assert client.get(location).status_code == 404
    assert client.get(_url(brand_a, "creative_download", pk=image.pk)).status_code == 404


def test_an_altered_or_expired_link_is_refused(
    client: Any, ana: Any, brand_a: Any, library_a: Any, monkeypatch: Any
) -> None:
    client.force_login(ana.influencer.user)
    location = client.get(_url(brand_a, "creative_download", pk=library_a["image"].pk))["Location"]
    assert client.get(location.replace("/file/", "/file/x")).status_code == 404

    monkeypatch.setattr(
        "creatives.services.private_link_read", lambda **kwargs: private_link_read(**kwargs, max_age=-1)
    )
    response = client.get(location, follow=True)
    assert response.redirect_chain[-1][0] == _url(brand_a)
    assert "This download link expired" in response.content.decode()


def test_the_page_is_in_the_influencers_language(client: Any, ana: Any, brand_a: Any, library_a: Any) -> None:
    ana.influencer.user.preferred_language = "es"
    ana.influencer.user.save(update_fields=["preferred_language"])
    client.force_login(ana.influencer.user)
    html = client.get(_url(brand_a)).content.decode()
    assert "Copiar texto" in html
    assert "Descargar" in html


def test_an_influencer_in_two_campaigns_sees_both_libraries_and_can_pick_one(
    client: Any, ana: Any, brand_a: Any, library_a: Any, campaign_a: Any
) -> None:
    other = CampaignFactory(brand=brand_a, name="Otoño", slug="otono-2")
    campaign_assign_influencer(campaign=other, influencer=ana.influencer)
    creative_create(campaign=other, kind="caption", title="Texto otoño", caption="Otoño con {code}")
    draft = CampaignFactory(brand=brand_a, name="Borrador", slug="borrador", status="draft")
    creative_create(campaign=draft, kind="caption", title="Texto borrador", caption="No publicar")
    client.force_login(ana.influencer.user)
    html = client.get(_url(brand_a)).content.decode()
    assert html.count('data-testid="creative-library"') == 2
    assert "Texto otoño" in html
    assert "Otoño con {code}" in html  # no code in that campaign: the placeholder stays
    assert "Texto borrador" not in html  # a draft campaign's library is not shown
    picked = client.get(_url(brand_a), {"campaign": other.pk}).content.decode()
    assert picked.count('data-testid="creative-library"') == 1
    assert "Texto otoño" in picked
    assert "Foto playa" not in picked
    assert f'<option value="{other.pk}" selected>' in picked
