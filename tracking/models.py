"""Tracking: links, clicks, conversions, customer bindings, attribution policy and fraud flags.

Raw IP addresses are never stored: a click keeps a keyed hash of the address and its coarse
prefix (/24 for IPv4, /48 for IPv6). Customer emails and documents are stored as keyed hashes
only (see `tracking.hashing`)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.history import history_user
from core.models import TimeStampedModel


class AttributionPolicy(TimeStampedModel):
    """How one campaign decides which touchpoint earns an order. A campaign without a row uses
    `tracking.selectors.attribution_policy_for`'s defaults (coupon wins, last click, the
    campaign's window, no cross-device binding)."""

    BRAND_FIELD = "campaign__brand"

    class Precedence(models.TextChoices):
        COUPON = "coupon", _("Coupon wins over link")
        LINK = "link", _("Link wins over coupon")

    class ClickModel(models.TextChoices):
        LAST = "last", _("Last click")
        FIRST = "first", _("First click")

    campaign = models.OneToOneField(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="attribution_policy", verbose_name=_("campaign")
    )
    precedence = models.CharField(_("precedence"), max_length=8, choices=Precedence.choices, default=Precedence.COUPON)
    click_model = models.CharField(_("click model"), max_length=8, choices=ClickModel.choices, default=ClickModel.LAST)
    window_days = models.PositiveSmallIntegerField(
        _("attribution window (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(7), MaxValueValidator(30)],
        help_text=_("Leave empty to use the campaign's attribution window."),
    )
    cross_device = models.BooleanField(
        _("bind customers across devices"),
        default=False,
        help_text=_("A customer who bought through an influencer stays bound to them (hashed email/document)."),
    )
    binding_days = models.PositiveSmallIntegerField(
        _("binding lifetime (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("Leave empty to keep the binding until the campaign ends."),
    )

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("attribution policy")
        verbose_name_plural = _("attribution policies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_days__isnull=True) | models.Q(window_days__gte=7, window_days__lte=30),
                name="attribution_policy_window_7_30",
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.get_precedence_display()} · {self.get_click_model_display()}"


class Link(TimeStampedModel):
    """A tracked link of one influencer in one campaign: `/r/<slug>` redirects to
    `destination_url`, a page of the brand's store (its host is on `Brand.store_domains`).
    A manager makes one in the admin or the API, the influencer in the portal, and approval
    issues one to the store's home page per campaign (`origin`)."""

    BRAND_FIELD = "brand"

    class Origin(models.TextChoices):
        MANAGER = "manager", _("Made by the brand")
        INFLUENCER = "influencer", _("Made by the influencer")
        APPROVAL = "approval", _("Issued on approval")

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="links", verbose_name=_("brand"))
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="links", verbose_name=_("campaign")
    )
    influencer = models.ForeignKey(
        "affiliates.Influencer", on_delete=models.PROTECT, related_name="links", verbose_name=_("influencer")
    )
    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    destination_url = models.URLField(_("destination"), max_length=1000)
    label = models.CharField(_("label"), max_length=120, blank=True)
    is_active = models.BooleanField(_("active"), default=True, db_index=True)
    origin = models.CharField(_("made by"), max_length=10, choices=Origin.choices, default=Origin.MANAGER)

    class Meta:
        verbose_name = _("tracked link")
        verbose_name_plural = _("tracked links")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["influencer", "campaign"], name="link_influencer_campaign_idx")]
        constraints = [
            # Approval issues one link per campaign, whatever races: a second approval (after a
            # suspension) finds it instead of making another.
            models.UniqueConstraint(
                fields=["campaign", "influencer"], condition=models.Q(origin="approval"), name="uniq_approval_link"
            )
        ]

    def __str__(self) -> str:
        return f"/r/{self.slug}"


