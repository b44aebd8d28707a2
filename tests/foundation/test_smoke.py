import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_page_renders_in_spanish_by_default(client, settings):
    settings.LANGUAGE_CODE = "es"
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response["Content-Language"] == "es"


def test_healthz_reports_database_and_cache(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["cache"] == "ok"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("es", "Autenticación de dos factores"), ("pt-br", "Autenticação de dois fatores"), ("en", "Two-factor")],
)
def test_pages_are_translated(client, manager_a, language, expected):
    client.force_login(manager_a)
    response = client.get(reverse("two_factor"), HTTP_ACCEPT_LANGUAGE=language)
    assert expected in response.content.decode()


def test_spanish_is_the_default_for_a_browser_without_preference(client, settings):
    settings.LANGUAGE_CODE = "es"
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="")
    assert "Iniciar sesión" in response.content.decode()
