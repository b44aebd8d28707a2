import base64
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.forms import TokenForm
from audit.services import audit_record
from core.qr import qr_svg

logger = logging.getLogger(__name__)


def _safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index") if request.user.is_staff else reverse("home")


@never_cache
@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Verify a second factor, or enrol one (QR code) for people who have none yet."""
    next_url = _safe_next(request)
    user = request.user
    if user.is_verified():  # type: ignore[union-attr]
        return redirect(next_url)

    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    enrol = device is None
    if enrol:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    assert device is not None

    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _data = device.verify_is_allowed()
        if not allowed:
            form.add_error("token", _("Too many wrong codes. Wait a moment and try again."))
        elif device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                if enrol:
                    device.confirmed = True
                    device.save(update_fields=["confirmed"])
                    audit_record(action="auth.two_factor_enrolled", target=user, actor=user)  # type: ignore[arg-type]
                otp_login(request, device)
            if enrol:
                messages.success(request, _("Two-factor authentication is on for your account."))
            return redirect(next_url)
        else:
            logger.info("wrong TOTP code for user %s", user.pk)
            form.add_error("token", _("That code is not valid. Check the time on your phone and try the newest code."))

    context = {"form": form, "enrol": enrol, "next": next_url}
    if enrol:
        context["qr_svg"] = qr_svg(device.config_url, scale=5)
        context["secret"] = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request, "accounts/two_factor.html", context, status=200 if form.is_bound is False or form.is_valid() else 400
    )
