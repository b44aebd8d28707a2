"""The reporting read side: daily rollups (what dashboards and the report builder query), saved
and scheduled reports, their deliveries, and export jobs that run in the worker.

Rollups hold one row per (brand, day in the brand's time zone, campaign, influencer, variant,
country) with counters and money in the brand's minor units. They are derived data: any
(brand, day) can be recomputed from the source tables at any time (reports.rollups)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class DailyRollup(models.Model):
    BRAND_FIELD = "brand"

    # No single-column indexes on brand, campaign and influencer: the composite indexes below
    # lead with each of them. With both, PostgreSQL tends to pick the brand_id index and filter
    # every day of the brand (rows are physically grouped by brand after a rebuild).
    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.CASCADE, related_name="+", verbose_name=_("brand"), db_index=False
    )
    day = models.DateField(_("day (brand time zone)"))
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="+", verbose_name=_("campaign"), db_index=False
    )
    influencer = models.ForeignKey(
        "affiliates.Influencer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("influencer"),
        db_index=False,
    )
    variant = models.ForeignKey(
        "campaigns.CampaignVariant",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("variant"),
    )
    # The influencer's tier in the campaign when the day was rolled up (not part of the key:
    # it follows from campaign and influencer).
    tier = models.ForeignKey(
        "campaigns.CommissionTier",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tier"),
    )
    # The influencer's country: clicks carry no geolocation (we keep no IP addresses).
    country = models.CharField(_("country"), max_length=2, blank=True)

    clicks_valid = models.PositiveIntegerField(_("valid clicks"), default=0)
    clicks_screened = models.PositiveIntegerField(_("screened clicks"), default=0)
    unique_visitors = models.PositiveIntegerField(_("unique visitors"), default=0)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    revenue_cents = models.BigIntegerField(_("revenue"), default=0)
    returned_orders = models.PositiveIntegerField(_("orders with returns"), default=0)
    returned_cents = models.BigIntegerField(_("returned"), default=0)
    commission_estimated_cents = models.BigIntegerField(_("commissions estimated"), default=0)
    commission_confirmed_cents = models.BigIntegerField(_("commissions confirmed"), default=0)
    commission_reversed_cents = models.BigIntegerField(_("commissions reversed"), default=0)
    commission_paid_cents = models.BigIntegerField(_("commissions released for payout"), default=0)

    class Meta:
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "day", "campaign", "influencer", "variant", "country"],
                condition=Q(variant__isnull=False),
                name="uniq_rollup_key_variant",
            ),
            models.UniqueConstraint(
                fields=["brand", "day", "campaign", "influencer", "country"],
                condition=Q(variant__isnull=True),
                name="uniq_rollup_key_no_variant",
            ),
        ]
        indexes = [
            models.Index(fields=["brand", "day"], name="rollup_brand_day_idx"),
            models.Index(fields=["influencer", "brand", "day"], name="rollup_influencer_day_idx"),
            models.Index(fields=["campaign", "day"], name="rollup_campaign_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.brand_id} {self.day} c{self.campaign_id} i{self.influencer_id}"


class LineRollup(models.Model):
    """Attributed order lines per (brand, day, campaign, influencer, SKU, category): what the
    report builder reads for the SKU and category dimensions. The category is the line's most
    specific VTEX category."""

    BRAND_FIELD = "brand"

    # The unique key leads with (brand, day): no separate brand index (see DailyRollup).
    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.CASCADE, related_name="+", verbose_name=_("brand"), db_index=False
    )
    day = models.DateField(_("day (brand time zone)"))
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="+", verbose_name=_("campaign")
    )
    influencer = models.ForeignKey(
        "affiliates.Influencer", on_delete=models.CASCADE, related_name="+", verbose_name=_("influencer")
    )
    sku_id = models.CharField(_("SKU id"), max_length=40)
    category_id = models.CharField(_("category id"), max_length=40, blank=True)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    units = models.PositiveIntegerField(_("units"), default=0)
    revenue_cents = models.BigIntegerField(_("revenue"), default=0)
    returned_units = models.PositiveIntegerField(_("units taken back"), default=0)
    commission_estimated_cents = models.BigIntegerField(_("commissions estimated"), default=0)
    commission_confirmed_cents = models.BigIntegerField(_("commissions confirmed"), default=0)

    class Meta:
        verbose_name = _("line rollup")
        verbose_name_plural = _("line rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "day", "campaign", "influencer", "sku_id", "category_id"], name="uniq_line_rollup_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.brand_id} {self.day} {self.sku_id}"


class LinkRollup(models.Model):
    """One tracked link's day (brand time zone): valid clicks and their distinct visitors, the
    orders its clicks won (canceled left out) with their value, and the net commission on them
    by state. Rewritten with the daily rollups of the same (brand, day), so the portal and the
    admin read a link's numbers from here instead of counting clicks on every page view."""

    BRAND_FIELD = "brand"

    # (brand, day) leads the refresh's delete; (link, day) every read.
    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.CASCADE, related_name="+", verbose_name=_("brand"), db_index=False
    )
    day = models.DateField(_("day (brand time zone)"))
    link = models.ForeignKey(
        "tracking.Link", on_delete=models.CASCADE, related_name="+", verbose_name=_("link"), db_index=False
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="+", verbose_name=_("campaign"), db_index=False
    )
    influencer = models.ForeignKey(
        "affiliates.Influencer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("influencer"),
        db_index=False,
    )
    clicks_valid = models.PositiveIntegerField(_("valid clicks"), default=0)
    unique_visitors = models.PositiveIntegerField(_("unique visitors"), default=0)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    revenue_cents = models.BigIntegerField(_("revenue"), default=0)
    commission_estimated_cents = models.BigIntegerField(_("commissions estimated"), default=0)
    commission_confirmed_cents = models.BigIntegerField(_("commissions confirmed"), default=0)

    class Meta:
        verbose_name = _("link rollup")
        verbose_name_plural = _("link rollups")
        constraints = [models.UniqueConstraint(fields=["link", "day"], name="uniq_link_rollup_day")]
        indexes = [models.Index(fields=["brand", "day"], name="link_rollup_brand_day_idx")]

    def __str__(self) -> str:
        return f"{self.brand_id} {self.day} link {self.link_id}"


