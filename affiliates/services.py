"""Writes for influencers: applying to a brand (with KYC and consents), the membership status
machine, profile, payout data and second factor. Every service owns its transaction, audits
inside it and schedules emails and other side effects for after the commit."""

import logging
import re
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
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from affiliates.assignments import campaign_assign_influencer
from affiliates.documents import DOCUMENT_TYPES_BY_CODE, DocumentInvalid, document_validate, transfer_key_validate
from affiliates.locks import influencer_lock, membership_lock
from affiliates.models import (
    Influencer,
    KYCDocument,
    Membership,
    PayoutAccount,
    PolicyAcceptance,
    PolicyDocument,
)
from affiliates.referrals import referral_record
from affiliates.selectors import manager_recipients, policies_to_accept, policy_current
from affiliates.uploads import kyc_file_inspect
from audit.services import audit_record
from brands.models import Brand
from campaigns.models import Campaign
from core import events, request_context
from core.errors import ApplicationError, Conflict
from integrations.email import email_send

logger = logging.getLogger(__name__)

Status = Membership.Status
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ().-]{6,19}$")
_ACCOUNT_NUMBER_RE = re.compile(r"^[0-9A-Za-z-]{4,34}$")


class ApplicationRefused(ApplicationError):
    """An application or profile change that breaks a rule. `extra["field"]` names the form
    field the message belongs to, when there is one."""

    default_code = "application_refused"


def _refuse(message: str, *, field: str | None = None, code: str | None = None) -> ApplicationRefused:
    return ApplicationRefused(message, code=code, extra={"field": field} if field else {})


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


@dataclass(frozen=True)
class KycUpload:
    kind: str
    file: Any  # an UploadedFile or any binary file object with a name


# --- Applying -------------------------------------------------------------------------------


def _clean_handle(value: str) -> str:
    return value.strip().lstrip("@")


def _normalize_phone(value: str) -> str:
    raw = (value or "").strip()
    if not _PHONE_RE.match(raw):
        raise _refuse(_("Enter a phone number with country code, e.g. +57 300 123 4567."), field="phone")
    return ("+" if raw.startswith("+") else "") + re.sub(r"\D", "", raw)


def _check_policies(*, brand: Brand, terms: PolicyDocument | None, privacy: PolicyDocument | None) -> None:
    current_terms = policy_current(brand=brand, kind=PolicyDocument.Kind.TERMS)
    current_privacy = policy_current(brand=brand, kind=PolicyDocument.Kind.PRIVACY)
    if current_terms is None or current_privacy is None:
        raise _refuse(_("%(brand)s is not taking applications yet.") % {"brand": brand.name}, code="no_policies")
    if terms is None:
        raise _refuse(_("Accept the terms and conditions to apply."), field="accept_terms", code="consent_missing")
    if privacy is None:
        raise _refuse(_("Accept the privacy policy to apply."), field="accept_privacy", code="consent_missing")
    if terms.pk != current_terms.pk or privacy.pk != current_privacy.pk:
        raise _refuse(
            _(
                "The terms or the privacy policy changed while you were filling in the form. Read them again and accept."
            ),
            code="policy_changed",
        )


def _check_documents(documents: Sequence[KycUpload]) -> list[tuple[KycUpload, Any]]:
    if not any(doc.kind == KYCDocument.Kind.IDENTITY for doc in documents):
        raise _refuse(_("Attach a photo or scan of your identity document."), field="identity_document")
    valid_kinds = set(KYCDocument.Kind.values)
    inspected = []
    for doc in documents:
        if doc.kind not in valid_kinds:
            raise _refuse(_("Unknown kind of document."))
        try:
            inspected.append((doc, kyc_file_inspect(doc.file)))
        except ApplicationError as exc:
            field = "identity_document" if doc.kind == KYCDocument.Kind.IDENTITY else "other_document"
            raise _refuse(str(exc.message), field=field, code="upload_invalid") from exc
    return inspected


def _check_brand(brand: Brand) -> None:
    if not brand.is_active:
        raise _refuse(_("%(brand)s is not taking applications.") % {"brand": brand.name}, code="brand_inactive")


def _check_campaign(*, brand: Brand, campaign: Campaign | None) -> None:
    if campaign is not None and campaign.brand_id != brand.pk:
        raise _refuse(_("Choose one of this brand's campaigns."), field="campaign")


