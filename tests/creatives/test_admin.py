"""The back office's creatives: managers upload through the admin (refusals beside the field,
nothing stored), see previews, archive; everything is scoped to their brands (another brand's
pieces and files answer 404)."""

from typing import Any

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from creatives.models import Creative
from creatives.services import creative_create
from tests.affiliates.factories import pdf_bytes, png_bytes
from tests.creatives.conftest import stored_files, upload

pytestmark = pytest.mark.django_db

ADD = "admin:creatives_creative_add"
LIST = "admin:creatives_creative_changelist"


@pytest.fixture
def creative_b(campaign_b: Any) -> Creative:
    return creative_create(
        campaign=campaign_b, kind="image", title="Foto invierno", upload=upload("i.png", png_bytes((300, 200)))
    )


def _form(campaign: Any, **values: Any) -> dict[str, Any]:
    return {
        "campaign": campaign.pk,
        "kind": "image",
        "title": "Foto",
        "notes": "",
        "video_url": "",
        "caption": "",
        **values,
    }


def test_a_manager_uploads_an_image_and_sees_its_preview(
    verified_client: Any, manager_a: Any, campaign_a: Any, private_dir: Any
) -> None:
    client = verified_client(manager_a)
    response = client.post(reverse(ADD), _form(campaign_a, upload=upload("foto.png", png_bytes((900, 600)))))
    assert response.status_code == 302, response.content.decode()[:2000]
    creative = Creative.objects.get()
    assert (creative.kind, creative.brand_id, creative.created_by) == ("image", campaign_a.brand_id, manager_a)
    assert len(stored_files(private_dir)) == 2
    page = client.get(reverse("admin:creatives_creative_change", args=[creative.pk])).content.decode()
    thumb = reverse("admin:creatives_creative_thumbnail", args=[creative.pk])
    assert thumb in page
    assert reverse("admin:creatives_creative_file", args=[creative.pk]) in page
    assert client.get(thumb)["Content-Type"] == "image/jpeg"
    listing = client.get(reverse(LIST)).content.decode()
    assert thumb in listing
    assert "Foto" in listing


def test_a_file_of_the_wrong_type_is_refused_beside_the_field_and_nothing_is_stored(
    verified_client: Any, manager_a: Any, campaign_a: Any, private_dir: Any
) -> None:
    client = verified_client(manager_a)
    response = client.post(reverse(ADD), _form(campaign_a, upload=upload("foto.png", pdf_bytes(), "image/png")))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Upload a JPEG, PNG or WebP image" in html
    assert "errorlist" in html
    assert not Creative.objects.exists()
    assert stored_files(private_dir) == []
    response = client.post(
        reverse(ADD), _form(campaign_a, kind="video", video_url="http://youtube.com/watch?v=1", title="Reel")
    )
    assert "must start with https://" in response.content.decode()
    assert not Creative.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="creative.").exists()


def test_a_too_big_file_is_refused_in_spanish(
    verified_client: Any, manager_a: Any, campaign_a: Any, private_dir: Any, settings: Any
) -> None:
    settings.CREATIVES_PDF_MAX_BYTES = 50
    client = verified_client(manager_a)
    client.cookies["django_language"] = "es"
    response = client.post(reverse(ADD), _form(campaign_a, kind="guidelines", upload=upload("m.pdf", pdf_bytes())))
    assert "el límite es 50" in response.content.decode()
    assert not Creative.objects.exists()
    assert stored_files(private_dir) == []


def test_a_caption_shows_as_an_influencer_would_see_it(verified_client: Any, manager_a: Any, campaign_a: Any) -> None:
    client = verified_client(manager_a)
    response = client.post(
        reverse(ADD), _form(campaign_a, kind="caption", title="Texto", caption="Usa {code} en {link}")
    )
    assert response.status_code == 302
    creative = Creative.objects.get()
    page = client.get(reverse("admin:creatives_creative_change", args=[creative.pk])).content.decode()
    assert "Usa ANA10 en https://…/r/ana-summer" in page


def test_the_list_and_pages_are_scoped_to_the_managers_brands(
    verified_client: Any, manager_a: Any, creative_b: Any, campaign_a: Any, campaign_b: Any
) -> None:
    mine = creative_create(campaign=campaign_a, kind="caption", title="Texto verano", caption="Hola {code}")
    client = verified_client(manager_a)
    listing = client.get(reverse(LIST)).content.decode()
    assert "Texto verano" in listing
    assert "Foto invierno" not in listing
    assert "Invierno" not in listing  # the campaign filter lists only the manager's campaigns
    for name in ("change", "file", "thumbnail"):
        assert client.get(reverse(f"admin:creatives_creative_{name}", args=[creative_b.pk])).status_code == 404
    assert client.get(reverse("admin:creatives_creative_change", args=[mine.pk])).status_code == 200
    # a campaign of another brand cannot be chosen
    response = client.post(reverse(ADD), _form(campaign_b, kind="caption", title="x", caption="Hola"))
    assert response.status_code == 200
    assert Creative.objects.filter(campaign=campaign_b).count() == 1


def test_finance_sees_but_cannot_add_and_managers_archive_through_the_action(
    verified_client: Any, manager_a: Any, finance_a: Any, campaign_a: Any
) -> None:
    creative = creative_create(campaign=campaign_a, kind="caption", title="Texto", caption="Hola {code}")
    finance = verified_client(finance_a)
    assert finance.get(reverse(LIST)).status_code == 200
    assert finance.get(reverse(ADD)).status_code == 403
    manager = verified_client(manager_a)
    response = manager.post(reverse(LIST), {"action": "archive", "_selected_action": [creative.pk]})
    assert response.status_code == 302
    creative.refresh_from_db()
    assert creative.is_active is False
    assert AuditEvent.objects.filter(action="creative.archived", actor_id=manager_a.pk).exists()
