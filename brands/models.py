"""The tenant: a brand selling on VTEX, and which staff members may see it.

The tables keep their original names (campaigns_brand, accounts_staffbrandaccess): the models
moved here without touching data (decision 0022)."""

import secrets
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.crypto import EncryptedTextField
from core.history import history_user
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
        # The one value VTEX's OpenAPI files for the Orders and the Promotions & Taxes APIs
        # document for the `environment` part of the host (https://{account}.{environment}.com.br).
        STABLE = "vtexcommercestable", "vtexcommercestable"

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
    vtex_data_protection_plus = models.BooleanField(
        _("VTEX Data Protection Plus"),
        default=False,
        help_text=_(
            "Tick it if the store is on VTEX's Data Protection Plus: its orders are then read through "
            "the PII version of the Orders API, as VTEX requires for such stores."
        ),
    )
    vtex_app_key = EncryptedTextField(_("VTEX app key"), blank=True, memo=True)
    vtex_app_token = EncryptedTextField(_("VTEX app token"), blank=True, memo=True)
    hook_token = EncryptedTextField(_("hook token"), default=new_hook_token, memo=True)
    previous_hook_token = EncryptedTextField(_("previous hook token"), blank=True, memo=True)
    previous_hook_token_expires_at = models.DateTimeField(_("previous hook token valid until"), null=True, blank=True)
    hook_token_rotated_at = models.DateTimeField(_("hook token rotated at"), null=True, blank=True)
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
        _("minimum withdrawal"), default=5_000_00, validators=[MinValueValidator(0)]
    )
    default_hold_days = models.PositiveSmallIntegerField(
        _("default hold period (days)"), default=30, validators=[MaxValueValidator(365)]
    )
    claim_deadline_days = models.PositiveSmallIntegerField(
        _("claim deadline (days)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text=_("Influencers may claim a missing order up to this many days after it was placed."),
    )

    history = HistoricalRecords(
        get_user=history_user,
        excluded_fields=["vtex_app_key", "vtex_app_token", "hook_token", "previous_hook_token"],
        table_name="campaigns_historicalbrand",
    )

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name"]
        db_table = "campaigns_brand"

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class StaffBrandAccess(models.Model):
    """Which brands a staff member may see. Superusers see every brand without rows here."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="brand_access", verbose_name=_("user")
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="staff_access", verbose_name=_("brand"))
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)

    class Meta:
        verbose_name = _("brand access")
        verbose_name_plural = _("brand access")
        db_table = "accounts_staffbrandaccess"
        constraints = [models.UniqueConstraint(fields=["user", "brand"], name="uniq_staff_brand_access")]

    def __str__(self) -> str:
        return f"{self.user} → {self.brand}"


class CurrencyRate(TimeStampedModel):
    """What one unit of a foreign currency is worth in the brand's currency, as a manager set it.

    VTEX reports an order in the store's currency (`storePreferencesData.currencyCode`); a
    brand whose VTEX account also sells in another currency (a USD store of a COP brand) gets
    orders whose cents are not the brand's. Without a rate here such an order is held and pays
    nothing (orders.services); with one, the order records the rate it was converted at, so
    a later change of this rate never reprices it unless a manager reprocesses the order."""

    BRAND_FIELD = "brand"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="currency_rates", verbose_name=_("brand"))
    currency = models.CharField(_("order currency"), max_length=3, choices=CURRENCY_CHOICES)
    rate = models.DecimalField(
        _("rate"),
        max_digits=20,
        decimal_places=8,
        validators=[MinValueValidator(Decimal("0.00000001"))],
        help_text=_(
            "How much one unit of the order currency is worth in the brand's currency (e.g. 4100 COP per USD)."
        ),
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("set by"),
    )

    class Meta:
        verbose_name = _("currency rate")
        verbose_name_plural = _("currency rates")
        ordering = ["brand", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "currency"], name="uniq_currency_rate_per_brand"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="currency_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} {self.brand.currency}"
