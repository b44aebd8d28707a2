import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_page_renders_in_spanish_by_default(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response["Content-Language"] == "es"


def test_healthz_reports_database_and_cache(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["cache"] == "ok"
