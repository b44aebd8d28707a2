"""Missing-order claims: an influencer says a VTEX order is theirs although the platform did not
attribute it to them. The claim keeps what the platform found when it fetched the order (why it
is or is not attributed to the claimant) and the manager's decision with its reason. Accepting
records a manual attribution in tracking and re-applies the order, so the commission follows the
normal path (docs/claims.md)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import TimeStampedModel
from core.storage import private_storage


def evidence_upload_to(instance: "Claim", filename: str) -> str:
    # The name never comes from the uploader: no path tricks, no guessable names.
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(
        instance.evidence_content_type, "bin"
    )
    return f"claims/{instance.brand_id}/{uuid.uuid4().hex}.{extension}"


class Claim(TimeStampedModel):
    BRAND_FIELD = "brand"

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("claim status", "Under review")
        ACCEPTED = "accepted", pgettext_lazy("claim status", "Accepted")
        REJECTED = "rejected", pgettext_lazy("claim status", "Rejected")

    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        Status.OPEN: {Status.ACCEPTED, Status.REJECTED},
        Status.ACCEPTED: set(),
        Status.REJECTED: set(),
    }

    class Finding(models.TextChoices):
        """Why the order is, or is not, attributed to the claimant (the first that applies)."""

        NOT_FOUND = "not_found", _("Not found at VTEX")
        CLAIMANT = "claimant", _("Already attributed to the claimant")
        FRAUD_HOLD = "fraud_hold", _("On fraud hold")
        OTHER_CODE = "other_code", _("Another influencer's code")
        OTHER_LINK = "other_link", _("Another influencer's link")
        OUTSIDE_WINDOW = "outside_window", _("Visit outside the attribution window")
        UNKNOWN_CODE = "unknown_code", _("A code that is not the brand's")
        NO_CODE = "no_code", _("No code and no tracked visit")

    class Source(models.TextChoices):
        PORTAL = "portal", _("Portal")
        API = "api", _("API")

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+", verbose_name=_("brand"))
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="+", verbose_name=_("campaign")
    )
    influencer = models.ForeignKey(
        "affiliates.Influencer", on_delete=models.PROTECT, related_name="claims", verbose_name=_("influencer")
    )
    vtex_order_id = models.CharField(_("VTEX order id"), max_length=64)
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
        help_text=_("Empty when VTEX did not know the order."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    source = models.CharField(_("sent through"), max_length=10, choices=Source.choices, default=Source.PORTAL)

    # What the platform found when it fetched the order (refreshed on demand and on decision).
    finding = models.CharField(_("finding"), max_length=20, choices=Finding.choices)
    finding_detail = models.JSONField(_("what we know"), default=dict, blank=True)
    checked_at = models.DateTimeField(_("checked at"))
    order_placed_at = models.DateTimeField(_("order placed at"), null=True, blank=True)

    buyer_message = models.TextField(_("buyer's message"), blank=True)
    evidence = models.FileField(
        _("screenshot"), upload_to=evidence_upload_to, storage=private_storage, max_length=255, blank=True
    )
    evidence_content_type = models.CharField(_("screenshot type"), max_length=40, blank=True)
    evidence_size = models.PositiveIntegerField(_("screenshot size"), default=0)
    evidence_sha256 = models.CharField(_("screenshot SHA-256"), max_length=64, blank=True)

    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("missing-order claim")
        verbose_name_plural = _("missing-order claims")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One open claim per order: a second one (from anybody) waits for the first decision.
            models.UniqueConstraint(
                fields=["brand", "vtex_order_id"],
                condition=models.Q(status="open"),
                name="uniq_open_claim_per_order",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open") | models.Q(decided_at__isnull=False),
                name="claim_decided_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["brand", "status", "created_at"], name="claim_brand_status_idx"),
            models.Index(fields=["influencer", "brand", "created_at"], name="claim_influencer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.vtex_order_id} · {self.influencer}"

    @property
    def has_evidence(self) -> bool:
        return bool(self.evidence)
