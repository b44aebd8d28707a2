"""The public join page and the influencer portal. Thin: a form validates, one service or
selector does the work, a template renders (the template partial when htmx asks)."""

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account.decorators import reauthentication_required
from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.ratelimits import mark_rate_limited
from affiliates import portal_selectors
from affiliates.charts import trend_chart
from affiliates.forms import JoinExistingForm, JoinForm, PayoutForm, PeriodForm, ProfileForm
from affiliates.models import Influencer, KYCDocument, Membership
from affiliates.portal_nav import portal_nav_items
from affiliates.selectors import (
    brand_for_join,
    campaign_list_open_for_application,
    influencer_for_user,
    membership_list_for_user,
    payout_account_get,
    policy_current_pair,
)
from affiliates.services import (
    ApplicantProfile,
    KycUpload,
    PayoutData,
    applicant_email_verification_send,
    influencer_apply,
    influencer_profile_update,
    influencer_two_factor_disable,
    membership_apply,
    payout_account_update,
    policy_consents_resolve,
)
from campaigns.models import Brand
from core.errors import ApplicationError
from core.qr import qr_svg

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


@never_cache
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, brand_slug: str) -> HttpResponse:
    brand = brand_for_join(slug=brand_slug)
    if brand is None:
        raise Http404
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
        return redirect("affiliates:portal_dashboard", brand_slug=brand.slug)

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
                if influencer is None:
                    membership = _join_new(request, brand=brand, data=data, terms=shown_terms, privacy=shown_privacy)
                else:
                    membership = membership_apply(
                        influencer=influencer,
                        brand=brand,
                        documents=_kyc_uploads(data),
                        terms=shown_terms,
                        privacy=shown_privacy,
                        campaign=data.get("campaign"),
                    )
            except ApplicationError as exc:
                _apply_error(form, exc)
            else:
                if influencer is not None:
                    messages.success(request, _("Your application to %(brand)s was sent.") % {"brand": brand.name})
                    return redirect("affiliates:portal_dashboard", brand_slug=brand.slug)
                request.session["affiliates_joined"] = membership.pk
                return redirect("affiliates:join_done", brand_slug=brand.slug)
        status = 400
    return render(request, "affiliates/join.html", context, status=status)


def _join_new(request: HttpRequest, *, brand: Brand, data: dict[str, Any], terms: Any, privacy: Any) -> Membership:
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


# --- Portal ---------------------------------------------------------------------------------

PortalView = Callable[..., HttpResponse]


def _has_confirmed_totp(user: Any) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _activate_preferred_language(request: HttpRequest, influencer: Influencer) -> None:
    # The language switcher's cookie wins (this browser's choice); without it, the profile's.
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return
    language = influencer.user.preferred_language
    translation.activate(language)
    request.LANGUAGE_CODE = language


def _influencer_or_404(request: HttpRequest) -> Influencer:
    influencer = influencer_for_user(user=request.user)
    if influencer is None:
        raise Http404
    return influencer


def portal_view(section: str, *, needs: tuple[str, ...] | None = None) -> Callable[[PortalView], PortalView]:
    """Signed in, an influencer, second factor passed if they enabled one, and a membership
    with the brand in the URL. `needs` lists the statuses the section requires; other
    statuses see the membership status page instead."""

    def decorator(view: PortalView) -> PortalView:
        @never_cache
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, brand_slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            user: Any = request.user
            # One query gives the person, the brand in the URL and the brand switcher.
            memberships = list(membership_list_for_user(user=user))
            influencer = memberships[0].influencer if memberships else _influencer_or_404(request)
            if not user.is_verified() and _has_confirmed_totp(user):
                return redirect_to_login(request.get_full_path(), reverse("two_factor"), "next")
            membership = next((m for m in memberships if m.brand.slug == brand_slug), None)
            if membership is None:
                raise Http404
            _activate_preferred_language(request, influencer)
            context = {
                "brand": membership.brand,
                "membership": membership,
                "influencer": influencer,
                "other_memberships": [m for m in memberships if m.pk != membership.pk],
                "nav_items": portal_nav_items(
                    brand_slug=brand_slug,
                    current=section,
                    suspended=membership.status != Membership.Status.APPROVED,
                ),
                "section": section,
            }
            if needs is not None and membership.status not in needs:
                return render(request, "affiliates/portal/status.html", context)
            return view(request, context, *args, **kwargs)

        return wrapper

    return decorator


APPROVED = (Membership.Status.APPROVED,)
ACTIVE_OR_SUSPENDED = (Membership.Status.APPROVED, Membership.Status.SUSPENDED)


@never_cache
@login_required
def portal_home(request: HttpRequest) -> HttpResponse:
    """The brand picker: straight to the brand when there is only one."""
    influencer = _influencer_or_404(request)
    memberships = list(membership_list_for_user(user=request.user))
    if len(memberships) == 1:
        return redirect("affiliates:portal_dashboard", brand_slug=memberships[0].brand.slug)
    _activate_preferred_language(request, influencer)
    return render(request, "affiliates/portal/home.html", {"memberships": memberships, "influencer": influencer})