class RollupDay(models.Model):
    """One row per (brand, day) already rolled up: its row lock serialises refreshes of that
    day, and `refreshed_at` says how fresh the numbers are."""

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("rolled-up day")
        verbose_name_plural = _("rolled-up days")
        constraints = [models.UniqueConstraint(fields=["brand", "day"], name="uniq_rollup_day")]

    def __str__(self) -> str:
        return f"{self.brand_id} {self.day}"


class ReportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"
    JSON = "json", "JSON"


class SavedReport(TimeStampedModel):
    """A report builder query someone kept: the spec is `reports.builder.ReportSpec` as JSON."""

    BRAND_FIELD = "brand"

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", verbose_name=_("brand"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("owner")
    )
    name = models.CharField(_("name"), max_length=120)
    spec = models.JSONField(_("query"), default=dict)
    is_shared = models.BooleanField(
        _("shared with the brand"), default=False, help_text=_("Other staff of the brand can open and schedule it.")
    )

    class Meta:
        verbose_name = _("saved report")
        verbose_name_plural = _("saved reports")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class ScheduledReport(TimeStampedModel):
    BRAND_FIELD = "report__brand"

    class Cadence(models.TextChoices):
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly (Mondays)")
        MONTHLY = "monthly", _("Monthly (the 1st)")

    report = models.ForeignKey(
        SavedReport, on_delete=models.CASCADE, related_name="schedules", verbose_name=_("report")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("created by")
    )
    format = models.CharField(_("format"), max_length=4, choices=ReportFormat.choices, default=ReportFormat.CSV)
    recipients = models.JSONField(_("recipients"), default=list, help_text=_("Email addresses, comma-separated."))
    cadence = models.CharField(_("cadence"), max_length=8, choices=Cadence.choices, default=Cadence.WEEKLY)
    send_hour = models.PositiveSmallIntegerField(
        _("hour (brand time zone)"), default=7, help_text=_("Sent at this hour of the brand's time zone, 0–23.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_sent_period = models.CharField(_("last period sent"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("scheduled report")
        verbose_name_plural = _("scheduled reports")
        ordering = ["report", "cadence"]
        constraints = [
            models.CheckConstraint(condition=Q(send_hour__gte=0, send_hour__lte=23), name="schedule_hour_0_23"),
        ]

    def __str__(self) -> str:
        return f"{self.report} · {self.get_cadence_display()}"


class ReportDelivery(models.Model):
    """One sending of a schedule for one period: the unique key makes sending idempotent."""

    BRAND_FIELD = "schedule__report__brand"

    class Status(models.TextChoices):
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    schedule = models.ForeignKey(ScheduledReport, on_delete=models.CASCADE, related_name="deliveries")
    period = models.CharField(_("period"), max_length=20, help_text=_("2026-03-02, 2026-W10 or 2026-03."))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.SENDING)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["schedule", "period"], name="uniq_delivery_per_period")]

    def __str__(self) -> str:
        return f"{self.schedule_id} {self.period}"


class ExportJob(TimeStampedModel):
    """A large export written by the worker to private storage, downloaded through a signed,
    expiring link by the person who asked for it."""

    BRAND_FIELD = "brand"

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    class Source(models.TextChoices):
        ADMIN = "admin", _("Admin list")
        REPORT = "report", _("Report")

    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("brand")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("requested by")
    )
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    format = models.CharField(_("format"), max_length=4, choices=ReportFormat.choices)
    label = models.CharField(_("what"), max_length=120)
    params = models.JSONField(_("parameters"), default=dict)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    progress_done = models.PositiveIntegerField(_("rows written"), default=0)
    progress_total = models.PositiveIntegerField(_("rows"), default=0)
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.label} ({self.format})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0
