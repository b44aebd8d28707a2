"""Applying to a brand: a new person in one go (`influencer_apply`) or in two steps
(`influencer_register`, then `membership_apply`), with KYC documents and consents. Managers
are emailed on commit; the caller sends the email verification (allauth needs the request)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from affiliates.documents import DocumentInvalid, document_validate
from affiliates.models import Influencer, Membership, PolicyAcceptance, PolicyDocument
from affiliates.referrals import referral_record
from affiliates.selectors import manager_recipients, policy_current
from affiliates.services.event_data import membership_event_data
from affiliates.services.kyc import KycUpload, kyc_documents_check, kyc_store, kyc_stored_delete
from affiliates.services.validation import application_refused, handle_clean, phone_normalize
from audit.services import audit_record
from brands.models import Brand
from campaigns.models import Campaign
from core import events, request_context
from integrations.email import email_send

Status = Membership.Status


@dataclass(frozen=True)
class ApplicantProfile:
    full_name: str
    country: str
    document_type: str
    document_number: str
    phone: str
    instagram: str = ""
    tiktok: str = ""
    youtube: str = ""
    audience_size: int = 0


def _check_policies(*, brand: Brand, terms: PolicyDocument | None, privacy: PolicyDocument | None) -> None:
    current_terms = policy_current(brand=brand, kind=PolicyDocument.Kind.TERMS)
    current_privacy = policy_current(brand=brand, kind=PolicyDocument.Kind.PRIVACY)
    if current_terms is None or current_privacy is None:
        raise application_refused(
            _("%(brand)s is not taking applications yet.") % {"brand": brand.name}, code="no_policies"
        )
    if terms is None:
        raise application_refused(
            _("Accept the terms and conditions to apply."), field="accept_terms", code="consent_missing"
        )
    if privacy is None:
        raise application_refused(
            _("Accept the privacy policy to apply."), field="accept_privacy", code="consent_missing"
        )
    if terms.pk != current_terms.pk or privacy.pk != current_privacy.pk:
        raise application_refused(
            _(
                "The terms or the privacy policy changed while you were filling in the form. Read them again and accept."
            ),
            code="policy_changed",
        )


def _check_brand(brand: Brand) -> None:
    if not brand.is_active:
        raise application_refused(
            _("%(brand)s is not taking applications.") % {"brand": brand.name}, code="brand_inactive"
        )


def _check_campaign(*, brand: Brand, campaign: Campaign | None) -> None:
    if campaign is not None and campaign.brand_id != brand.pk:
        raise application_refused(_("Choose one of this brand's campaigns."), field="campaign")


def _accept_policies(*, influencer: Influencer, policies: Iterable[PolicyDocument]) -> None:
    meta = request_context.current()
    for policy in policies:
        PolicyAcceptance.objects.get_or_create(
            policy=policy,
            influencer=influencer,
            defaults={"ip": meta.ip, "user_agent": meta.user_agent[:400], "accepted_at": timezone.now()},
        )


def _notify_managers(membership: Membership) -> None:
    influencer = membership.influencer
    for manager in manager_recipients(brand=membership.brand):
        email_send(
            to=[manager.email],
            template="affiliates_application_new",
            language=manager.preferred_language,
            context={
                "brand": membership.brand.name,
                "influencer": influencer.display_name,
                "country": influencer.country,
                "audience_size": influencer.audience_size,
                "handles": [h for h in (influencer.instagram, influencer.tiktok, influencer.youtube) if h],
                "admin_path": f"/{settings.ADMIN_URL}affiliates/membership/{membership.pk}/change/",
            },
        )


def applicant_email_verification_send(*, request: Any, user: User) -> None:
    """Ask a new applicant to confirm their email. allauth builds the link from the request."""

    address = EmailAddress.objects.get_primary(user)
    if address is not None and not address.verified:
        address.send_confirmation(request, signup=True)


@dataclass(frozen=True)
class _Applicant:
    """A new applicant's data once every rule passed (normalised)."""

    email: str
    password: str
    full_name: str
    country: str
    document_type: str
    document_number: str
    phone: str
    handles: dict[str, str]
    audience_size: int
    language: str


