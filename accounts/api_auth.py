"""DRF authentication and permissions: brand API keys for external clients, and sessions for
staff who passed 2FA. Both end up scoped to brands by brands.scoping."""

import hmac
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling
from rest_framework.request import Request

from accounts.api_scopes import STAFF_WRITE_PERMISSIONS
from accounts.models import API_KEY_PREFIX, APIKey
from core import request_context

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
        if api_key is None or not hmac.compare_digest(api_key.hashed_key, APIKey.hash_secret(raw)):
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        if api_key.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This API key was revoked."))
        if api_key.is_expired:
            raise exceptions.AuthenticationFailed(
                _("This API key has expired; use its replacement or create a new one.")
            )
        now = timezone.now()
        ip = request_context.current().ip
        # At most one write a minute per key (or when the address changes): usage is for people
        # auditing keys, not an access log.
        if (
            api_key.last_used_at is None
            or (now - api_key.last_used_at).total_seconds() > 60
            or api_key.last_used_ip != ip
        ):
            APIKey.objects.filter(pk=api_key.pk).update(last_used_at=now, last_used_ip=ip)
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


def required_scope(request: Request, view: Any) -> str | None:
    """`<resource>:read|write` for this request, or None when the view names no resource."""
    resource = getattr(view, "scope_resource", None)
    if not resource:
        return None
    reads = request.method in READ_METHODS or (request.method == "POST" and getattr(view, "post_is_read", False))
    return f"{resource}:{'read' if reads else 'write'}"


class IsBrandClient(permissions.BasePermission):
    """An API key holding the scope the view asks for, or a verified staff member (writes also
    need the Django permission the admin asks for); what they see is narrowed by brand scoping.
    A view that names no resource is refused to keys: new endpoints fail closed."""

    message = _("Authenticate with a brand API key or as verified staff.")

    def has_permission(self, request: Request, view: Any) -> bool:
        scope = required_scope(request, view)
        if isinstance(request.auth, APIKey):
            if scope is None or not request.auth.has_scope(scope):
                self.message = _("This API key lacks the scope %(scope)s.") % {"scope": scope or "-"}  # type: ignore[assignment]
                return False
            return True
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        if scope and scope.endswith(":write"):
            perm = STAFF_WRITE_PERMISSIONS.get(scope.split(":")[0])
            return bool(perm and user.has_perm(perm))
        return True


class APIClientRateThrottle(throttling.SimpleRateThrottle):
    """Per API key (its own `rate_limit_per_minute` or API_KEY_RATE_LIMIT), else per staff
    member, else per IP. Views opt in with `throttle_scope = "api"`; other scopes (the VTEX
    hook's "webhook") keep DRF's scoped rate per IP. A 429 carries Retry-After (DRF)."""

    cache = caches["default"]

    def __init__(self) -> None:  # the rate is chosen per request, not per class
        pass

    def allow_request(self, request: Request, view: Any) -> bool:
        scope = getattr(view, "throttle_scope", None)
        if not scope:
            return True
        rates: dict[str, str] = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]  # type: ignore[index,assignment]
        self.scope = scope
        rate = rates.get(scope)
        if scope == "api" and isinstance(request.auth, APIKey):
            per_minute = request.auth.rate_limit_per_minute or settings.API_KEY_RATE_LIMIT
            rate = f"{per_minute}/min"
        if not rate:
            return True
        self.rate = rate
        self.num_requests, self.duration = self.parse_rate(rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, APIKey):
            ident = f"key{request.auth.pk}"
        elif request.user and request.user.is_authenticated and request.user.pk:
            ident = f"user{request.user.pk}"
        else:
            ident = f"ip{self.get_ident(request)}"
        return f"throttle_{self.scope}_{ident}"


class APIKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "accounts.api_auth.APIKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "`Api-Key mgm_<prefix>_<secret>`, created in the admin or with `manage.py api_key_create`. "
                "Each key holds scopes (`influencers:write`, `orders:read`...); a request outside them gets 403."
            ),
        }


class VerifiedStaffSessionScheme(SessionScheme):
    target_class = "accounts.api_auth.VerifiedStaffSessionAuthentication"
    name = "staffSession"
