"""Portal pages about the influencer's account: profile, payout data, security (2FA)."""

from typing import Any

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.two_factor import has_confirmed_totp
from affiliates.models import Influencer
from affiliates.selectors import payout_account_get
from affiliates.services.payout_accounts import PayoutData, payout_account_update
from affiliates.services.profile import influencer_profile_update
from affiliates.services.two_factor import influencer_two_factor_disable
from core.errors import ApplicationError
from portal.access import portal_view
from portal.forms import PayoutForm, ProfileForm, apply_error


@portal_view("profile")
def profile(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    influencer: Influencer = context["influencer"]
    form = ProfileForm(request.POST or None, initial=ProfileForm.initial_for(influencer))
    if request.method == "POST" and form.is_valid():
        try:
            updated = influencer_profile_update(influencer=influencer, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            language = updated.user.preferred_language
            with translation.override(language):
                messages.success(request, _("Your profile was saved."))
            response = redirect("portal:profile", brand_slug=context["brand"].slug)
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite="Lax",
                secure=request.is_secure(),
            )
            return response
    context["form"] = form
    return render(request, "portal/profile.html", context, status=400 if form.errors else 200)


@portal_view("payout")
@reauthentication_required
def payout(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    influencer: Influencer = context["influencer"]
    account = payout_account_get(influencer=influencer)
    initial: dict[str, Any] = {"account_holder": influencer.user.full_name or influencer.display_name}
    if account is not None:
        # Secrets are never put back into the page: the form asks for them again.
        initial = {
            "account_holder": account.account_holder,
            "bank_name": account.bank_name,
            "bank_code": account.bank_code,
            "account_type": account.account_type,
            "key_type": account.key_type,
            "holder_document_type": account.holder_document_type,
        }
    elif influencer.document_type:
        initial["holder_document_type"] = influencer.document_type
    form = PayoutForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            payout_account_update(influencer=influencer, data=PayoutData(**form.cleaned_data), actor=request.user)
        except ApplicationError as exc:
            apply_error(form, exc)
            if exc.code == "two_factor_required":
                context["two_factor_url"] = f"{reverse('two_factor')}?next={request.path}"
        else:
            messages.success(request, _("Your payout data was saved. We sent you an email about the change."))
            return redirect("portal:payout", brand_slug=context["brand"].slug)
    context.update(form=form, account=account.masked() if account else None, account_obj=account)
    return render(request, "portal/payout.html", context, status=400 if form.errors else 200)


@portal_view("security")
def security(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    context["totp_enabled"] = has_confirmed_totp(request.user)
    context["enrol_url"] = f"{reverse('two_factor')}?next={request.path}"
    return render(request, "portal/security.html", context)


@require_POST
@portal_view("security")
@reauthentication_required
def security_disable(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    try:
        influencer_two_factor_disable(user=request.user, actor=request.user)  # type: ignore[arg-type]
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Two-factor authentication is off."))
    return redirect("portal:security", brand_slug=context["brand"].slug)
