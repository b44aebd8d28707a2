from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class MGMAdminSite(admin.AdminSite):
    """The back office. Reaching it takes an active staff account *and* a verified second
    factor; signing in goes through allauth (one login page, one rate limiter)."""

    site_header = _("MGM back office")
    site_title = _("MGM")
    index_title = _("Back office")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(super().has_permission(request) and getattr(user, "is_verified", lambda: False)())

    def login(self, request: HttpRequest, extra_context: dict[str, object] | None = None) -> HttpResponse:
        next_url = request.GET.get("next") or reverse("admin:index")
        if request.user.is_authenticated:
            if request.user.is_active and request.user.is_staff:
                return HttpResponseRedirect(f"{reverse('two_factor')}?{urlencode({'next': next_url})}")
            # Signed in, but not staff: the back office is not for them.
            return redirect("home")
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")
