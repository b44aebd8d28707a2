import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import APIKey
from accounts.services import api_key_create, api_key_revoke
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def auth(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Api-Key {key}"}


def test_key_is_stored_hashed_and_shown_once(brand_a, capsys):
    call_command("api_key_create", "--brand", brand_a.slug, "--name", "BI warehouse")
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    api_key = APIKey.objects.get()
    assert printed.startswith(f"mgm_{api_key.prefix}_")
    assert printed not in api_key.hashed_key
    assert api_key.hashed_key == APIKey.hash_secret(printed)
    assert AuditEvent.objects.filter(action="api_key.created", brand_id=brand_a.pk).exists()


def test_key_sees_only_its_brand(brand_a, brand_b):
    _api_key, secret = api_key_create(brand=brand_a, name="BI")
    client = Client()
    listing = client.get("/api/v1/brands/", **auth(secret))
    assert listing.status_code == 200
    assert [b["slug"] for b in listing.json()["results"]] == [brand_a.slug]
    assert client.get(f"/api/v1/brands/{brand_b.slug}/", **auth(secret)).status_code == 404


def test_revoked_key_is_refused(brand_a):
    api_key, secret = api_key_create(brand=brand_a, name="BI")
    api_key_revoke(api_key=api_key)
    response = Client().get("/api/v1/brands/", **auth(secret))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


@pytest.mark.parametrize(
    "header_case",
    ["Api-Key mgm_deadbeef_nope", "Api-Key not-a-key", "Bearer mgm__", "Api-Key "],
)
def test_forged_keys_are_refused(brand_a, header_case):
    api_key_create(brand=brand_a, name="BI")
    response = Client().get("/api/v1/brands/", HTTP_AUTHORIZATION=header_case)
    assert response.status_code in (401, 403)


def test_key_with_right_prefix_but_wrong_secret_is_refused(brand_a):
    api_key, _secret = api_key_create(brand=brand_a, name="BI")
    response = Client().get("/api/v1/brands/", **auth(f"mgm_{api_key.prefix}_guessed-secret"))
    assert response.status_code == 401


def test_anonymous_and_influencer_sessions_get_nothing(client, influencer_a):
    assert client.get("/api/v1/brands/").status_code in (401, 403)
    client.force_login(influencer_a.user)
    assert client.get("/api/v1/brands/").status_code in (401, 403)


def test_staff_session_without_second_factor_is_refused(client, manager_a):
    client.force_login(manager_a)
    assert client.get("/api/v1/brands/").status_code in (401, 403)


def test_openapi_schema_and_docs_are_served(verified_client, manager_a):
    client = verified_client(manager_a)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/v1/brands/" in schema.json()["paths"]
    assert "ApiKeyAuth" in schema.json()["components"]["securitySchemes"]
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
