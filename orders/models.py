"""VTEX orders as we know them: the raw hook notifications (kept for replay), the order and its
lines reconciled from VTEX's Get order, the status history, return invoices, the attribution
decision, the hook registration per brand and the daily reconciliation runs.

Money is integer cents, as VTEX sends it; the currency is the order's (VTEX
`storePreferencesData.currencyCode`). Commissions are brand money: an order in another currency
is held (`Order.CurrencyStatus.HELD`, no commission) or converted at a rate the brand set and
the order records (`fx_rate`).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.history import BatchedHistoricalRecords, history_user
from core.models import TimeStampedModel
from core.money import round_minor

# Fields whose index the order's history does not copy (simple-history's `no_db_index`).
HISTORY_UNINDEXED = [
    "created_at",
    "order_group",
    "status",
    "created_in_vtex_at",
    "coupon",
    "brand",
    "influencer",
    "campaign",
    "code",
    "link",
]


class HookEvent(models.Model):
    """One notification VTEX posted to our hook, stored exactly once.

    The unique key is (brand, order id, state, change time): VTEX retries the same delivery with
    the same values, so a retry is recognised and dropped; a new status of the same order is a
    new event. `change_key` is VTEX's text for the change time (CurrentChange, or LastChange
    when CurrentChange is missing or the `0001-01-01` null), kept verbatim so no parsing quirk
    can make two deliveries of one event look different."""

    BRAND_FIELD = "brand"

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Failed")

    # Every lookup by brand (and order) is served by the unique key's leading columns; an index
    # of its own would only cost each notification's INSERT another index update.
    brand = models.ForeignKey(
        "brands.Brand",
        on_delete=models.PROTECT,
        related_name="hook_events",
        verbose_name=_("brand"),
        db_index=False,
    )
    vtex_order_id = models.CharField(_("VTEX order id"), max_length=64)
    state = models.CharField(_("state"), max_length=64)
    last_state = models.CharField(_("last state"), max_length=64, blank=True)
    domain = models.CharField(_("domain"), max_length=40, blank=True)
    change_key = models.CharField(_("change time (as sent)"), max_length=40)
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received at"), db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("VTEX notification")
        verbose_name_plural = _("VTEX notifications")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "vtex_order_id", "state", "change_key"], name="uniq_hook_event_per_change"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="hook_event_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.vtex_order_id} → {self.state}"


class Order(TimeStampedModel):
    """A VTEX order of one brand, as VTEX reported it the last time we fetched it."""

    BRAND_FIELD = "brand"

    class AttributionSource(models.TextChoices):
        NONE = "none", _("Unattributed")
        COUPON = "coupon", _("Coupon")
        CLICK = "click", _("Tracked click")
        UTM = "utm", _("UTM parameters")
        OTHER = "other", _("Other")
        MANUAL = "manual", _("Manual decision")

    class CurrencyStatus(models.TextChoices):
        BRAND = "brand", _("Brand currency")
        CONVERTED = "converted", _("Converted at a recorded rate")
        HELD = "held", _("Held: not in the brand's currency")

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="orders", verbose_name=_("brand"))
    vtex_order_id = models.CharField(_("VTEX order id"), max_length=64)
    order_group = models.CharField(_("order group"), max_length=64, blank=True, db_index=True)
    sequence = models.CharField(_("sequence"), max_length=32, blank=True)
    status = models.CharField(_("VTEX status"), max_length=64, blank=True, db_index=True)
    value_cents = models.BigIntegerField(_("order value"), default=0)
    items_cents = models.BigIntegerField(_("items total"), default=0)
    discounts_cents = models.BigIntegerField(_("discounts"), default=0)
    shipping_cents = models.BigIntegerField(_("shipping"), default=0)
    tax_cents = models.BigIntegerField(_("tax"), default=0)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    currency_status = models.CharField(
        _("currency check"),
        max_length=10,
        choices=CurrencyStatus.choices,
        default=CurrencyStatus.BRAND,
        help_text=_("An order in another currency pays no commission until the brand sets a rate for it."),
    )
    fx_rate = models.DecimalField(
        _("conversion rate"),
        max_digits=20,
        decimal_places=8,
        null=True,
        blank=True,
        help_text=_("Brand currency per unit of the order currency, recorded when the order was converted."),
    )
    created_in_vtex_at = models.DateTimeField(_("created in VTEX at"), null=True, blank=True, db_index=True)
    vtex_last_change = models.DateTimeField(_("last change in VTEX"), null=True, blank=True)
    authorized_at = models.DateTimeField(_("payment approved at"), null=True, blank=True)
    invoiced_at = models.DateTimeField(_("invoiced at"), null=True, blank=True)
    canceled_at = models.DateTimeField(_("canceled at"), null=True, blank=True)
    coupon = models.CharField(_("coupon typed"), max_length=80, blank=True, db_index=True)
    promotion_id = models.CharField(_("coupon promotion id"), max_length=64, blank=True)
    utm_source = models.CharField(_("utm_source"), max_length=200, blank=True)
    utm_medium = models.CharField(_("utm_medium"), max_length=200, blank=True)
    utm_campaign = models.CharField(_("utm_campaign"), max_length=200, blank=True)

    # The attribution decision (orders.attribution), recorded so admin and influencer see it.
    attribution_source = models.CharField(
        _("attributed by"), max_length=10, choices=AttributionSource.choices, default=AttributionSource.NONE
    )
    attribution_rule = models.CharField(_("attribution rule"), max_length=120, blank=True)
    attribution_touchpoints = models.JSONField(_("touchpoints"), default=list, blank=True)
    attributed_at = models.DateTimeField(_("attributed at"), null=True, blank=True)
    influencer = models.ForeignKey(
        "affiliates.Influencer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("influencer"),
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    code = models.ForeignKey("codes.Code", on_delete=models.SET_NULL, null=True, blank=True, related_name="orders")
    # The tracked link whose click won the attribution (a link touchpoint's `detail.link`), so
    # each link's orders and revenue can be rolled up (reports.LinkRollup).
    link = models.ForeignKey(
        "tracking.Link",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("tracked link"),
    )

    snapshot = models.JSONField(_("VTEX order (last fetch)"), default=dict, blank=True)
    snapshot_hash = models.CharField(_("snapshot hash"), max_length=64, blank=True)
    fetched_at = models.DateTimeField(_("fetched at"), null=True, blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    sync_count = models.PositiveIntegerField(_("times processed"), default=0)

    # Who changed what and when; the VTEX document itself stays out (it is large and re-fetchable).
    # History is read by order (`id`) and time only: the order's other indexes would cost every
    # new or changed order two rows' worth of index updates for queries nobody makes there.
    history = BatchedHistoricalRecords(
        excluded_fields=["snapshot", "attribution_touchpoints"],
        get_user=history_user,
        no_db_index=HISTORY_UNINDEXED,
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_in_vtex_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "vtex_order_id"], name="uniq_order_per_brand"),
            models.CheckConstraint(
                condition=models.Q(attribution_source="none") | models.Q(influencer__isnull=False),
                name="order_attributed_has_influencer",
            ),
        ]
        indexes = [
            models.Index(
                fields=["brand", "currency_status"],
                name="order_currency_held_idx",
                condition=models.Q(currency_status="held"),
            ),
            models.Index(fields=["brand", "created_in_vtex_at"], name="order_brand_created_idx"),
            models.Index(fields=["influencer", "created_in_vtex_at"], name="order_influencer_created_idx"),
        ]

    def __str__(self) -> str:
        return self.vtex_order_id

    @property
    def is_attributed(self) -> bool:
        return self.attribution_source != self.AttributionSource.NONE

    @property
    def currency_held(self) -> bool:
        return self.currency_status == self.CurrencyStatus.HELD

    def brand_cents(self, amount_cents: int) -> int:
        """An amount of this order (its currency's cents) in the brand's cents: as is, or at the
        recorded rate (VTEX sends every currency in hundredths, so cents map to cents). Never
        call it for a held order: it has no rate, its amounts are not brand money."""
        if self.currency_status != self.CurrencyStatus.CONVERTED:
            return amount_cents
        assert self.fx_rate is not None
        return round_minor(Decimal(amount_cents) * self.fx_rate)


class OrderLine(models.Model):
    """One line of `items[]`, keyed by its position (VTEX's `itemIndex`, which packages use)."""

    BRAND_FIELD = "order__brand"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    item_index = models.PositiveSmallIntegerField(_("item index"))
    sku_id = models.CharField(_("SKU id"), max_length=40)
    product_id = models.CharField(_("product id"), max_length=40, blank=True)
    ref_id = models.CharField(_("reference"), max_length=80, blank=True)
    name = models.CharField(_("name"), max_length=300, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price_cents = models.BigIntegerField(_("unit price"), default=0)
    selling_price_cents = models.BigIntegerField(_("unit selling price"), default=0)
    total_cents = models.BigIntegerField(_("line total"), help_text=_("After item discounts; the base."))
    coupon_discount_cents = models.BigIntegerField(_("coupon discount"), default=0)
    is_gift = models.BooleanField(_("gift"), default=False)
    returned_quantity = models.PositiveIntegerField(_("returned units"), default=0)
    removed_quantity = models.PositiveIntegerField(_("removed units"), default=0)
    vtex_brand_id = models.CharField(_("VTEX brand id"), max_length=40, blank=True)
    category_ids = models.JSONField(_("category ids"), default=list, blank=True)
    collection_ids = models.JSONField(_("collection ids"), default=list, blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "item_index"]
        constraints = [
            models.UniqueConstraint(fields=["order", "item_index"], name="uniq_line_per_index"),
            models.CheckConstraint(
                condition=models.Q(returned_quantity__gte=0, removed_quantity__gte=0), name="line_taken_back_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.item_index} {self.sku_id}×{self.quantity}"

    @property
    def units_taken_back(self) -> int:
        return min(self.quantity, self.returned_quantity + self.removed_quantity)


class OrderStatusChange(models.Model):
    """A status we saw the order move to (from what the fetched order said, not the hook)."""

    BRAND_FIELD = "order__brand"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=64, blank=True)
    to_status = models.CharField(_("to"), max_length=64)
    vtex_changed_at = models.DateTimeField(_("changed in VTEX at"), null=True, blank=True)
    observed_at = models.DateTimeField(_("observed at"))
    source = models.CharField(_("source"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("order status change")
        verbose_name_plural = _("order status changes")
        ordering = ["order", "observed_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class ReturnInvoice(models.Model):
    """An Input (return) invoice of the order, one per invoice number."""

    BRAND_FIELD = "order__brand"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="return_invoices")
    invoice_number = models.CharField(_("invoice number"), max_length=120)
    value_cents = models.BigIntegerField(_("value"), default=0)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    items = models.JSONField(_("items"), default=list)

    class Meta:
        verbose_name = _("return invoice")
        verbose_name_plural = _("return invoices")
        constraints = [
            models.UniqueConstraint(fields=["order", "invoice_number"], name="uniq_return_invoice_per_order")
        ]

    def __str__(self) -> str:
        return self.invoice_number


class HookRegistration(TimeStampedModel):
    """Where we pointed the brand's VTEX order hook, and what the daily check found."""

    BRAND_FIELD = "brand"

    brand = models.OneToOneField("brands.Brand", on_delete=models.CASCADE, related_name="hook_registration")
    url = models.URLField(_("hook URL"), max_length=400)
    statuses = models.JSONField(_("statuses"), default=list)
    configured_at = models.DateTimeField(_("configured at"), null=True, blank=True)
    last_checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    last_check_result = models.CharField(_("last check"), max_length=20, blank=True)
    restored_count = models.PositiveIntegerField(_("times restored"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("VTEX hook registration")
        verbose_name_plural = _("VTEX hook registrations")

    def __str__(self) -> str:
        return f"{self.brand} → {self.url}"


class ReconciliationRun(models.Model):
    """One daily reconciliation of a brand against VTEX's List orders."""

    BRAND_FIELD = "brand"

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("Manual")

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="reconciliation_runs")
    day = models.DateField(_("day (brand time zone)"))
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    progress_done = models.PositiveIntegerField(_("orders checked"), default=0)
    progress_total = models.PositiveIntegerField(_("orders to check"), default=0)
    listed = models.PositiveIntegerField(_("listed by VTEX"), default=0)
    fetched = models.PositiveIntegerField(_("fetched"), default=0)
    missing = models.PositiveIntegerField(_("missed orders processed"), default=0)
    mismatched = models.PositiveIntegerField(_("mismatches"), default=0)
    orphaned = models.PositiveIntegerField(_("unknown to VTEX"), default=0)
    unresolved = models.PositiveIntegerField(_("unresolved"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                # A failed scheduled run leaves the index, so the scheduler can run the day again.
                fields=["brand", "day"],
                condition=models.Q(trigger="schedule") & ~models.Q(status="failed"),
                name="uniq_scheduled_reconciliation_per_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.brand} {self.day}"


class Discrepancy(models.Model):
    """Something a reconciliation run found different between VTEX and us."""

    BRAND_FIELD = "run__brand"

    class Kind(models.TextChoices):
        MISSING = "missing", _("Missed by us")
        STATUS = "status", _("Status differs")
        VALUE = "value", _("Value differs")
        RETURN = "return", _("Return missed")
        ORPHAN = "orphan", _("Unknown to VTEX")
        FETCH_FAILED = "fetch_failed", _("Could not fetch")

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="discrepancies")
    vtex_order_id = models.CharField(_("VTEX order id"), max_length=64)
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)
    ours = models.JSONField(_("ours"), default=dict, blank=True)
    theirs = models.JSONField(_("VTEX"), default=dict, blank=True)
    resolved = models.BooleanField(_("resolved"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    # Set when a person marks it handled (orders.services.discrepancies); a re-sync that fixes
    # it leaves them empty and says so in the note.
    resolved_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )

    class Meta:
        verbose_name = _("discrepancy")
        verbose_name_plural = _("discrepancies")
        ordering = ["run", "resolved", "vtex_order_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "vtex_order_id", "kind"], name="uniq_discrepancy_per_run"),
        ]

    def __str__(self) -> str:
        return f"{self.vtex_order_id}: {self.kind}"