class Click(models.Model):
    """One request to `/r/<slug>`, written in batches by the drain worker. `click_id` is
    generated at the redirect and travels to the store in `utmi_cp`; it is unique, so a batch
    drained twice (a worker killed before it acknowledged) inserts nothing twice."""

    BRAND_FIELD = "brand"

    class ScreenReason(models.TextChoices):
        NONE = "", _("Valid")
        BOT = "bot", _("Bot user agent")
        HEAD = "head", _("HEAD request")
        PREFETCH = "prefetch", _("Prefetch / preview")
        NON_NAVIGATION = "sec_fetch", _("Not a navigation (Sec-Fetch)")
        DUPLICATE = "duplicate", _("Same visitor, same link, within the dedupe window")
        FLOOD = "flood", _("Too many clicks from one address")

    click_id = models.CharField(_("click id"), max_length=26, unique=True)
    link = models.ForeignKey(Link, on_delete=models.PROTECT, related_name="clicks", verbose_name=_("link"))
    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+", verbose_name=_("brand"))
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="+", verbose_name=_("campaign")
    )
    influencer = models.ForeignKey(
        "affiliates.Influencer", on_delete=models.PROTECT, related_name="clicks", verbose_name=_("influencer")
    )
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    visitor_id = models.CharField(_("visitor id"), max_length=32, db_index=True)
    is_valid = models.BooleanField(_("valid"), default=True)
    screen_reason = models.CharField(_("screened as"), max_length=10, choices=ScreenReason.choices, blank=True)
    ip_hash = models.CharField(_("IP hash"), max_length=32, db_index=True)
    ip_prefix = models.CharField(_("IP prefix"), max_length=50, blank=True)
    fingerprint = models.CharField(_("fingerprint"), max_length=32, db_index=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    accept_language = models.CharField(_("language"), max_length=40, blank=True)
    referrer_host = models.CharField(_("referrer host"), max_length=255, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("click")
        verbose_name_plural = _("clicks")
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["influencer", "occurred_at"], name="click_influencer_time_idx"),
            models.Index(fields=["brand", "visitor_id", "occurred_at"], name="click_visitor_time_idx"),
            models.Index(fields=["brand", "fingerprint", "occurred_at"], name="click_fingerprint_time_idx"),
        ]

    def __str__(self) -> str:
        return self.click_id


class Conversion(models.Model):
    """An order id linked to a visitor: from the store's order-placed script or a
    server-to-server postback. The fingerprint is the last fallback when neither carries a
    visitor or click id."""

    BRAND_FIELD = "brand"

    class Source(models.TextChoices):
        SCRIPT = "script", _("Order-placed script")
        POSTBACK = "postback", _("Server postback")

    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.PROTECT, related_name="conversions", verbose_name=_("brand")
    )
    order_ref = models.CharField(_("VTEX order id or group"), max_length=64, db_index=True)
    visitor_id = models.CharField(_("visitor id"), max_length=32, blank=True, db_index=True)
    click_id = models.CharField(_("click id"), max_length=26, blank=True)
    fingerprint = models.CharField(_("fingerprint"), max_length=32, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    occurred_at = models.DateTimeField(_("occurred at"))

    class Meta:
        verbose_name = _("conversion")
        verbose_name_plural = _("conversions")
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "order_ref", "visitor_id", "click_id", "source"], name="uniq_conversion_signal"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_ref} ← {self.visitor_id or self.click_id or self.fingerprint}"


