"""Whose name an account email (password reset, address confirmation) carries.

allauth sends these from accounts, which sits below the apps that know who a person works for.
An upper app registers a provider in its `AppConfig.ready()` (affiliates: the influencer's
brand); accounts asks it by email address and falls back to the platform's name."""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sites.models import Site


@dataclass(frozen=True)
class Branding:
    name: str
    color: str = ""
    #: where the person's own pages are (the portal of their brand), a path on SITE_URL
    home_path: str = "/"
    language: str = ""


Provider = Callable[[str], Branding | None]
_providers: list[Provider] = []


def email_branding_register(provider: Provider) -> None:
    """Idempotent: `ready()` may run more than once in tests."""
    if provider not in _providers:
        _providers.append(provider)


def platform_branding() -> Branding:
    return Branding(name=settings.PLATFORM_NAME)


def email_branding_for(email: str) -> Branding:
    for provider in _providers:
        found = provider(email)
        if found is not None:
            return found
    return platform_branding()


def site_domain() -> str:
    """The host people reach the platform at, from SITE_URL (never Django's "example.com")."""
    return urlsplit(settings.SITE_URL).netloc or "localhost"


def site_sync_on_migrate(**kwargs: object) -> None:
    """Keep the Sites row (allauth and the admin read it) on our domain and name. Runs after
    the sites app's own handler made the default row (it was connected first)."""
    app_config = kwargs.get("app_config")
    if getattr(app_config, "label", None) != "sites":
        return

    Site.objects.update_or_create(
        pk=settings.SITE_ID, defaults={"domain": site_domain(), "name": settings.PLATFORM_NAME}
    )
    Site.objects.clear_cache()
