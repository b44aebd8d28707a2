import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from brands.models import Brand
from campaigns.rules import Dimension, RuleKind
from campaigns.tiers import TierMetric, TierPeriod
from core.history import history_user
from core.models import TimeStampedModel

# VTEX catalogue ids (SKU, product, category, brand, collection) are whole numbers.
_VTEX_ID = re.compile(r"^[0-9]{1,18}$")
DIMENSION_LABELS = {
    Dimension.ALL: _("all lines"),
    Dimension.SKU: _("SKU"),
    Dimension.PRODUCT: _("product"),
    Dimension.CATEGORY: _("category"),
    Dimension.BRAND: _("brand"),
    Dimension.COLLECTION: _("collection"),
}


class DimensionChoices(models.TextChoices):
    ALL = Dimension.ALL.value, _("All lines")
    SKU = Dimension.SKU.value, _("SKUs")
    PRODUCT = Dimension.PRODUCT.value, _("Products")
    CATEGORY = Dimension.CATEGORY.value, _("Categories")
    BRAND = Dimension.BRAND.value, _("Brands")
    COLLECTION = Dimension.COLLECTION.value, _("Collections")


class RuleKindChoices(models.TextChoices):
    PERCENTAGE = RuleKind.PERCENTAGE.value, _("Percentage")
    FIXED_PER_UNIT = RuleKind.FIXED_PER_UNIT.value, _("Fixed per unit")


class TierMetricChoices(models.TextChoices):
    SALES = TierMetric.SALES.value, _("Confirmed sales")
    ORDERS = TierMetric.ORDERS.value, _("Confirmed orders")


class TierPeriodChoices(models.TextChoices):
    MONTH = TierPeriod.MONTH.value, _("Calendar month")
    QUARTER = TierPeriod.QUARTER.value, _("Calendar quarter")
    CAMPAIGN = TierPeriod.CAMPAIGN.value, _("Whole campaign")


