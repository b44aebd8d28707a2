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
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.ratelimits import mark_rate_limited
from affiliates.documents import document_types_for_country
from affiliates.forms import JoinAccountForm, JoinDocumentsForm, JoinExistingForm, document_type_choices
from affiliates.models import APPLICANT_COUNTRY_CHOICES, Influencer, KYCDocument
from affiliates.offers import join_offers
from affiliates.referrals import device_cookie_set, device_cookie_value, recruiting_link_by_token
from affiliates.selectors import (
    brand_for_join,
    campaign_list_open_for_application,
    influencer_for_join_session,
    influencer_for_user,
    policies_to_accept,
    policy_current_pair,
)
from affiliates.services.kyc import KycUpload
from affiliates.services.policies import policy_consents_resolve
from affiliates.services.registration import (
    ApplicantProfile,
    applicant_email_verification_send,
    influencer_register,
    membership_apply,
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


def _join_campaign_slug(request: HttpRequest, brand: Brand, referral_token: str) -> str:
    """The campaign the visitor was invited to: `?campaign=<slug>`, else the campaign of the
    recruiting link (`?ref=`), remembered in the session for step 2 and the POSTs."""
    key = f"join_campaign:{brand.pk}"
    slug = (request.GET.get("campaign") or "").strip()[:80]
    if not slug and request.GET.get("ref"):
        link = recruiting_link_by_token(referral_token)
        if link is not None and link.campaign.brand_id == brand.pk:
            slug = link.campaign.slug
    if slug:
        request.session[key] = slug
        return slug
    return str(request.session.get(key, ""))


def _applicant_key(brand: Brand) -> str:
    return f"join_applicant:{brand.pk}"


def _session_applicant(request: HttpRequest, brand: Brand) -> Influencer | None:
    """The person who finished step 1 in this browser and has not signed in since: they go on
    with step 2 without signing in. Once the account has been used to sign in, or after the
    session ends, step 2 needs signing in (the portal sends them back here)."""
    pk = request.session.get(_applicant_key(brand))
    if not pk:
        return None
    return influencer_for_join_session(pk=int(pk))


def _step_context(*, influencer: Influencer | None) -> dict[str, Any]:
    if influencer is None:
        return {"step": 1, "steps": 2, "existing": False}
    fresh = not influencer.memberships.exists()  # registered through step 1, no brand yet
    return {"step": 2, "steps": 2 if fresh else 1, "existing": not fresh}


@never_cache
@require_http_methods(["GET", "POST"])
@with_device_cookie
def join(request: HttpRequest, brand_slug: str) -> HttpResponse:
    """Two steps. Step 1 (a new person): account, profile, fiscal id and the brand's consents
    (`influencer_register`). Step 2 (right after, or signed in later): the campaign and the KYC
    documents (`membership_apply`). A signed-in influencer of another brand sees step 2 only,
    with this brand's consents."""
    brand = brand_for_join(slug=brand_slug)
    if brand is None:
        raise Http404
    referral_token = _join_referral_token(request, brand)
    device = getattr(request, "mgm_device", "")
    terms, privacy = policy_current_pair(brand=brand)
    campaigns = campaign_list_open_for_application(brand=brand)
    wanted = campaigns.filter(slug=_join_campaign_slug(request, brand, referral_token)).first()
    context: dict[str, Any] = {
        "brand": brand,
        "terms": terms,
        "privacy": privacy,
        "offers": join_offers(brand=brand, campaigns=campaigns, wanted=wanted),
    }
    if terms is None or privacy is None:
        return render(request, "affiliates/join_closed.html", context)

    user: Any = request.user
    influencer = influencer_for_user(user=user)
    if user.is_authenticated and influencer is None:
        return render(request, "affiliates/join_not_influencer.html", context)
    from_session = False
    if influencer is None:
        influencer = _session_applicant(request, brand)
        from_session = influencer is not None
    if influencer is not None and influencer.memberships.filter(brand=brand).exists():
        if from_session:
            return redirect("affiliates:join_done", brand_slug=brand.slug)
        messages.info(request, _("You have already applied to %(brand)s.") % {"brand": brand.name})
        return redirect("portal:dashboard", brand_slug=brand.slug)

    posted = request.method == "POST"  # bound even when empty: an empty POST gets its errors, not a 500
    data, files = (request.POST, request.FILES) if posted else (None, None)
    context.update(_step_context(influencer=influencer))
    form: Any
    initial: dict[str, Any] = {"terms_policy": terms.pk, "privacy_policy": privacy.pk}
    if influencer is None:
        if brand.country in dict(APPLICANT_COUNTRY_CHOICES):
            initial["country"] = brand.country
        form = JoinAccountForm(data, initial=initial)
        # With htmx, choosing a country lists its document types (the current one kept if it fits).
        form.fields["country"].widget.attrs.update(
            {
                "hx-get": reverse("affiliates:join_document_types", kwargs={"brand_slug": brand.slug}),
                "hx-trigger": "change",
                "hx-target": "#id_document_type",
                "hx-include": "#id_document_type",
                "hx-swap": "innerHTML",
            }
        )
    else:
        needs_consent = bool(policies_to_accept(influencer=influencer, brand=brand))
        form_class = JoinExistingForm if needs_consent else JoinDocumentsForm
        if wanted:
            initial["campaign"] = wanted.pk
        form = form_class(data, files, campaigns=campaigns, initial=initial)
    context.update(form=form)
    if not posted:
        return render(request, "affiliates/join.html", context)

    if not ratelimit.consume(request, action="signup"):
        mark_rate_limited(request, action="signup")
        form.is_valid()  # add_error needs the form cleaned; the answer is the 429 either way
        form.add_error(None, _("Too many applications from your connection. Wait a few minutes and try again."))
        return render(request, "affiliates/join.html", context, status=429)
    if form.is_valid():
        cleaned = form.cleaned_data
        try:
            if influencer is None:
                return _join_step_one(request, brand=brand, data=cleaned)
            if "accept_terms" in form.fields:
                # The services compare these with the versions in force: consent is to what was shown.
                shown_terms, shown_privacy = policy_consents_resolve(
                    brand=brand,
                    terms_id=cleaned["terms_policy"],
                    accept_terms=cleaned["accept_terms"],
                    privacy_id=cleaned["privacy_policy"],
                    accept_privacy=cleaned["accept_privacy"],
                )
            else:  # accepted in step 1, on record (policies_to_accept is empty)
                shown_terms, shown_privacy = terms, privacy
            membership = membership_apply(
                influencer=influencer,
                brand=brand,
                documents=_kyc_uploads(cleaned),
                terms=shown_terms,
                privacy=shown_privacy,
                campaign=cleaned.get("campaign"),
                referral_token=referral_token,
                device=device,
            )
        except ApplicationError as exc:
            _apply_error(form, exc)
        else:
            if from_session:  # the key stays: coming back shows the confirmation, not step 1
                request.session["affiliates_joined"] = membership.pk
                return redirect("affiliates:join_done", brand_slug=brand.slug)
            messages.success(request, _("Your application to %(brand)s was sent.") % {"brand": brand.name})
            return redirect("portal:dashboard", brand_slug=brand.slug)
    return render(request, "affiliates/join.html", context, status=400)


def _join_step_one(request: HttpRequest, *, brand: Brand, data: dict[str, Any]) -> HttpResponse:
    shown_terms, shown_privacy = policy_consents_resolve(
        brand=brand,
        terms_id=data["terms_policy"],
        accept_terms=data["accept_terms"],
        privacy_id=data["privacy_policy"],
        accept_privacy=data["accept_privacy"],
    )
    influencer = influencer_register(
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
        terms=shown_terms,
        privacy=shown_privacy,
        language=translation.get_language(),
    )
    applicant_email_verification_send(request=request, user=influencer.user)
    request.session[_applicant_key(brand)] = influencer.pk
    messages.success(request, _("Your account is created. One step left: your documents, to send the application."))
    return redirect("affiliates:join", brand_slug=brand.slug)


@require_http_methods(["GET"])
def join_document_types(request: HttpRequest, brand_slug: str) -> HttpResponse:
    """The document-type options of one country: htmx swaps them into the select when the
    country changes; without JavaScript the server lists the posted country's on the next render."""
    if brand_for_join(slug=brand_slug) is None:
        raise Http404
    country = (request.GET.get("country") or "")[:2]
    return render(
        request,
        "affiliates/_document_type_options.html",
        {
            "choices": document_type_choices(country),
            "grouped": not document_types_for_country(country),
            "selected": request.GET.get("document_type", ""),
        },
    )


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
