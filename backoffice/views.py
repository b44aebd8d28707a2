from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from brands.selectors import brand_public_list


def home(request: HttpRequest) -> HttpResponse:
    """The landing page: what the platform is, the way into the back office or the sign-in,
    and the brands that take applications."""
    return render(request, "backoffice/home.html", {"brands": brand_public_list()})


def _back_url(request: HttpRequest) -> str | None:
    """Where the person came from, if it is our own page and not the refused one."""
    referer = request.headers.get("Referer", "")
    if not referer or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    return None if referer.endswith(request.get_full_path()) else referer


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A refused action (handler403): a translated page in the look of where it happened, saying
    nothing changed, with a way back. Staff inside the back office see the admin's frame."""
    back_url = _back_url(request)
    user = request.user
    if request.path.startswith(reverse("admin:index")) and user.is_authenticated and user.is_staff:
        context = {**admin.site.each_context(request), "back_url": back_url, "title": _("Not allowed")}
        return render(request, "backoffice/403.html", context, status=403)
    return render(request, "403.html", {"back_url": back_url}, status=403)
