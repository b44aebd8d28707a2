import secrets
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.crypto import EncryptedTextField
from core.models import TimeStampedModel
from core.money import CURRENCY_CHOICES

COUNTRY_CHOICES = [
    ("AR", _("Argentina")),
    ("BR", _("Brazil")),
    ("CL", _("Chile")),
    ("CO", _("Colombia")),
    ("EC", _("Ecuador")),
    ("MX", _("Mexico")),
    ("PE", _("Peru")),
    ("UY", _("Uruguay")),
]
_hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #1A2B3C."))


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a time zone name such as America/Bogota."), params={"value": value})


def new_hook_token() -> str:
    return secrets.token_urlsafe(32)


class Brand(TimeStampedModel):
    """A store on VTEX that runs campaigns with influencers."""

    BRAND_FIELD = "pk"

    class Environment(models.TextChoices):
        STABLE = "vtexcommercestable", "vtexcommercestable"
        BETA = "vtexcommercebeta", "vtexcommercebeta"

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    vtex_account = models.CharField(
        _("VTEX account"),
        max_length=80,
        unique=True,
        validators=[
            RegexValidator(r"^[a-z0-9][a-z0-9-]*$", _("Use the VTEX account name: lowercase letters, digits, hyphens."))
        ],
    )
    vtex_environment = models.CharField(
        _("VTEX environment"), max_length=40, choices=Environment.choices, default=Environment.STABLE
    )
    vtex_app_key = EncryptedTextField(_("VTEX app key"), blank=True)
    vtex_app_token = EncryptedTextField(_("VTEX app token"), blank=True)
    hook_token = EncryptedTextField(_("hook token"), default=new_hook_token)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="COP")
    country = models.CharField(_("country"), max_length=2, choices=COUNTRY_CHOICES, default="CO")
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="America/Bogota", validators=[validate_time_zone]
    )
    store_domains = models.JSONField(
        _("store domains"),
        default=list,
        blank=True,
        help_text=_("Hosts a tracked link may redirect to, e.g. www.example.com."),
    )
    logo = models.ImageField(_("logo"), upload_to="brands/logos/", blank=True)
    primary_color = models.CharField(_("primary colour"), max_length=7, default="#1F4E79", validators=[_hex_colour])
    secondary_color = models.CharField(_("secondary colour"), max_length=7, default="#F2A900", validators=[_hex_colour])
    min_withdrawal_cents = models.BigIntegerField(
        _("minimum withdrawal (cents)"), default=5_000_00, validators=[MinValueValidator(0)]
    )
    default_hold_days = models.PositiveSmallIntegerField(
        _("default hold period (days)"), default=30, validators=[MaxValueValidator(365)]
    )

    history = HistoricalRecords(excluded_fields=["vtex_app_key", "vtex_app_token", "hook_token"])

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Campaign(TimeStampedModel):
    BRAND_FIELD = "brand"

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        ENDED = "ended", _("Ended")

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("brand"))
    name = models.CharField(_("name"), max_length=160)
    slug = models.SlugField(_("slug"), max_length=80)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    attribution_window_days = models.PositiveSmallIntegerField(
        _("attribution window (days)"), default=30, validators=[MinValueValidator(7), MaxValueValidator(30)]
    )
    hold_days = models.PositiveSmallIntegerField(
        _("hold period (days)"), default=30, validators=[MaxValueValidator(365)]
    )
    is_template = models.BooleanField(_("template"), default=False)
    utm_source = models.CharField(_("utm_source"), max_length=100, blank=True)
    utm_campaign = models.CharField(_("utm_campaign"), max_length=100, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "slug"], name="uniq_campaign_slug_per_brand"),
            models.CheckConstraint(
                condition=models.Q(attribution_window_days__gte=7, attribution_window_days__lte=30),
                name="campaign_window_7_30",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=models.F("starts_at")),
                name="campaign_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand.name} · {self.name}"

    def clean(self) -> None:
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must be after the start.")})