def parse_vtex_ids(value: object, *, dimension: str) -> list[str]:
    """Turn "18, 25\\n31" (or a list) into ["18", "25", "31"], refusing anything that is not a VTEX
    id with a message that says what was expected. Duplicates are dropped, order is kept."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        parts = re.split(r"[\s,;]+", value.strip())
    elif isinstance(value, list | tuple | set | frozenset):
        parts = [str(part).strip() for part in value]
    else:
        raise ValidationError(_("List the ids separated by commas, for example 18, 25, 31."))
    ids: list[str] = []
    for part in parts:
        if not part:
            continue
        if not _VTEX_ID.match(part):
            label = DIMENSION_LABELS.get(Dimension(dimension), dimension)
            raise ValidationError(
                _(
                    "“%(value)s” is not a VTEX %(kind)s id. VTEX ids are whole numbers (for example 18), as shown "
                    "in the VTEX admin; reference codes and names are not accepted."
                ),
                params={"value": part[:40], "kind": label},
                code="bad_vtex_id",
            )
        if part not in ids:
            ids.append(part)
    return ids


def validate_coupon_interval(value: str) -> None:
    if not re.match(r"^[0-9]{2}:[0-5][0-9]:[0-5][0-9]$", value or ""):
        raise ValidationError(_("Use hours:minutes:seconds, for example 00:00:00."))


class Campaign(TimeStampedModel):
    BRAND_FIELD = "brand"

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        ENDED = "ended", _("Ended")

    # Who may move where. Dates move scheduled → active → ended (Celery Beat); managers move the
    # rest. Ended is final: a campaign's codes are archived in VTEX when it ends.
    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        Status.DRAFT: {Status.SCHEDULED, Status.ACTIVE, Status.ENDED},
        Status.SCHEDULED: {Status.DRAFT, Status.ACTIVE, Status.PAUSED, Status.ENDED},
        Status.ACTIVE: {Status.PAUSED, Status.ENDED},
        Status.PAUSED: {Status.ACTIVE, Status.SCHEDULED, Status.ENDED},
        Status.ENDED: set(),
    }

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("brand"))
    name = models.CharField(_("name"), max_length=160)
    slug = models.SlugField(_("slug"), max_length=80)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    starts_at = models.DateTimeField(_("starts at"), help_text=_("In the brand's time zone."))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True, help_text=_("In the brand's time zone."))
    attribution_window_days = models.PositiveSmallIntegerField(
        _("attribution window (days)"), default=30, validators=[MinValueValidator(7), MaxValueValidator(30)]
    )
    hold_days = models.PositiveSmallIntegerField(
        _("hold period (days)"), default=30, validators=[MaxValueValidator(365)]
    )
    is_template = models.BooleanField(
        _("template"), default=False, help_text=_("Templates never run; new campaigns are created from them.")
    )
    template = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_campaigns",
        verbose_name=_("created from template"),
        limit_choices_to={"is_template": True},
    )
    open_to_all = models.BooleanField(
        _("open to every approved influencer"),
        default=False,
        help_text=_("Approved influencers of the brand join automatically when their codes are issued."),
    )
    utm_source = models.CharField(
        _("utm_source"), max_length=100, blank=True, help_text=_("The VTEX promotion's utm_source; coupons carry it.")
    )
    utm_campaign = models.CharField(
        _("utm_campaign"),
        max_length=100,
        blank=True,
        help_text=_("The VTEX promotion's utm_campaign; coupons carry it."),
    )
    vtex_promotion_id = models.CharField(_("VTEX promotion id"), max_length=64, blank=True)
    discount_percent = models.DecimalField(
        _("shopper discount (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text=_("What the VTEX promotion gives shoppers; shown to influencers with their codes."),
    )
    code_max_usage = models.PositiveIntegerField(
        _("uses per code"), default=10_000, help_text=_("VTEX maxUsage for each new code.")
    )
    code_max_items_per_client = models.PositiveIntegerField(
        _("items per shopper"), default=10, help_text=_("VTEX maxItemsPerClient for each new code.")
    )
    order_cap_cents = models.BigIntegerField(
        _("commission cap per order"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    tier_metric = models.CharField(
        _("tier metric"), max_length=10, choices=TierMetricChoices.choices, default=TierMetric.SALES.value
    )
    tier_period = models.CharField(
        _("tier period"), max_length=10, choices=TierPeriodChoices.choices, default=TierPeriod.MONTH.value
    )

    history = HistoricalRecords(get_user=history_user)

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
            models.CheckConstraint(
                condition=models.Q(is_template=False) | models.Q(status="draft"), name="campaign_template_is_draft"
            ),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lte=100), name="campaign_discount_0_100"
            ),
            models.CheckConstraint(
                condition=models.Q(order_cap_cents__isnull=True) | models.Q(order_cap_cents__gte=0),
                name="campaign_order_cap_not_negative",
            ),
        ]

    #: relations __str__ reads: admin filters select them with the campaigns (brands/admin_mixins.py)
    LABEL_RELATED = ("brand",)

    def __str__(self) -> str:
        return f"{self.brand.name} · {self.name}"

    def clean(self) -> None:
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must be after the start.")})
        if self.is_template and self.status != self.Status.DRAFT:
            raise ValidationError({"is_template": _("A template stays a draft; create a campaign from it instead.")})
        if self.template_id and self.brand_id and self.template and self.template.brand_id != self.brand_id:
            raise ValidationError({"template": _("Use a template of the same brand.")})


class CampaignVariant(TimeStampedModel):
    """An A/B variant: influencers are split between a campaign's variants by a stable hash, in
    proportion to `weight` (the weights add up to 100)."""

    BRAND_FIELD = "campaign__brand"

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="variants", verbose_name=_("campaign")
    )
    key = models.SlugField(_("key"), max_length=20, help_text=_("Short and stable, e.g. A or B; reports group by it."))
    name = models.CharField(_("name"), max_length=80, blank=True)
    weight = models.PositiveSmallIntegerField(
        _("weight (%)"), default=50, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    discount_percent = models.DecimalField(
        _("shopper discount (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text=_("Leave empty to use the campaign's."),
    )

    class Meta:
        verbose_name = _("A/B variant")
        verbose_name_plural = _("A/B variants")
        ordering = ["campaign", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "key"],
                name="uniq_variant_key_per_campaign",
                violation_error_message=_("Each variant of a campaign needs its own key."),
            ),
            models.CheckConstraint(condition=models.Q(weight__gte=1, weight__lte=100), name="variant_weight_1_100"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.weight}%)"


class CampaignEligibility(models.Model):
    """Which order lines a campaign pays on: ids to include or exclude, per dimension."""

    BRAND_FIELD = "campaign__brand"

    class Mode(models.TextChoices):
        INCLUDE = "include", _("Include")
        EXCLUDE = "exclude", _("Exclude")

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="eligibility", verbose_name=_("campaign")
    )
    dimension = models.CharField(
        _("by"), max_length=12, choices=[c for c in DimensionChoices.choices if c[0] != Dimension.ALL]
    )
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.INCLUDE)
    ids = models.JSONField(_("VTEX ids"), default=list, help_text=_("Comma-separated VTEX ids, e.g. 18, 25."))

    class Meta:
        verbose_name = _("eligibility filter")
        verbose_name_plural = _("eligibility filters")
        ordering = ["campaign", "mode", "dimension"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "dimension", "mode"],
                name="uniq_eligibility_per_dimension",
                violation_error_message=_("There is already a filter for this dimension and mode; add the ids there."),
            ),
            models.CheckConstraint(condition=~models.Q(dimension="all"), name="eligibility_dimension_not_all"),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.get_dimension_display()}: {', '.join(self.ids)}"

    def clean(self) -> None:
        try:
            self.ids = parse_vtex_ids(self.ids, dimension=self.dimension or Dimension.SKU)
        except ValidationError as exc:
            raise ValidationError({"ids": exc.messages}) from exc
        if not self.ids:
            raise ValidationError({"ids": _("List at least one id, or remove this filter.")})


class CommissionRule(TimeStampedModel):
    """One commission rule; see docs/commissions.md. The first rule (lowest priority number)
    whose scope covers a line pays it."""

    BRAND_FIELD = "campaign__brand"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="rules", verbose_name=_("campaign"))
    variant = models.ForeignKey(
        CampaignVariant,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name=_("only for variant"),
        help_text=_("Leave empty for a rule every variant uses."),
    )
    name = models.CharField(_("name"), max_length=120)
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=100, help_text=_("Lower numbers are tried first.")
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=RuleKindChoices.choices, default=RuleKind.PERCENTAGE.value
    )
    rate_percent = models.DecimalField(
        _("rate (%)"),
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal(100))],
    )
    amount_cents = models.BigIntegerField(
        _("amount per unit"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    dimension = models.CharField(
        _("applies to"), max_length=12, choices=DimensionChoices.choices, default=Dimension.ALL
    )
    ids = models.JSONField(
        _("VTEX ids"), default=list, blank=True, help_text=_("Comma-separated VTEX ids, e.g. 18, 25.")
    )
    cap_per_line_cents = models.BigIntegerField(
        _("cap per line"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    cap_per_order_cents = models.BigIntegerField(
        _("cap per order"), null=True, blank=True, validators=[MinValueValidator(0)]
    )

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("commission rule")
        verbose_name_plural = _("commission rules")
        ordering = ["campaign", "priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind=RuleKind.PERCENTAGE.value,
                        rate_percent__gt=0,
                        rate_percent__lte=100,
                        amount_cents__isnull=True,
                    )
                    | models.Q(kind=RuleKind.FIXED_PER_UNIT.value, amount_cents__gt=0, rate_percent__isnull=True)
                ),
                name="rule_rate_or_amount",
            ),
            models.CheckConstraint(
                condition=(models.Q(cap_per_line_cents__isnull=True) | models.Q(cap_per_line_cents__gte=0))
                & (models.Q(cap_per_order_cents__isnull=True) | models.Q(cap_per_order_cents__gte=0)),
                name="rule_caps_not_negative",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == RuleKind.PERCENTAGE:
            return f"{self.name} ({self.rate_percent}%)"
        return f"{self.name} ({self.amount_cents}/u)"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.kind == RuleKind.PERCENTAGE:
            if self.rate_percent is None:
                errors.setdefault("rate_percent", []).append(str(_("A percentage rule needs a rate.")))
            self.amount_cents = None
        elif self.kind == RuleKind.FIXED_PER_UNIT:
            if not self.amount_cents:
                errors.setdefault("amount_cents", []).append(str(_("A fixed rule needs an amount per unit.")))
            self.rate_percent = None
        try:
            self.ids = parse_vtex_ids(self.ids, dimension=self.dimension or Dimension.ALL)
        except ValidationError as exc:
            errors.setdefault("ids", []).extend(exc.messages)
        else:
            if self.dimension == Dimension.ALL and self.ids:
                errors.setdefault("ids", []).append(
                    str(_("A rule for all lines takes no ids; choose what it applies to."))
                )
            if self.dimension != Dimension.ALL and not self.ids:
                errors.setdefault("ids", []).append(str(_("List the VTEX ids this rule applies to.")))
        if self.variant_id and self.campaign_id and self.variant and self.variant.campaign_id != self.campaign_id:
            errors.setdefault("variant", []).append(str(_("Choose a variant of this campaign.")))
        if errors:
            raise ValidationError(errors)


class CommissionTier(TimeStampedModel):
    """A performance tier: at or above `threshold` (confirmed sales in cents, or confirmed
    orders, per the campaign's tier metric) in the tier period, percentage rules pay
    `bonus_percent` more points."""

    BRAND_FIELD = "campaign__brand"
    # Confirmed sales (money) or confirmed orders (a count), per the campaign (core.admin_money).
    MONEY_IF = {"threshold": "threshold_is_money"}

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tiers", verbose_name=_("campaign"))
    name = models.CharField(_("name"), max_length=60)
    threshold = models.BigIntegerField(
        _("threshold"),
        validators=[MinValueValidator(0)],
        help_text=_(
            "Confirmed sales in the brand's currency, or confirmed orders, depending on the campaign's tier metric."
        ),
    )
    bonus_percent = models.DecimalField(
        _("bonus (percentage points)"),
        max_digits=6,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal(100))],
    )

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("commission tier")
        verbose_name_plural = _("commission tiers")
        ordering = ["campaign", "threshold"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "threshold"],
                name="uniq_tier_threshold_per_campaign",
                violation_error_message=_(
                    "This campaign already has a tier with that threshold; each tier needs its own."
                ),
            ),
            models.UniqueConstraint(
                fields=["campaign", "name"],
                name="uniq_tier_name_per_campaign",
                violation_error_message=_("This campaign already has a tier with that name."),
            ),
            models.CheckConstraint(
                condition=models.Q(threshold__gte=0, bonus_percent__gt=0, bonus_percent__lte=100),
                name="tier_threshold_and_bonus_valid",
            ),
        ]

    def threshold_is_money(self) -> bool:
        return bool(self.campaign.tier_metric == TierMetric.SALES.value)

    def __str__(self) -> str:
        return f"{self.name} (+{self.bonus_percent} pp)"


class CampaignAssignment(TimeStampedModel):
    """An influencer taking part in a campaign, with the A/B variant they fell into and their
    current tier. Unassigning keeps the row (inactive) so history and reports stay whole."""

    BRAND_FIELD = "campaign__brand"
    # Confirmed sales (money) or confirmed orders (a count), per the campaign (core.admin_money).
    MONEY_IF = {"tier_metric_value": "tier_metric_value_is_money"}

    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("campaign")
    )
    influencer = models.ForeignKey(
        "affiliates.Influencer",
        on_delete=models.PROTECT,
        related_name="campaign_assignments",
        verbose_name=_("influencer"),
    )
    variant = models.ForeignKey(
        CampaignVariant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
        verbose_name=_("variant"),
    )
    tier = models.ForeignKey(
        CommissionTier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assignments",
        verbose_name=_("tier"),
    )
    is_active = models.BooleanField(_("active"), default=True, db_index=True)
    assigned_at = models.DateTimeField(_("assigned at"))
    unassigned_at = models.DateTimeField(_("unassigned at"), null=True, blank=True)
    tier_metric_value = models.BigIntegerField(_("tier metric value"), default=0)
    tier_evaluated_at = models.DateTimeField(_("tier evaluated at"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("campaign assignment")
        verbose_name_plural = _("campaign assignments")
        ordering = ["campaign", "influencer"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "influencer"], name="uniq_assignment_per_campaign"),
        ]

    def tier_metric_value_is_money(self) -> bool:
        return bool(self.campaign.tier_metric == TierMetric.SALES.value)

    def __str__(self) -> str:
        return f"{self.influencer} → {self.campaign.name}"


class ReferralProgram(TimeStampedModel):
    """A campaign's member-get-member program (off by default): what an approved influencer earns
    for an influencer they recruited into this campaign. The money rules are in
    docs/referrals.md; commissions.referrals applies them to the ledger."""

    BRAND_FIELD = "campaign__brand"

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, related_name="referral_program", verbose_name=_("campaign")
    )
    enabled = models.BooleanField(
        _("referrals enabled"),
        default=False,
        help_text=_("Approved influencers of this campaign get a recruiting link to the brand's join page."),
    )
    rate_percent = models.DecimalField(
        _("referral reward (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(50))],
        help_text=_("Share of each commission the recruited influencer earns in this campaign."),
    )
    months = models.PositiveSmallIntegerField(
        _("reward months"),
        default=6,
        validators=[MaxValueValidator(60)],
        help_text=_("Orders placed this many months after the referral count; 0 pays no percentage."),
    )
    bonus_cents = models.BigIntegerField(
        _("fixed bonus"), default=0, validators=[MinValueValidator(0)], help_text=_("0 pays no bonus.")
    )
    bonus_threshold_cents = models.BigIntegerField(
        _("bonus threshold (confirmed sales)"),
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("The bonus is paid once the recruited influencer's confirmed sales reach this amount."),
    )
    second_level_rate_percent = models.DecimalField(
        _("second level reward (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(20))],
        help_text=_("Paid to the referrer of the referrer; 0 keeps one level."),
    )
    second_level_cap_cents = models.BigIntegerField(
        _("second level cap per recruited influencer"),
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("The most the second level earns from one recruited influencer."),
    )

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("referral program")
        verbose_name_plural = _("referral programs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rate_percent__gte=0, rate_percent__lte=50), name="referral_rate_0_50"
            ),
            models.CheckConstraint(
                condition=models.Q(second_level_rate_percent__gte=0, second_level_rate_percent__lte=20),
                name="referral_second_rate_0_20",
            ),
            models.CheckConstraint(
                condition=models.Q(bonus_cents__gte=0, bonus_threshold_cents__gte=0, second_level_cap_cents__gte=0),
                name="referral_amounts_not_negative",
            ),
            # A second level without a cap would be an open-ended MLM: refuse it.
            models.CheckConstraint(
                condition=models.Q(second_level_rate_percent=0) | models.Q(second_level_cap_cents__gt=0),
                name="referral_second_level_capped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {_('referrals')}"

    def clean(self) -> None:
        if self.second_level_rate_percent and not self.second_level_cap_cents:
            raise ValidationError({"second_level_cap_cents": _("Set a cap for the second level.")})
