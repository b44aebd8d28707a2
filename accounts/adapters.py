from email.utils import formataddr, parseaddr
from typing import Any
from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation

from accounts.email_branding import Branding, email_branding_for
from accounts.ratelimits import mark_rate_limited
from core.request_context import client_ip


class AccountAdapter(DefaultAccountAdapter):
    _branding: Branding | None = None

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Account emails (password reset, address confirmation) speak for the person's brand,
        in their language, with links to our domain (templates/account/email/ are ours)."""
        branding = email_branding_for(email)
        self._branding = branding
        language = branding.language or translation.get_language() or settings.LANGUAGE_CODE
        extra = {
            "brand_name": branding.name,
            "brand_color": branding.color,
            "site_url": settings.SITE_URL,
            "home_url": f"{settings.SITE_URL}{branding.home_path}",
        }
        with translation.override(language):
            super().send_mail(template_prefix, email, {**context, **extra})

    def format_email_subject(self, subject: str) -> str:
        if self._branding is not None:
            return f"[{self._branding.name}] {subject}"
        return super().format_email_subject(subject)

    def get_from_email(self) -> str:
        _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        if self._branding is not None and address:
            return formataddr((self._branding.name, address))
        return super().get_from_email()

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # People do not sign up in the abstract: influencers apply to a brand on its join page,
        # and staff accounts are created by administrators.
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        # One rule for "who is the client" (TRUSTED_PROXY_COUNT), shared with the audit log and
        # metrics: behind a load balancer the rate limits key on the visitor, not the proxy.
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine the client IP address.")
        return ip

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # Per IP + email, not per email alone: otherwise anyone could keep a person locked out
        # by failing to sign in as them from elsewhere (decision 0003).
        return f"{self.get_client_ip(request)}:{super()._get_login_attempts_cache_key(request, **credentials)}"

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            # Refused by the limiter: the middleware answers 429 with this wait.
            mark_rate_limited(
                request,
                action="login_failed",
                key=self._get_login_attempts_cache_key(request, **credentials),
            )
            raise

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        url = super().get_login_redirect_url(request)
        user = request.user
        if user.is_authenticated and user.is_staff and not getattr(user, "is_verified", lambda: False)():
            return f"{reverse('two_factor')}?{urlencode({'next': url})}"
        return url
