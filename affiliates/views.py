"""The public join page (registration). Thin: a form validates, one service does the work, a
template renders. The portal itself lives in the `portal` app."""

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.core import ratelimit
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.ratelimits import mark_rate_limited
from affiliates.forms import JoinExistingForm, JoinForm
from affiliates.models import KYCDocument, Membership
from affiliates.referrals import device_cookie_set, device_cookie_value
from affiliates.selectors import (
    brand_for_join,
    campaign_list_open_for_application,
    influencer_for_user,
    policy_current_pair,
)
from affiliates.services import (
    ApplicantProfile,
    KycUpload,
    applicant_email_verification_send,
    influencer_apply,
    membership_apply,
    policy_consents_resolve,
)
from brands.models import Brand
from core.errors import ApplicationError

logger = logging.getLogger(__name__)


def _apply_error(form: Any, exc: ApplicationError) -> None:
    field = exc.extra.get("field")
    form.add_error(field if field in form.fields else None, str(exc.message))


def _kyc_uploads(cleaned: dict[str, Any]) -> list[KycUpload]:
    uploads = [KycUpload(kind=KYCDocument.Kind.IDENTITY, file=cleaned["identity_document"])]
    if cleaned.get("other_document"):
        uploads.append(KycUpload(kind=KYCDocument.Kind.OTHER, file=cleaned["other_document"]))
    return uploads


# --- Join -----------------------------------------------------------------------------------


def with_device_cookie(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Give the browser a random device cookie (kept only as a keyed hash) so a referral from
    the referrer's own browser is recognised as self (affiliates.referrals)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        value, is_new = device_cookie_value(request)
        request.mgm_device = value  # type: ignore[attr-defined]
        response = view(request, *args, **kwargs)
        if is_new:
            device_cookie_set(response, value)
        return response

    return wrapped


def _join_referral_token(request: HttpRequest, brand: Brand) -> str:
    """The recruiting link's token: from `?ref=` (remembered in the session for the POST)."""
    key = f"join_ref:{brand.pk}"
    token = (request.GET.get("ref") or "").strip()[:24]
    if token:
        request.session[key] = token
        return token
    return str(request.session.get(key, ""))


@never_cache
@require_http_methods(["GET", "POST"])
@with_device_cookie
def join(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = brand_for_join(slug=brand_slug)
    if brand is None:
        raise Http404
    referral_token = _join_referral_token(request, brand)
    device = getattr(request, "mgm_device", "")
    terms, privacy = policy_current_pair(brand=brand)
    context: dict[str, Any] = {"brand": brand, "terms": terms, "privacy": privacy}
    if terms is None or privacy is None:
        return render(request, "affiliates/join_closed.html", context)

    user: Any = request.user
    influencer = influencer_for_user(user=user)
    if user.is_authenticated and influencer is None:
        return render(request, "affiliates/join_not_influencer.html", context)
    if influencer is not None and influencer.memberships.filter(brand=brand).exists():
        messages.info(request, _("You have already applied to %(brand)s.") % {"brand": brand.name})
        return redirect("portal:dashboard", brand_slug=brand.slug)

    campaigns = campaign_list_open_for_application(brand=brand)
    form_class = JoinExistingForm if influencer is not None else JoinForm
    initial = {"terms_policy": terms.pk, "privacy_policy": privacy.pk}
    wanted = campaigns.filter(slug=request.GET.get("campaign", "")).first()
    if wanted:
        initial["campaign"] = wanted.pk
    posted = request.method == "POST"  # bound even when empty: an empty POST gets its errors, not a 500
    form = form_class(
        request.POST if posted else None, request.FILES if posted else None, campaigns=campaigns, initial=initial
    )
    context.update(form=form, existing=influencer is not None)
    status = 200
    if request.method == "POST":
        if not ratelimit.consume(request, action="signup"):
            mark_rate_limited(request, action="signup")
            form.is_valid()  # add_error needs the form cleaned; the answer is the 429 either way
            form.add_error(None, _("Too many applications from your connection. Wait a few minutes and try again."))
            return render(request, "affiliates/join.html", context, status=429)
        if form.is_valid():
            data = form.cleaned_data
            try:
                # The services compare these with the versions in force: consent is to what was shown.
                shown_terms, shown_privacy = policy_consents_resolve(
                    brand=brand,
                    terms_id=data["terms_policy"],
                    accept_terms=data["accept_terms"],
                    privacy_id=data["privacy_policy"],
                    accept_privacy=data["accept_privacy"],
                )
                referral = {"referral_token": referral_token, "device": device}
                if influencer is None:
                    membership = _join_new(
                        request, brand=brand, data=data, terms=shown_terms, privacy=shown_privacy, **referral
                    )
                else:
                    membership = membership_apply(
                        influencer=influencer,
                        brand=brand,
                        documents=_kyc_uploads(data),
                        terms=shown_terms,
                        privacy=shown_privacy,
                        campaign=data.get("campaign"),
                        **referral,
                    )
            except ApplicationError as exc:
                _apply_error(form, exc)
            else:
                if influencer is not None:
                    messages.success(request, _("Your application to %(brand)s was sent.") % {"brand": brand.name})
                    return redirect("portal:dashboard", brand_slug=brand.slug)
                request.session["affiliates_joined"] = membership.pk
                return redirect("affiliates:join_done", brand_slug=brand.slug)
        status = 400
    return render(request, "affiliates/join.html", context, status=status)


def _join_new(
    request: HttpRequest,
    *,
    brand: Brand,
    data: dict[str, Any],
    terms: Any,
    privacy: Any,
    referral_token: str = "",
    device: str = "",
) -> Membership:
    membership = influencer_apply(
        brand=brand,
        email=data["email"],
        password=data["password1"],
        profile=ApplicantProfile(
            full_name=data["full_name"],
            country=data["country"],
            document_type=data["document_type"],
            document_number=data["document_number"],
            phone=data["phone"],
            instagram=data.get("instagram", ""),
            tiktok=data.get("tiktok", ""),
            youtube=data.get("youtube", ""),
            audience_size=data["audience_size"],
        ),
        documents=_kyc_uploads(data),
        terms=terms,
        privacy=privacy,
        campaign=data.get("campaign"),
        language=translation.get_language(),
        referral_token=referral_token,
        device=device,
    )
    applicant_email_verification_send(request=request, membership=membership)
    return membership


@never_cache
def join_done(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = brand_for_join(slug=brand_slug)
    if brand is None:
        raise Http404
    return render(request, "affiliates/join_done.html", {"brand": brand})


def policy_detail(request: HttpRequest, brand_slug: str, kind: str) -> HttpResponse:
    brand = brand_for_join(slug=brand_slug)
    if brand is None:
        raise Http404
    terms, privacy = policy_current_pair(brand=brand)
    policy = {"terms": terms, "privacy": privacy}.get(kind)
    if policy is None:
        raise Http404
    return render(request, "affiliates/policy.html", {"brand": brand, "policy": policy})
