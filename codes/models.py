from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from campaigns.models import validate_coupon_interval
from core.history import history_user
from core.models import TimeStampedModel


class Code(TimeStampedModel):
    """A discount code of one influencer in one campaign, mirrored as a VTEX coupon.

    `status` is what we want (active or archived); `vtex_state` is what VTEX was last told;
    `sync_version` counts changes that VTEX must hear about and `synced_version` the last one it
    acknowledged, so a sync that finishes after a newer change never marks the code as synced.
    """

    BRAND_FIELD = "brand"

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")

    class Origin(models.TextChoices):
        GENERATED = "generated", _("Generated")
        CHOSEN = "chosen", _("Chosen by a manager")

    class SyncStatus(models.TextChoices):
        PENDING = "pending", _("Pending")
        SYNCED = "synced", _("Synced")
        RETRYING = "retrying", _("Retrying")
        FAILED = "failed", _("Failed")

    class VTEXState(models.TextChoices):
        ABSENT = "", _("Not in VTEX")
        ACTIVE = "active", _("Active in VTEX")
        ARCHIVED = "archived", _("Archived in VTEX")

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="codes", verbose_name=_("brand"))
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="codes", verbose_name=_("campaign")
    )
    influencer = models.ForeignKey(
        "affiliates.Influencer", on_delete=models.PROTECT, related_name="codes", verbose_name=_("influencer")
    )
    variant = models.ForeignKey(
        "campaigns.CampaignVariant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="codes",
        verbose_name=_("A/B variant"),
    )
    text = models.CharField(_("code"), max_length=30, help_text=_("What shoppers type at checkout."))
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices, default=Origin.GENERATED)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    status_reason = models.CharField(_("status reason"), max_length=200, blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    manually_archived = models.BooleanField(
        _("archived by a manager"), default=False, help_text=_("Stays archived until a manager brings it back.")
    )
    discount_percent = models.DecimalField(
        _("shopper discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    max_usage = models.PositiveIntegerField(_("maximum uses"), default=10_000)
    max_items_per_client = models.PositiveIntegerField(_("items per shopper"), default=10)
    expiration_interval_per_use = models.CharField(
        _("interval between uses"), max_length=8, default="00:00:00", validators=[validate_coupon_interval]
    )

    vtex_state = models.CharField(_("VTEX state"), max_length=10, choices=VTEXState.choices, blank=True, default="")
    sync_status = models.CharField(
        _("sync status"), max_length=10, choices=SyncStatus.choices, default=SyncStatus.PENDING, db_index=True
    )
    sync_version = models.PositiveIntegerField(_("sync version"), default=1)
    synced_version = models.PositiveIntegerField(_("synced version"), default=0)
    sync_attempts = models.PositiveSmallIntegerField(_("sync attempts"), default=0)
    next_sync_at = models.DateTimeField(_("next attempt at"), null=True, blank=True, db_index=True)
    last_sync_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_synced_at = models.DateTimeField(_("last synced at"), null=True, blank=True)
    last_sync_error = models.TextField(_("last sync error"), blank=True)
    usage_count = models.PositiveIntegerField(_("uses in VTEX"), default=0)
    usage_checked_at = models.DateTimeField(_("uses checked at"), null=True, blank=True)

    history = HistoricalRecords(
        get_user=history_user,
        excluded_fields=["sync_attempts", "next_sync_at", "last_sync_attempt_at", "usage_count", "usage_checked_at"],
    )

    class Meta:
        verbose_name = _("discount code")
        verbose_name_plural = _("discount codes")
        ordering = ["brand", "text"]
        constraints = [
            models.UniqueConstraint(Upper("text"), "brand", name="uniq_code_text_per_brand_ci"),
            models.UniqueConstraint(fields=["campaign", "influencer"], name="uniq_code_per_campaign_influencer"),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lte=100), name="code_discount_0_100"
            ),
            models.CheckConstraint(
                condition=models.Q(synced_version__lte=models.F("sync_version")), name="code_synced_not_ahead"
            ),
        ]
        indexes = [models.Index(fields=["sync_status", "next_sync_at"], name="code_sync_due_idx")]

    def __str__(self) -> str:
        return self.text