def _store_kyc(*, membership: Membership, inspected: list[tuple[KycUpload, Any]], stored: list[str]) -> None:
    for upload, info in inspected:
        original = str(getattr(upload.file, "name", "") or "").rsplit("/", 1)[-1][:200]
        document = KYCDocument(
            membership=membership,
            kind=upload.kind,
            content_type=info.content_type,
            size=info.size,
            sha256=info.sha256,
            original_name=original,
        )
        upload.file.seek(0)
        # Saving the field writes to private storage; the name is generated (kyc_upload_to).
        document.file.save("upload", upload.file, save=False)
        stored.append(document.file.name or "")
        document.save()


def _accept_policies(*, influencer: Influencer, policies: Iterable[PolicyDocument]) -> None:
    meta = request_context.current()
    for policy in policies:
        PolicyAcceptance.objects.get_or_create(
            policy=policy,
            influencer=influencer,
            defaults={"ip": meta.ip, "user_agent": meta.user_agent[:400], "accepted_at": timezone.now()},
        )


def _delete_stored(names: list[str]) -> None:
    storage = KYCDocument._meta.get_field("file").storage  # type: ignore[union-attr]
    for name in names:
        try:
            storage.delete(name)
        except OSError:  # pragma: no cover - best effort; an orphan file holds no reference
            logger.warning("could not delete orphaned KYC file %s", name)


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