def _applicant_check(
    *, brand: Brand, email: str, password: str, profile: ApplicantProfile, language: str | None
) -> _Applicant:
    """Every rule on a new person's account and profile, in the order a person fixes them."""
    email = (email or "").strip().lower()
    if not email:
        raise application_refused(_("Enter your email address."), field="email")
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        if Membership.objects.filter(influencer__user=existing, brand=brand).exists():
            raise application_refused(
                _("This email has already applied to %(brand)s.") % {"brand": brand.name}, field="email"
            )
        raise application_refused(
            _("There is already an account with this email. Sign in and apply to %(brand)s from this page.")
            % {"brand": brand.name},
            field="email",
            code="email_taken",
        )
    try:
        number = document_validate(
            country=profile.country, document_type=profile.document_type, number=profile.document_number
        )
    except DocumentInvalid as exc:
        raise application_refused(str(exc.message), field=exc.field, code="document_invalid") from exc
    taken = Influencer.objects.filter(document_type=profile.document_type, document_number=number)
    if taken.filter(memberships__brand=brand).exists():
        raise application_refused(
            _("This document has already applied to %(brand)s.") % {"brand": brand.name}, field="document_number"
        )
    if taken.exists():
        raise application_refused(
            _("This document is already registered. Sign in with the account that uses it to apply to %(brand)s.")
            % {"brand": brand.name},
            field="document_number",
            code="document_taken",
        )
    phone = phone_normalize(profile.phone)
    full_name = profile.full_name.strip()
    if not full_name:
        raise application_refused(_("Enter your full name."), field="full_name")
    handles = {k: handle_clean(getattr(profile, k)) for k in ("instagram", "tiktok", "youtube")}
    if not any(handles.values()):
        raise application_refused(_("Enter at least one social network handle."), field="instagram")
    if profile.audience_size < 0:
        raise application_refused(_("The audience size cannot be negative."), field="audience_size")
    candidate = User(email=email, full_name=full_name)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise application_refused(" ".join(exc.messages), field="password1") from exc
    lang = language if language in {code for code, _name in settings.LANGUAGES} else settings.LANGUAGE_CODE
    return _Applicant(
        email=email,
        password=password,
        full_name=full_name,
        country=profile.country,
        document_type=profile.document_type,
        document_number=number,
        phone=phone,
        handles=handles,
        audience_size=profile.audience_size,
        language=lang,
    )


def _influencer_create(applicant: _Applicant) -> Influencer:
    """The unverified account and its influencer. Call inside a transaction."""
    user = User.objects.create_user(
        email=applicant.email,
        password=applicant.password,
        full_name=applicant.full_name,
        preferred_language=applicant.language,
    )
    EmailAddress.objects.create(user=user, email=applicant.email, primary=True, verified=False)
    return Influencer.objects.create(
        user=user,
        display_name=applicant.full_name,
        handle=next(v for v in applicant.handles.values() if v),
        country=applicant.country,
        document_type=applicant.document_type,
        document_number=applicant.document_number,
        phone=applicant.phone,
        audience_size=applicant.audience_size,
        **applicant.handles,
    )


def influencer_register(
    *,
    brand: Brand,
    email: str,
    password: str,
    profile: ApplicantProfile,
    terms: PolicyDocument | None,
    privacy: PolicyDocument | None,
    language: str | None = None,
) -> Influencer:
    """Step 1 of the join page: a new person creates their (unverified) account and profile and
    accepts `brand`'s policies. No membership yet: `membership_apply` with the KYC documents is
    step 2, now or after signing in again (docs/affiliates.md, "Registration in two steps").
    The same rules as `influencer_apply`; the caller sends the email verification."""
    _check_brand(brand)
    _check_policies(brand=brand, terms=terms, privacy=privacy)
    applicant = _applicant_check(brand=brand, email=email, password=password, profile=profile, language=language)
    try:
        with transaction.atomic():
            influencer = _influencer_create(applicant)
            _accept_policies(influencer=influencer, policies=[p for p in (terms, privacy) if p is not None])
            audit_record(
                action="influencer.registered",
                target=influencer,
                actor=influencer.user,
                brand_id=brand.pk,
                after={
                    "country": influencer.country,
                    "document_type": influencer.document_type,
                    "terms_version": terms.version if terms else None,
                    "privacy_version": privacy.version if privacy else None,
                },
            )
    except IntegrityError as exc:
        raise application_refused(_("This email or document has just been used to apply. Sign in instead.")) from exc
    return influencer