class CustomerBinding(TimeStampedModel):
    """A customer (keyed hash of email or document) bound to the influencer through whom they
    first converted in a campaign, for cross-device attribution."""

    BRAND_FIELD = "brand"

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+", verbose_name=_("brand"))
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="customer_bindings", verbose_name=_("campaign")
    )
    influencer = models.ForeignKey(
        "affiliates.Influencer",
        on_delete=models.PROTECT,
        related_name="customer_bindings",
        verbose_name=_("influencer"),
    )
    customer_hash = models.CharField(_("customer hash"), max_length=64)
    order_ref = models.CharField(_("first order"), max_length=64)
    bound_at = models.DateTimeField(_("bound at"))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer binding")
        verbose_name_plural = _("customer bindings")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer_hash"], name="uniq_binding_customer_campaign")
        ]
        # Every applied order asks for its customers' bindings with the brand (tracking.touchpoints):
        # without it, a brand's every binding was read per order.
        indexes = [models.Index(fields=["brand", "customer_hash"], name="binding_brand_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_hash[:10]}… → {self.influencer}"


class ManualAttribution(TimeStampedModel):
    """A person's decision that an order belongs to an influencer (an accepted missing-order
    claim, say), with its reason. `tracking.attribution.attribution_decide` reads it before any
    touchpoint, so every later sync of the order keeps it (until the order's attribution is
    settled money, which nothing changes). One per order; written only by
    `tracking.services.attribution_manual_record`."""

    BRAND_FIELD = "brand"

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+", verbose_name=_("brand"))
    order_ref = models.CharField(_("VTEX order id"), max_length=64)
    influencer = models.ForeignKey(
        "affiliates.Influencer", on_delete=models.PROTECT, related_name="+", verbose_name=_("influencer")
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, related_name="+", verbose_name=_("campaign")
    )
    reason = models.TextField(_("reason"))
    source_ref = models.CharField(
        _("decided through"), max_length=64, blank=True, help_text=_("What the decision came from, e.g. claim:12.")
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )

    class Meta:
        verbose_name = _("manual attribution")
        verbose_name_plural = _("manual attributions")
        constraints = [models.UniqueConstraint(fields=["brand", "order_ref"], name="uniq_manual_attribution")]

    def __str__(self) -> str:
        return f"{self.order_ref} → {self.influencer_id}"


class OrderSignal(models.Model):
    """What fraud rules remember about an order they screened (coupon, customer, first click),
    so rules over many orders (coupon leaks, conversion rates) query tracking's own table."""

    BRAND_FIELD = "brand"

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+", verbose_name=_("brand"))
    influencer = models.ForeignKey(
        "affiliates.Influencer", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("influencer")
    )
    order_ref = models.CharField(_("order"), max_length=64)
    coupon = models.CharField(_("coupon"), max_length=80, blank=True, db_index=True)  # as Order.coupon
    customer_hash = models.CharField(_("customer hash"), max_length=64, blank=True)
    is_new_customer = models.BooleanField(_("new customer"), default=True)
    had_click = models.BooleanField(_("had a click"), default=False)
    placed_at = models.DateTimeField(_("placed at"), db_index=True)

    class Meta:
        verbose_name = _("order signal")
        verbose_name_plural = _("order signals")
        constraints = [models.UniqueConstraint(fields=["brand", "order_ref"], name="uniq_order_signal")]

    def __str__(self) -> str:
        return self.order_ref


class FraudFlag(TimeStampedModel):
    """A rule's finding about a click, an order or a commission, with its evidence. Open and
    rejected flags hold the commission (`tracking.fraud.fraud_hold_active`); a manager
    releases or rejects them from the review queue."""

    BRAND_FIELD = "brand"

    class Rule(models.TextChoices):
        CLICK_FLOOD = "click_flood", _("Click flood / bots")
        SELF_REFERRAL = "self_referral", _("Self-referral")
        COUPON_LEAK = "coupon_leak", _("Coupon leak")
        COUPON_SITE = "coupon_site", _("Coupon site referrer")
        FAST_CONVERSION = "fast_conversion", _("Click-to-order time too short")
        CONVERSION_OUTLIER = "cr_outlier", _("Conversion rate outlier")
        SHARED_PAYOUT = "shared_payout", _("Payout account shared with another influencer")
        REFERRAL_RING = "referral_ring", _("Referral ring or self-referral")

    class Subject(models.TextChoices):
        CLICK = "click", _("Clicks")
        ORDER = "order", _("Order")
        INFLUENCER = "influencer", _("Influencer")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RELEASED = "released", _("Released")
        REJECTED = "rejected", _("Rejected")

    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        Status.OPEN: {Status.RELEASED, Status.REJECTED},
        Status.RELEASED: set(),
        Status.REJECTED: set(),
    }

    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.PROTECT, related_name="fraud_flags", verbose_name=_("brand")
    )
    influencer = models.ForeignKey(
        "affiliates.Influencer", on_delete=models.PROTECT, related_name="fraud_flags", verbose_name=_("influencer")
    )
    rule = models.CharField(_("rule"), max_length=20, choices=Rule.choices, db_index=True)
    subject = models.CharField(_("subject"), max_length=12, choices=Subject.choices)
    subject_ref = models.CharField(
        _("subject reference"), max_length=100, help_text=_("Order id, or a period key for click and rate rules.")
    )
    severity = models.PositiveSmallIntegerField(_("severity"), default=50, validators=[MaxValueValidator(100)])
    evidence = models.JSONField(_("evidence"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolution_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("fraud flag")
        verbose_name_plural = _("fraud flags")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "rule", "subject", "subject_ref"], name="uniq_fraud_flag"),
            models.CheckConstraint(
                condition=models.Q(status="open") | models.Q(resolved_at__isnull=False), name="fraud_flag_resolved_at"
            ),
        ]
        indexes = [models.Index(fields=["subject_ref", "status"], name="fraud_flag_ref_status_idx")]

    def __str__(self) -> str:
        # The label from the enum, not `get_rule_display()`, which rebuilds a dict of every
        # choice on each call: every flag a batch records is audited with its text.
        try:
            rule: str = str(self.Rule(self.rule).label)
        except ValueError:  # a rule since retired: its code
            rule = self.rule
        return f"{rule} · {self.subject_ref}"


class InfluencerRisk(models.Model):
    """An influencer's risk score (0–100) with a brand, recomputed from fraud flags."""

    BRAND_FIELD = "brand"

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="+", verbose_name=_("brand"))
    influencer = models.ForeignKey(
        "affiliates.Influencer", on_delete=models.CASCADE, related_name="risk_scores", verbose_name=_("influencer")
    )
    score = models.PositiveSmallIntegerField(_("risk score"), default=0, validators=[MaxValueValidator(100)])
    open_flags = models.PositiveIntegerField(_("open flags"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("influencer risk")
        verbose_name_plural = _("influencer risk")
        ordering = ["-score"]
        constraints = [models.UniqueConstraint(fields=["brand", "influencer"], name="uniq_risk_per_brand")]

    def __str__(self) -> str:
        return f"{self.influencer}: {self.score}"
