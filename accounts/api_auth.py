"""DRF authentication and permissions: brand API keys for external clients, and sessions for
staff who passed 2FA. Both end up scoped to brands by accounts.scoping."""

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from accounts.models import API_KEY_PREFIX, APIKey


class APIKeyClient:
    """The principal behind an API key: not a person, so not a User."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, api_key: APIKey) -> None:
        self.api_key = api_key

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


class APIKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key mgm_<prefix>_<secret>` (or `Bearer`)."""

    keywords = ("api-key", "bearer")

    def authenticate(self, request: Request) -> tuple[APIKeyClient, APIKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").strip()
        if not header:
            return None
        keyword, _sep, raw = header.partition(" ")
        if keyword.lower() not in self.keywords:
            return None
        raw = raw.strip()
        parts = raw.split("_")
        if len(parts) < 3 or parts[0] != API_KEY_PREFIX:
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        prefix = parts[1]
        api_key = APIKey.objects.select_related("brand").filter(prefix=prefix).first()
        # compare_digest on the hashes: equal-length strings, constant time.
        import hmac

        if api_key is None or not hmac.compare_digest(api_key.hashed_key, APIKey.hash_secret(raw)):
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        if not api_key.is_active:
            raise exceptions.AuthenticationFailed(_("This API key was revoked."))
        now = timezone.now()
        if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
            APIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return APIKeyClient(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return 'Api-Key realm="api"'


class VerifiedStaffSessionAuthentication(authentication.SessionAuthentication):
    """Session auth for staff, but only once they passed two-factor verification."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        if not user.is_staff:
            return None
        is_verified = getattr(user, "is_verified", lambda: False)
        if not is_verified():
            return None
        return result


class IsBrandClient(permissions.BasePermission):
    """An API key, or a verified staff member; what they see is narrowed by brand scoping."""

    message = _("Authenticate with a brand API key or as verified staff.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, APIKey):
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)


class APIKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "accounts.api_auth.APIKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key mgm_<prefix>_<secret>`, created with `manage.py api_key_create`.",
        }


class VerifiedStaffSessionScheme(SessionScheme):
    target_class = "accounts.api_auth.VerifiedStaffSessionAuthentication"
    name = "staffSession"
