from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.models import TimeStampedModel


class Influencer(TimeStampedModel):
    """A person who promotes brands. One person may work with several brands: the status with
    each brand lives on `Membership`."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="influencer", verbose_name=_("user")
    )
    display_name = models.CharField(_("display name"), max_length=120)
    handle = models.CharField(_("main social handle"), max_length=80, blank=True)
    country = models.CharField(_("country"), max_length=2)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("influencer")
        verbose_name_plural = _("influencers")
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class Membership(TimeStampedModel):
    """An influencer's relationship with one brand, and its status machine."""

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
        "campaigns.Brand", on_delete=models.PROTECT, related_name="memberships", verbose_name=_("brand")
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    status_reason = models.TextField(_("reason"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("brand membership")
        verbose_name_plural = _("brand memberships")
        constraints = [models.UniqueConstraint(fields=["influencer", "brand"], name="uniq_membership_per_brand")]

    def __str__(self) -> str:
        return f"{self.influencer} @ {self.brand}"