def policy_consents_resolve(
    *, brand: Brand, terms_id: int | None, accept_terms: bool, privacy_id: int | None, accept_privacy: bool
) -> tuple[PolicyDocument | None, PolicyDocument | None]:
    """The policy versions the applicant saw (their ids, sent back by the join form or the API)
    and ticked, for `influencer_apply`/`membership_apply` to compare with the versions in
    force. An unticked box gives None (refused as "accept the terms")."""
    docs = {
        d.pk: d for d in PolicyDocument.objects.filter(brand=brand, pk__in=[i for i in (terms_id, privacy_id) if i])
    }
    terms = docs.get(terms_id or 0) if accept_terms else None
    privacy = docs.get(privacy_id or 0) if accept_privacy else None
    if terms is not None and terms.kind != PolicyDocument.Kind.TERMS:
        terms = None
    if privacy is not None and privacy.kind != PolicyDocument.Kind.PRIVACY:
        privacy = None
    if (accept_terms and terms is None) or (accept_privacy and privacy is None):
        raise _refuse(_("The terms or the privacy policy changed. Read them again and accept."), code="policy_changed")
    return terms, privacy


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
        raise _refuse(_("Enter your email address."), field="email")
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        if Membership.objects.filter(influencer__user=existing, brand=brand).exists():
            raise _refuse(_("This email has already applied to %(brand)s.") % {"brand": brand.name}, field="email")
        raise _refuse(
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
        raise _refuse(str(exc.message), field=exc.field, code="document_invalid") from exc
    taken = Influencer.objects.filter(document_type=profile.document_type, document_number=number)
    if taken.filter(memberships__brand=brand).exists():
        raise _refuse(
            _("This document has already applied to %(brand)s.") % {"brand": brand.name}, field="document_number"
        )
    if taken.exists():
        raise _refuse(
            _("This document is already registered. Sign in with the account that uses it to apply to %(brand)s.")
            % {"brand": brand.name},
            field="document_number",
            code="document_taken",
        )
    phone = _normalize_phone(profile.phone)
    full_name = profile.full_name.strip()
    if not full_name:
        raise _refuse(_("Enter your full name."), field="full_name")
    handles = {k: _clean_handle(getattr(profile, k)) for k in ("instagram", "tiktok", "youtube")}
    if not any(handles.values()):
        raise _refuse(_("Enter at least one social network handle."), field="instagram")
    if profile.audience_size < 0:
        raise _refuse(_("The audience size cannot be negative."), field="audience_size")
    candidate = User(email=email, full_name=full_name)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise _refuse(" ".join(exc.messages), field="password1") from exc
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
        raise _refuse(_("This email or document has just been used to apply. Sign in instead.")) from exc
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
    inspected = _check_documents(documents)

    stored: list[str] = []
    try:
        with transaction.atomic():
            influencer = _influencer_create(applicant)
            membership = _membership_create(
                influencer=influencer, brand=brand, campaign=campaign, terms=terms, privacy=privacy
            )
            _store_kyc(membership=membership, inspected=inspected, stored=stored)
            if referral_token:
                referral_record(membership=membership, token=referral_token, device=device)
    except IntegrityError as exc:
        _delete_stored(stored)
        # Two identical applications raced past the checks above; the constraints kept one.
        raise _refuse(_("This email or document has just been used to apply. Sign in instead.")) from exc
    except BaseException:
        _delete_stored(stored)
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
    events.publish("influencer.applied", brand_id=brand.pk, data=_membership_event_data(membership))
    return membership


def _membership_event_data(membership: Membership) -> dict[str, Any]:
    influencer = membership.influencer
    return {
        "membership_id": membership.pk,
        "influencer_id": influencer.pk,
        "name": influencer.display_name,
        "email": influencer.user.email,
        "country": influencer.country,
        "status": membership.status,
        "campaign": membership.campaign.slug if membership.campaign_id and membership.campaign else None,
    }


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
        raise _refuse(_("You have already applied to %(brand)s.") % {"brand": brand.name}, code="already_applied")
    inspected = _check_documents(documents)
    stored: list[str] = []
    try:
        with transaction.atomic():
            membership = _membership_create(
                influencer=influencer, brand=brand, campaign=campaign, terms=terms, privacy=privacy
            )
            _store_kyc(membership=membership, inspected=inspected, stored=stored)
            if referral_token:
                referral_record(membership=membership, token=referral_token, device=device)
    except IntegrityError as exc:
        _delete_stored(stored)
        raise _refuse(_("You have already applied to %(brand)s.") % {"brand": brand.name}) from exc
    except BaseException:
        _delete_stored(stored)
        raise
    return membership


# --- The membership status machine ----------------------------------------------------------

_VERB = {
    Status.APPROVED: "approved",
    Status.REJECTED: "rejected",
    Status.SUSPENDED: "suspended",
    Status.BLOCKED: "blocked",
}


def _move(*, membership: Membership, to: str, actor: Any, reason: str = "") -> tuple[Membership, str]:
    """Lock the row and move it to `to`. Returns (membership, previous status); previous ==
    `to` means it was already there and nothing happened. Call inside a transaction."""
    locked = membership_lock(pk=membership.pk)
    previous = locked.status
    if previous == to:
        return locked, previous
    if not locked.can_move_to(to):
        allowed = sorted(str(Status(s).label) for s in locked.ALLOWED_TRANSITIONS.get(previous, set()))
        raise Conflict(
            _("A membership that is %(current)s cannot become %(target)s. From %(current)s it can become: %(allowed)s.")
            % {
                "current": Status(previous).label,
                "target": Status(to).label,
                "allowed": ", ".join(allowed) or _("nothing else"),
            },
            code="illegal_transition",
        )
    now = timezone.now()
    locked.status = to
    locked.status_changed_at = now
    locked.status_reason = reason
    if isinstance(actor, User):
        locked.reviewed_by = actor
    update_fields = ["status", "status_changed_at", "status_reason", "reviewed_by", "updated_at"]
    if to == Status.APPROVED and locked.approved_at is None:
        locked.approved_at = now
        update_fields.append("approved_at")
    locked.save(update_fields=update_fields)
    audit_record(
        action=f"membership.{_VERB[Status(to)]}",
        target=locked,
        actor=actor,
        brand_id=locked.brand_id,
        before={"status": previous},
        after={"status": to, "reason": reason},
    )
    return locked, previous


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ApplicationError(_("Write the reason: the influencer will read it."), code="reason_required")
    return reason


def _publish_status(membership: Membership, event: str, *, previous: str, reason: str) -> None:
    """Tell subscribers (the influencer's notification and email, webhooks) of a decision, in
    its transaction."""
    data = {**_membership_event_data(membership), "previous_status": previous, "reason": reason}
    events.publish(event, brand_id=membership.brand_id, data=data)


def _membership_changed(
    *, membership: Membership, previous: str, actor: Any, campaigns: Sequence[Campaign] = ()
) -> list[str]:
    """Tell the floors above that a membership moved from `previous` (same transaction: if a
    handler fails, the decision rolls back). Codes issues, archives or brings back the
    influencer's discount codes; returns the texts of the codes issued, for the welcome email."""
    issued: list[str] = []
    events.publish(
        "membership.changed",
        membership=membership,
        previous=previous,
        actor=actor,
        campaigns=list(campaigns),
        issued_codes=issued,
    )
    return issued


def membership_approve(*, membership: Membership, actor: Any = None, campaigns: Iterable[Campaign] = ()) -> Membership:
    """pending → approved: assign the chosen campaigns, issue the discount codes, email them.
    suspended → approved: bring the archived codes back. Already approved: nothing happens."""
    chosen = list(campaigns)
    if any(c.brand_id != membership.brand_id for c in chosen):
        raise ApplicationError(_("Choose campaigns of the influencer's brand only."), code="campaign_brand")
    with transaction.atomic():
        locked, previous = _move(membership=membership, to=Status.APPROVED, actor=actor)
        if previous == Status.APPROVED:
            return locked
        influencer = locked.influencer
        codes: list[str] = []
        if previous == Status.PENDING:
            for campaign in chosen:
                campaign_assign_influencer(campaign=campaign, influencer=influencer, actor=actor)
            codes = _membership_changed(membership=locked, previous=previous, actor=actor, campaigns=chosen)
        else:
            _membership_changed(membership=locked, previous=previous, actor=actor)
        # Published once the codes exist: the influencer's notification lists them.
        events.publish(
            "influencer.approved",
            brand_id=locked.brand_id,
            data={
                **_membership_event_data(locked),
                "previous_status": previous,
                "campaigns": [c.name for c in chosen],
                "codes": codes,
            },
        )
    return locked


def membership_reject(*, membership: Membership, reason: str, actor: Any = None) -> Membership:
    """pending → rejected, with the reason the applicant receives by email."""
    reason = _require_reason(reason)
    with transaction.atomic():
        locked, previous = _move(membership=membership, to=Status.REJECTED, actor=actor, reason=reason)
        if previous != Status.REJECTED:
            _membership_changed(membership=locked, previous=previous, actor=actor)
            _publish_status(locked, "influencer.rejected", previous=previous, reason=reason)
    return locked


def membership_suspend(*, membership: Membership, reason: str, actor: Any = None) -> Membership:
    """approved → suspended: codes are archived until the membership is approved again."""
    reason = _require_reason(reason)
    with transaction.atomic():
        locked, previous = _move(membership=membership, to=Status.SUSPENDED, actor=actor, reason=reason)
        if previous != Status.SUSPENDED:
            _membership_changed(membership=locked, previous=previous, actor=actor)
            _publish_status(locked, "influencer.suspended", previous=previous, reason=reason)
    return locked


def membership_block(*, membership: Membership, reason: str, actor: Any = None) -> Membership:
    """any → blocked, for good: codes are archived and the portal of this brand closes."""
    reason = _require_reason(reason)
    with transaction.atomic():
        locked, previous = _move(membership=membership, to=Status.BLOCKED, actor=actor, reason=reason)
        if previous != Status.BLOCKED:
            _membership_changed(membership=locked, previous=previous, actor=actor)
            _publish_status(locked, "influencer.blocked", previous=previous, reason=reason)
    return locked


# --- Policies -------------------------------------------------------------------------------


def policy_publish(
    *,
    brand: Brand,
    kind: str,
    version: str,
    title: str,
    body: str,
    published_at: Any = None,
    actor: Any = None,
) -> PolicyDocument:
    """Publish a new version of a brand's terms or privacy policy. Versions are never edited:
    acceptances point at the exact text people agreed to."""
    if kind not in PolicyDocument.Kind.values:
        raise ApplicationError(_("Unknown policy kind."))
    version, title, body = version.strip(), title.strip(), body.strip()
    if not (version and title and body):
        raise ApplicationError(_("A policy needs a version, a title and its text."))
    if PolicyDocument.objects.filter(brand=brand, kind=kind, version=version).exists():
        raise Conflict(_("Version %(version)s already exists; publish a new version number.") % {"version": version})
    with transaction.atomic():
        policy = PolicyDocument.objects.create(
            brand=brand,
            kind=kind,
            version=version,
            title=title,
            body=body,
            published_at=published_at or timezone.now(),
        )
        audit_record(
            action="policy.published",
            target=policy,
            actor=actor,
            brand_id=brand.pk,
            after={"kind": kind, "version": version, "published_at": policy.published_at},
        )
        # Existing influencers are asked to accept it (notifications; the portal's re-consent).
        events.publish(
            "policy.published",
            brand_id=brand.pk,
            data={"policy_id": policy.pk, "kind": kind, "version": version, "title": title},
        )
    return policy


def policies_accept(
    *, influencer: Influencer, brand: Brand, policy_ids: Iterable[int], actor: Any = None
) -> list[PolicyAcceptance]:
    """Record that the influencer accepted the brand's policy versions now in force (re-consent
    after a new version). `policy_ids` are the versions the person was shown: if a newer one
    appeared meanwhile, nothing is recorded and they are asked to read it. Evidence (time,
    version, IP, user agent) is kept on the acceptance and in the audit log."""
    shown = set(policy_ids)
    with transaction.atomic():
        influencer_lock(pk=influencer.pk)  # one acceptance at a time per influencer
        pending = policies_to_accept(influencer=influencer, brand=brand)
        if not pending:
            return []
        if {p.pk for p in pending} - shown:
            raise Conflict(
                _("A newer version was published while you were reading. Read it and accept again."),
                code="policy_changed",
            )
        meta = request_context.current()
        accepted = []
        for policy in pending:
            acceptance = PolicyAcceptance.objects.create(
                policy=policy,
                influencer=influencer,
                ip=meta.ip,
                user_agent=meta.user_agent[:400],
                accepted_at=timezone.now(),
            )
            audit_record(
                action="policy.accepted",
                target=acceptance,
                actor=actor,
                brand_id=brand.pk,
                after={"kind": policy.kind, "version": policy.version, "policy_id": policy.pk, "ip": meta.ip},
            )
            accepted.append(acceptance)
    return accepted


# --- Profile, payout data, second factor ----------------------------------------------------

PROFILE_FIELDS = ("display_name", "phone", "instagram", "tiktok", "youtube", "audience_size", "fiscal_regime")


def influencer_profile_update(
    *,
    influencer: Influencer,
    display_name: str,
    phone: str,
    instagram: str,
    tiktok: str,
    youtube: str,
    audience_size: int,
    preferred_language: str,
    fiscal_regime: str,
    actor: Any = None,
) -> Influencer:
    """Change what an influencer may change about themselves. Identity (document, country,
    email) is not here: it changes only through support, with new KYC."""
    display_name = display_name.strip()
    if not display_name:
        raise _refuse(_("Enter the name you want to show."), field="display_name")
    if preferred_language not in {code for code, _name in settings.LANGUAGES}:
        raise _refuse(_("Choose a language from the list."), field="preferred_language")
    handles = {
        "instagram": _clean_handle(instagram),
        "tiktok": _clean_handle(tiktok),
        "youtube": _clean_handle(youtube),
    }
    if not any(handles.values()):
        raise _refuse(_("Enter at least one social network handle."), field="instagram")
    if audience_size < 0:
        raise _refuse(_("The audience size cannot be negative."), field="audience_size")
    fiscal_regime = " ".join(fiscal_regime.split())
    if len(fiscal_regime) > Influencer._meta.get_field("fiscal_regime").max_length:  # type: ignore[operator]
        raise _refuse(_("The tax regime is too long."), field="fiscal_regime")
    new = {
        "display_name": display_name,
        "phone": _normalize_phone(phone),
        "audience_size": audience_size,
        "fiscal_regime": fiscal_regime,
        **handles,
    }
    with transaction.atomic():
        locked = influencer_lock(pk=influencer.pk)
        before = {f: getattr(locked, f) for f in PROFILE_FIELDS}
        for field, value in new.items():
            setattr(locked, field, value)
        locked.handle = next(v for v in handles.values() if v)
        locked.save()
        user = locked.user
        before["preferred_language"] = user.preferred_language
        if user.preferred_language != preferred_language:
            user.preferred_language = preferred_language
            user.save(update_fields=["preferred_language"])
        after = {**{f: getattr(locked, f) for f in PROFILE_FIELDS}, "preferred_language": preferred_language}
        changed = {k for k in after if after[k] != before[k]}
        if changed:
            audit_record(
                action="influencer.profile_updated",
                target=locked,
                actor=actor,
                before={k: before[k] for k in changed},
                after={k: after[k] for k in changed},
            )
    return locked


@dataclass(frozen=True)
class PayoutData:
    account_holder: str
    bank_name: str
    account_type: str
    account_number: str = ""
    bank_code: str = ""
    holder_document_type: str = ""
    holder_document_number: str = ""
    key_type: str = ""
    transfer_key: str = ""


def _validate_payout(*, data: PayoutData) -> dict[str, str]:
    holder = data.account_holder.strip()
    if len(holder) < 3:
        raise _refuse(_("Enter the account holder's full name."), field="account_holder")
    bank = data.bank_name.strip()
    if not bank:
        raise _refuse(_("Enter the bank or wallet name."), field="bank_name")
    if data.account_type not in PayoutAccount.AccountType.values:
        raise _refuse(_("Choose an account type."), field="account_type")
    number = re.sub(r"\s", "", data.account_number or "")
    if number and not _ACCOUNT_NUMBER_RE.match(number):
        raise _refuse(_("The account number has 4 to 34 letters, digits or dashes."), field="account_number")
    if data.key_type not in PayoutAccount.KeyType.values:
        raise _refuse(_("Choose a transfer key type from the list."), field="key_type")
    try:
        key = transfer_key_validate(key_type=data.key_type, value=data.transfer_key)
    except DocumentInvalid as exc:
        raise _refuse(str(exc.message), field="transfer_key") from exc
    if not number and not key:
        raise _refuse(_("Enter the account number or a transfer key."), field="account_number")
    holder_doc = ""
    if data.holder_document_type or data.holder_document_number:
        doc = DOCUMENT_TYPES_BY_CODE.get(data.holder_document_type)
        if doc is None:
            raise _refuse(_("Choose the holder's document type."), field="holder_document_type")
        try:
            holder_doc = document_validate(
                country=doc.country, document_type=doc.code, number=data.holder_document_number
            )
        except DocumentInvalid as exc:
            raise _refuse(str(exc.message), field="holder_document_number") from exc
    bank_code = data.bank_code.strip()
    if bank_code and not re.fullmatch(r"[0-9A-Za-z-]{1,20}", bank_code):
        raise _refuse(_("The bank code has only letters, digits and dashes."), field="bank_code")
    return {
        "account_holder": holder,
        "bank_name": bank,
        "bank_code": bank_code,
        "account_type": data.account_type,
        "account_number": number,
        "holder_document_type": data.holder_document_type if holder_doc else "",
        "holder_document_number": holder_doc,
        "key_type": data.key_type if key else "",
        "transfer_key": key,
    }


def payout_account_update(*, influencer: Influencer, data: PayoutData, actor: Any = None) -> PayoutAccount:
    """Create or replace the influencer's payout data. The caller must have re-authenticated
    the person. Audited with masked values; the influencer is emailed about every change."""
    values = _validate_payout(data=data)
    with transaction.atomic():
        influencer_lock(pk=influencer.pk)  # one change of payout data at a time
        account = PayoutAccount.objects.filter(influencer=influencer).first()
        if account is not None and all(getattr(account, k) == v for k, v in values.items()):
            return account  # nothing changed: no audit record, no email
        # Upper floors may refuse the change (payments: two-factor above a balance threshold).
        events.publish("payout_account.changing", influencer=influencer, actor=actor)
        before = account.masked() if account else None
        if account is None:
            account = PayoutAccount(influencer=influencer, **values)
        else:
            for field, value in values.items():
                setattr(account, field, value)
        account.save()
        after = account.masked()
        audit_record(
            action="payout_account.updated" if before else "payout_account.created",
            target=account,
            actor=actor,
            before=before,
            after=after,
        )
        # Payments freezes the new data as a version and sends open withdrawals back to finance.
        events.publish("payout_account.changed", influencer=influencer, actor=actor)
        meta = request_context.current()
        user = influencer.user
        email_send(
            to=[user.email],
            template="affiliates_payout_changed",
            language=user.preferred_language,
            context={
                "name": influencer.display_name,
                "bank_name": after["bank_name"],
                "account_number": after["account_number"],
                "transfer_key": after["transfer_key"],
                "changed_at": timezone.localtime().strftime("%Y-%m-%d %H:%M %Z"),
                "ip": meta.ip or "",
            },
        )
    return account


def influencer_two_factor_disable(*, user: User, actor: Any = None) -> int:
    """Turn off an influencer's authenticator app. Staff cannot: the back office needs 2FA."""
    if user.is_staff:
        raise Conflict(_("Staff accounts must keep two-factor authentication."))

    with transaction.atomic():
        removed, _detail = TOTPDevice.objects.filter(user=user).delete()
        removed_static, _detail = StaticDevice.objects.filter(user=user).delete()
        if removed or removed_static:
            audit_record(action="auth.two_factor_disabled", target=user, actor=actor or user)
    return int(removed) + int(removed_static)