@portal_view("dashboard", needs=ACTIVE_OR_SUSPENDED)
def portal_dashboard(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    membership: Membership = context["membership"]
    form = PeriodForm(request.GET or None)
    key = form.cleaned_data.get("period") if form.is_valid() else None
    period = portal_selectors.period_resolve(key=key, tz=membership.brand.tz)
    dashboard = portal_selectors.portal_dashboard(membership=membership, period=period)
    context.update(
        form=PeriodForm(initial={"period": period.key}),
        dashboard=dashboard,
        chart=trend_chart(dashboard.series, currency=dashboard.currency),
        codes=[c for c in portal_selectors.portal_code_list(membership=membership) if c.is_active]
        if membership.status == Membership.Status.APPROVED
        else [],
    )
    template = "affiliates/portal/dashboard.html"
    if getattr(request, "htmx", False):
        template += "#stats"
    return render(request, template, context)


def _qr_svg(data: str) -> str:
    return qr_svg(data, scale=4, dark="#1d2433")


@portal_view("codes", needs=APPROVED)
def portal_codes(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    membership: Membership = context["membership"]
    codes = portal_selectors.portal_code_list(membership=membership)
    links = portal_selectors.portal_link_list(membership=membership)
    context.update(
        codes=[{"code": code, "qr": _qr_svg(code.code)} for code in codes],
        links=[{"link": link, "qr": _qr_svg(link.url)} for link in links],
    )
    return render(request, "affiliates/portal/codes.html", context)


@portal_view("codes", needs=APPROVED)
def portal_code_qr(request: HttpRequest, context: dict[str, Any], code_pk: int) -> HttpResponse:
    code = portal_selectors.portal_code_get(membership=context["membership"], pk=code_pk)
    if code is None:
        raise Http404
    response = HttpResponse(qr_svg(code.code, scale=8, document=True), content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="qr-{code.code}.svg"'
    response["Cache-Control"] = "private, no-store"
    return response


@portal_view("orders", needs=ACTIVE_OR_SUSPENDED)
def portal_orders(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    membership: Membership = context["membership"]
    form = PeriodForm(request.GET or None)
    key = form.cleaned_data.get("period") if form.is_valid() else None
    period = portal_selectors.period_resolve(key=key, tz=membership.brand.tz)
    context.update(
        form=PeriodForm(initial={"period": period.key}),
        period=period,
        orders=portal_selectors.portal_order_list(membership=membership, period=period),
    )
    template = "affiliates/portal/orders.html"
    if getattr(request, "htmx", False):
        template += "#order-table"
    return render(request, template, context)


@portal_view("earnings", needs=ACTIVE_OR_SUSPENDED)
def portal_earnings(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    membership: Membership = context["membership"]
    context.update(
        totals=portal_selectors.portal_commission_totals(membership=membership),
        earnings=portal_selectors.portal_earning_list(membership=membership),
        currency=membership.brand.currency,
    )
    return render(request, "affiliates/portal/earnings.html", context)


@portal_view("profile")
def portal_profile(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    influencer: Influencer = context["influencer"]
    form = ProfileForm(request.POST or None, initial=ProfileForm.initial_for(influencer))
    if request.method == "POST" and form.is_valid():
        try:
            updated = influencer_profile_update(influencer=influencer, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            _apply_error(form, exc)
        else:
            language = updated.user.preferred_language
            with translation.override(language):
                messages.success(request, _("Your profile was saved."))
            response = redirect("affiliates:portal_profile", brand_slug=context["brand"].slug)
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite="Lax",
                secure=request.is_secure(),
            )
            return response
    context["form"] = form
    return render(request, "affiliates/portal/profile.html", context, status=400 if form.errors else 200)


@portal_view("payout")
@reauthentication_required
def portal_payout(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
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
            _apply_error(form, exc)
            if exc.code == "two_factor_required":
                context["two_factor_url"] = f"{reverse('two_factor')}?next={request.path}"
        else:
            messages.success(request, _("Your payout data was saved. We sent you an email about the change."))
            return redirect("affiliates:portal_payout", brand_slug=context["brand"].slug)
    context.update(form=form, account=account.masked() if account else None, account_obj=account)
    return render(request, "affiliates/portal/payout.html", context, status=400 if form.errors else 200)


@portal_view("security")
def portal_security(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    context["totp_enabled"] = _has_confirmed_totp(request.user)
    context["enrol_url"] = f"{reverse('two_factor')}?next={request.path}"
    return render(request, "affiliates/portal/security.html", context)


@require_POST
@portal_view("security")
@reauthentication_required
def portal_security_disable(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    try:
        influencer_two_factor_disable(user=request.user, actor=request.user)  # type: ignore[arg-type]
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Two-factor authentication is off."))
    return redirect("affiliates:portal_security", brand_slug=context["brand"].slug)
