import secrets
import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from affiliates.documents import DOCUMENT_TYPE_CHOICES
from brands.models import COUNTRY_CHOICES
from core.crypto import EncryptedTextField, mask
from core.history import history_user
from core.models import TimeStampedModel
from core.storage import private_storage

# Countries people can apply from: where the fiscal document types are known (today, the same
# countries brands sell in).
APPLICANT_COUNTRY_CHOICES = COUNTRY_CHOICES
_handle = RegexValidator(
    r"^@?[A-Za-z0-9._-]{1,60}$", _("Use the handle only, without the link: letters, digits, . _ -")
)


class Influencer(TimeStampedModel):
    """A person who promotes brands. One person may work with several brands: the status with
    each brand lives on `Membership`. The fiscal document identifies the person, so it is
    unique across the platform."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="influencer", verbose_name=_("user")
    )
    display_name = models.CharField(_("display name"), max_length=120)
    handle = models.CharField(_("main social handle"), max_length=80, blank=True)
    country = models.CharField(_("country"), max_length=2, choices=APPLICANT_COUNTRY_CHOICES)
    document_type = models.CharField(_("document type"), max_length=12, choices=DOCUMENT_TYPE_CHOICES, blank=True)
    document_number = models.CharField(_("document number"), max_length=30, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    instagram = models.CharField(_("Instagram"), max_length=60, blank=True, validators=[_handle])
    tiktok = models.CharField(_("TikTok"), max_length=60, blank=True, validators=[_handle])
    youtube = models.CharField(_("YouTube"), max_length=60, blank=True, validators=[_handle])
    audience_size = models.PositiveIntegerField(
        _("audience size"), default=0, validators=[MaxValueValidator(2_000_000_000)], db_index=True
    )
    fiscal_regime = models.CharField(
        _("fiscal regime"),
        max_length=40,
        blank=True,
        help_text=_("Tax regime for withholdings, e.g. simplified regime"),
    )

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("influencer")
        verbose_name_plural = _("influencers")
        ordering = ["display_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "document_number"],
                condition=~Q(document_number=""),
                name="uniq_influencer_document",
            )
        ]

    def __str__(self) -> str:
        return self.display_name


class Membership(TimeStampedModel):
    """An influencer's relationship with one brand, and its status machine. Only
    `affiliates.services.decisions` moves `status`."""

    BRAND_FIELD = "brand"

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")
        BLOCKED = "blocked", _("Blocked")

    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        Status.PENDING: {Status.APPROVED, Status.REJECTED, Status.BLOCKED},
        Status.APPROVED: {Status.SUSPENDED, Status.BLOCKED},
        Status.SUSPENDED: {Status.APPROVED, Status.BLOCKED},
        Status.REJECTED: {Status.BLOCKED},
        Status.BLOCKED: set(),
    }

    influencer = models.ForeignKey(
        Influencer, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("influencer")
    )
    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.PROTECT, related_name="memberships", verbose_name=_("brand")
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("campaign applied for"),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    status_reason = models.TextField(_("reason"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    approved_at = models.DateTimeField(_("first approved at"), null=True, blank=True)

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("brand membership")
        verbose_name_plural = _("brand memberships")
        constraints = [models.UniqueConstraint(fields=["influencer", "brand"], name="uniq_membership_per_brand")]

    def __str__(self) -> str:
        return f"{self.influencer} @ {self.brand}"

    def can_move_to(self, status: str) -> bool:
        return status in self.ALLOWED_TRANSITIONS.get(self.status, set())


class PolicyDocument(TimeStampedModel):
    """A version of a brand's terms or privacy policy. Versions are immutable once someone
    accepted them; a change is a new version."""

    BRAND_FIELD = "brand"

    class Kind(models.TextChoices):
        TERMS = "terms", _("Terms and conditions")
        PRIVACY = "privacy", _("Privacy policy")

    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.PROTECT, related_name="policies", verbose_name=_("brand")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    version = models.CharField(_("version"), max_length=20)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    published_at = models.DateTimeField(_("in force from"), default=timezone.now)

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        ordering = ["brand", "kind", "-published_at"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "kind", "version"], name="uniq_policy_version_per_brand")
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class PolicyAcceptance(models.Model):
    """Evidence that a person accepted one version of a policy: when, from where, with what."""

    BRAND_FIELD = "policy__brand"

    policy = models.ForeignKey(
        PolicyDocument, on_delete=models.PROTECT, related_name="acceptances", verbose_name=_("policy")
    )
    influencer = models.ForeignKey(
        Influencer, on_delete=models.PROTECT, related_name="acceptances", verbose_name=_("influencer")
    )
    accepted_at = models.DateTimeField(_("accepted at"), default=timezone.now)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=400, blank=True)

    class Meta:
        verbose_name = _("policy acceptance")
        verbose_name_plural = _("policy acceptances")
        ordering = ["-accepted_at"]
        constraints = [models.UniqueConstraint(fields=["policy", "influencer"], name="uniq_policy_acceptance")]

    def __str__(self) -> str:
        return f"{self.influencer} ✓ {self.policy}"


def kyc_upload_to(instance: "KYCDocument", filename: str) -> str:
    # The name never comes from the uploader: no path tricks, no guessable names.
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(instance.content_type, "bin")
    return f"kyc/{instance.membership.brand_id}/{instance.membership_id}/{uuid.uuid4().hex}.{extension}"


class KYCDocument(models.Model):
    """A document an applicant sent to one brand. Kept in private storage and served only to
    that brand's authorised staff."""

    BRAND_FIELD = "membership__brand"

    class Kind(models.TextChoices):
        IDENTITY = "identity", _("Identity document")
        TAX = "tax", _("Tax registration")
        OTHER = "other", _("Other")

    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="kyc_documents", verbose_name=_("membership")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.IDENTITY)
    file = models.FileField(_("file"), upload_to=kyc_upload_to, storage=private_storage, max_length=255)
    content_type = models.CharField(_("content type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    original_name = models.CharField(_("original file name"), max_length=200, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("KYC document")
        verbose_name_plural = _("KYC documents")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.original_name or self.pk}"

    @property
    def extension(self) -> str:
        return (self.file.name or "").rsplit(".", 1)[-1] if self.file else ""


class PayoutAccount(TimeStampedModel):
    """Where an influencer is paid. Every value that identifies an account is encrypted at rest
    with keys outside the database (core.crypto, rotated by `manage.py encryption_rotate`) and
    shown masked; changes go through `payout_account_update`, which audits and emails them."""

    class AccountType(models.TextChoices):
        SAVINGS = "savings", _("Savings account")
        CHECKING = "checking", _("Checking account")
        WALLET = "wallet", _("Digital wallet")

    class KeyType(models.TextChoices):
        NONE = "", _("None")
        PIX_CPF = "pix_cpf", _("PIX key: CPF/CNPJ")
        PIX_EMAIL = "pix_email", _("PIX key: email")
        PIX_PHONE = "pix_phone", _("PIX key: phone")
        PIX_RANDOM = "pix_random", _("PIX key: random key")
        CLABE = "clabe", _("CLABE")
        CBU = "cbu", _("CBU / CVU")
        CCI = "cci", _("CCI (interbank code)")

    influencer = models.OneToOneField(
        Influencer, on_delete=models.PROTECT, related_name="payout_account", verbose_name=_("influencer")
    )
    account_holder = EncryptedTextField(_("account holder"))
    holder_document_type = models.CharField(
        _("holder document type"), max_length=12, choices=DOCUMENT_TYPE_CHOICES, blank=True
    )
    holder_document_number = EncryptedTextField(_("holder document number"), blank=True)
    bank_name = EncryptedTextField(_("bank"))
    bank_code = models.CharField(_("bank code"), max_length=20, blank=True)
    account_type = models.CharField(_("account type"), max_length=10, choices=AccountType.choices)
    account_number = EncryptedTextField(_("account number"), blank=True)
    key_type = models.CharField(_("transfer key type"), max_length=12, choices=KeyType.choices, blank=True)
    transfer_key = EncryptedTextField(_("transfer key"), blank=True)

    class Meta:
        verbose_name = _("payout account")
        verbose_name_plural = _("payout accounts")

    def __str__(self) -> str:
        return f"{self.influencer} · {self.masked()['account_number'] or self.masked()['transfer_key']}"

    def masked(self) -> dict[str, Any]:
        return {
            "account_holder": self.account_holder,
            "holder_document_type": self.holder_document_type,
            "holder_document_number": mask(self.holder_document_number),
            "bank_name": self.bank_name,
            "bank_code": self.bank_code,
            "account_type": self.account_type,
            "account_number": mask(self.account_number),
            "key_type": self.key_type,
            "transfer_key": mask(self.transfer_key),
        }


def new_recruiting_token() -> str:
    return secrets.token_urlsafe(9)


class RecruitingLink(TimeStampedModel):
    """An approved influencer's recruiting link for one campaign with referrals enabled:
    `/join/<brand>/?ref=<token>`. `device_hashes` are keyed hashes of the browser cookie the
    influencer used the portal with, so an application from the same browser counts as self."""

    BRAND_FIELD = "campaign__brand"

    influencer = models.ForeignKey(
        Influencer, on_delete=models.PROTECT, related_name="recruiting_links", verbose_name=_("influencer")
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="recruiting_links", verbose_name=_("campaign")
    )
    token = models.CharField(_("token"), max_length=24, unique=True, default=new_recruiting_token)
    device_hashes = models.JSONField(_("device fingerprints"), default=list, blank=True)

    class Meta:
        verbose_name = _("recruiting link")
        verbose_name_plural = _("recruiting links")
        constraints = [
            models.UniqueConstraint(fields=["influencer", "campaign"], name="uniq_recruiting_link_per_campaign")
        ]

    def __str__(self) -> str:
        return f"{self.influencer} · {self.token}"


class Referral(TimeStampedModel):
    """Who recruited whom into a brand, through which campaign's program. First referrer wins:
    one referral per (brand, referred). A self-referral (same email, fiscal document, payout
    account or device) is recorded as such and never earns (docs/referrals.md)."""

    BRAND_FIELD = "brand"

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SELF = "self", _("Self-referral: earns nothing")
        BLOCKED = "blocked", _("Blocked after fraud review")

    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.PROTECT, related_name="referrals", verbose_name=_("brand")
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="referrals", verbose_name=_("campaign")
    )
    referrer = models.ForeignKey(
        Influencer, on_delete=models.PROTECT, related_name="referrals_made", verbose_name=_("referrer")
    )
    referred = models.ForeignKey(
        Influencer, on_delete=models.PROTECT, related_name="referrals_received", verbose_name=_("recruited influencer")
    )
    link = models.ForeignKey(
        RecruitingLink, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("recruiting link")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(_("reason"), max_length=500, blank=True)
    self_signals = models.JSONField(_("self-referral signals"), default=list, blank=True)
    device_hash = models.CharField(_("applicant device fingerprint"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("referred at"), default=timezone.now)

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "referred"], name="uniq_referral_first_referrer_wins"),
            models.CheckConstraint(condition=~Q(referrer=models.F("referred")), name="referral_not_self"),
        ]
        indexes = [models.Index(fields=["referrer", "brand"], name="referral_referrer_idx")]

    def __str__(self) -> str:
        return f"{self.referrer} → {self.referred}"

    @property
    def earns(self) -> bool:
        return self.status == self.Status.ACTIVE
