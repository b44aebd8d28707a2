"""allauth's emails are ours: the influencer's brand in the subject, sender and text, their
language, our domain (the Sites row follows SITE_URL), never "example.com"."""

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.sites.models import Site
from django.core import mail
from django.urls import reverse

from accounts.email_branding import site_sync_on_migrate
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _bodies(message: Any) -> str:
    return message.body + "".join(str(content) for content, _type in getattr(message, "alternatives", []))


def test_the_site_row_names_our_domain_not_example_com() -> None:
    site = Site.objects.get(pk=settings.SITE_ID)
    assert site.domain == urlsplit(settings.SITE_URL).netloc
    assert site.name == settings.PLATFORM_NAME


def test_the_site_row_follows_a_changed_site_url(settings: Any) -> None:
    settings.SITE_URL = "https://influencers.acme.test"
    site_sync_on_migrate(app_config=apps.get_app_config("accounts"))  # another app: nothing yet
    assert Site.objects.get(pk=settings.SITE_ID).domain != "influencers.acme.test"
    site_sync_on_migrate(app_config=apps.get_app_config("sites"))
    assert Site.objects.get(pk=settings.SITE_ID).domain == "influencers.acme.test"


def test_an_influencers_password_reset_speaks_for_their_brand_in_their_language(client: Any, brand_a: Any) -> None:
    membership = MembershipFactory(brand=brand_a, status="approved")
    user = membership.influencer.user
    user.preferred_language = "pt-br"
    user.save(update_fields=["preferred_language"])
    response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    [email] = mail.outbox
    assert email.to == [user.email]
    assert email.subject == "[Acme] Escolha uma nova senha"
    assert email.from_email.startswith("Acme <")
    body = _bodies(email)
    assert body.splitlines()[0] == "Olá! Quem escreve é Acme."
    assert "/accounts/password/reset/key/" in body
    assert f"{settings.SITE_URL}/portal/acme/" in body
    assert "example.com" not in body.replace(user.email, "")


def test_staff_and_unknown_addresses_get_the_platforms_name(client: Any) -> None:
    staff = UserFactory(email="ops@mgm.test", is_staff=True)
    client.post(reverse("account_reset_password"), {"email": staff.email})
    client.post(reverse("account_reset_password"), {"email": "nobody@mgm.test"})
    assert [m.subject.split("]")[0] for m in mail.outbox] == ["[MGM", "[MGM"]
    for message in mail.outbox:
        assert "example.com" not in _bodies(message)
        assert "Thank you for using" not in _bodies(message)  # allauth's default text is gone
