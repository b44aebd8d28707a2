"""`/api/v1/campaigns/<id>/creatives/` with the brand's key: the campaign's library, another
brand's campaign answers 404, files stream to the same key, and it is in the OpenAPI schema."""

from typing import Any

import pytest

from accounts.services import api_key_create
from creatives.services import creative_set_active
from tests.api.conftest import auth

pytestmark = pytest.mark.django_db


def _list(campaign: Any) -> str:
    return f"/api/v1/campaigns/{campaign.pk}/creatives/"


def test_a_brand_key_lists_its_campaign_creatives(client: Any, brand_a: Any, campaign_a: Any, library_a: Any) -> None:
    _k, key = api_key_create(brand=brand_a, name="CMS", scopes=["campaigns:read"])
    response = client.get(_list(campaign_a), **auth(key))
    assert response.status_code == 200
    rows = {row["kind"]: row for row in response.json()["results"]}
    assert set(rows) == {"image", "video", "caption"}
    assert rows["caption"]["caption"].startswith("¡Llegó el verano en {brand}!")
    assert rows["video"]["video_url"] == "https://www.youtube.com/watch?v=abc"
    image = rows["image"]
    assert (image["content_type"], image["width"], image["height"]) == ("image/png", 800, 600)
    assert image["download_path"] == f"/api/v1/campaigns/{campaign_a.pk}/creatives/{image['id']}/file"
    assert "http" not in str(image["download_path"])  # never a public file URL
    file = client.get(image["download_path"], **auth(key))
    assert file.status_code == 200
    assert b"".join(file.streaming_content).startswith(b"\x89PNG")
    creative_set_active(creative=library_a["video"], active=False)
    active = client.get(_list(campaign_a) + "?is_active=true&kind=video", **auth(key)).json()["results"]
    assert active == []


def test_another_brands_campaign_and_files_answer_404(
    client: Any, brand_b: Any, campaign_a: Any, library_a: Any
) -> None:
    _k, key = api_key_create(brand=brand_b, name="CMS", scopes=["campaigns:read"])
    assert client.get(_list(campaign_a), **auth(key)).status_code == 404
    image = library_a["image"]
    assert client.get(f"{_list(campaign_a)}{image.pk}/file", **auth(key)).status_code == 404


def test_a_key_without_the_campaigns_scope_is_refused(client: Any, brand_a: Any, campaign_a: Any) -> None:
    _k, key = api_key_create(brand=brand_a, name="Pay", scopes=["withdrawals:read"])
    assert client.get(_list(campaign_a), **auth(key)).status_code == 403


def test_the_endpoints_are_in_the_openapi_schema(client: Any) -> None:
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/campaigns/{campaign_pk}/creatives/" in schema["paths"]
    assert "/api/v1/campaigns/{campaign_pk}/creatives/{id}/file" in schema["paths"]
    operation = schema["paths"]["/api/v1/campaigns/{campaign_pk}/creatives/"]["get"]
    assert operation["operationId"] == "campaign_creatives_list"