def influencer_apply(
    *,
    brand: Brand,
    email: str,
    password: str,
    profile: ApplicantProfile,
    documents: Sequence[KycUpload],
    terms: PolicyDocument | None,
    privacy: PolicyDocument | None,
    campaign: Campaign | None = None,
    language: str | None = None,
    referral_token: str = "",
    device: str = "",
) -> Membership:
    """A new person applies to `brand` in one go (the registration API, demo data): creates the
    (unverified) account, the influencer, a pending membership, the consents and the KYC
    documents, all or nothing. The join page does the same in two steps (`influencer_register`,
    then `membership_apply`). The caller sends the email verification (allauth needs the
    request). Managers are emailed on commit."""
    _check_brand(brand)
    _check_policies(brand=brand, terms=terms, privacy=privacy)
    _check_campaign(brand=brand, campaign=campaign)
    applicant = _applicant_check(brand=brand, email=email, password=password, profile=profile, language=language)
    inspected = kyc_documents_check(documents)

    stored: list[str] = []
    try:
        with transaction.atomic():
            influencer = _influencer_create(applicant)
            membership = _membership_create(
                influencer=influencer, brand=brand, campaign=campaign, terms=terms, privacy=privacy
            )
            kyc_store(membership=membership, inspected=inspected, stored=stored)
            if referral_token:
                referral_record(membership=membership, token=referral_token, device=device)
    except IntegrityError as exc:
        kyc_stored_delete(stored)
        # Two identical applications raced past the checks above; the constraints kept one.
        raise application_refused(_("This email or document has just been used to apply. Sign in instead.")) from exc
    except BaseException:
        kyc_stored_delete(stored)
        raise
    return membership


def _membership_create(
    *,
    influencer: Influencer,
    brand: Brand,
    campaign: Campaign | None,
    terms: PolicyDocument | None,
    privacy: PolicyDocument | None,
) -> Membership:
    """Call inside a transaction."""
    membership = Membership.objects.create(
        influencer=influencer,
        brand=brand,
        campaign=campaign,
        status=Status.PENDING,
        status_changed_at=timezone.now(),
    )
    _accept_policies(influencer=influencer, policies=[p for p in (terms, privacy) if p is not None])
    audit_record(
        action="membership.applied",
        target=membership,
        actor=influencer.user,
        brand_id=brand.pk,
        after={
            "status": Status.PENDING,
            "campaign": campaign.slug if campaign else None,
            "terms_version": terms.version if terms else None,
            "privacy_version": privacy.version if privacy else None,
        },
    )
    _notify_managers(membership)  # emails leave after the commit (email_send)
    events.publish("influencer.applied", brand_id=brand.pk, data=membership_event_data(membership))
    return membership


def membership_apply(
    *,
    influencer: Influencer,
    brand: Brand,
    documents: Sequence[KycUpload],
    terms: PolicyDocument | None,
    privacy: PolicyDocument | None,
    campaign: Campaign | None = None,
    referral_token: str = "",
    device: str = "",
) -> Membership:
    """An existing influencer applies to one more brand (with that brand's consents and KYC)."""
    _check_brand(brand)
    _check_policies(brand=brand, terms=terms, privacy=privacy)
    _check_campaign(brand=brand, campaign=campaign)
    if Membership.objects.filter(influencer=influencer, brand=brand).exists():
        raise application_refused(
            _("You have already applied to %(brand)s.") % {"brand": brand.name}, code="already_applied"
        )
    inspected = kyc_documents_check(documents)
    stored: list[str] = []
    try:
        with transaction.atomic():
            membership = _membership_create(
                influencer=influencer, brand=brand, campaign=campaign, terms=terms, privacy=privacy
            )
            kyc_store(membership=membership, inspected=inspected, stored=stored)
            if referral_token:
                referral_record(membership=membership, token=referral_token, device=device)
    except IntegrityError as exc:
        kyc_stored_delete(stored)
        raise application_refused(_("You have already applied to %(brand)s.") % {"brand": brand.name}) from exc
    except BaseException:
        kyc_stored_delete(stored)
        raise
    return membership
