"""Commission records: one per (order line, influencer), computed by the rule engine
(commissions.engine) and kept in step with the VTEX order by commissions.services.order_sync.

`amount_cents` is the gross commission on the line as sold; `reversed_cents` what returns,
removals and cancellations took back; `adjustment_cents` what managers added or removed by hand.
The ledger (payments) holds the money; `ledger_*` fields remember what this record already
posted there, so every sync posts only the difference, once.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest
from django.utils.translation import gettext_lazy as _

from core.history import BatchedHistoricalRecords, history_user
from core.models import TimeStampedModel

# The net commission of one record, floored at zero: what was earned, minus what was taken
# back, plus managers' adjustments. `Commission.net_cents` is the same rule in Python; sum this
# expression (`Sum(NET_CENTS)`) so every total floors each record, never a group.
NET_CENTS = Greatest(
    Value(0),
    F("amount_cents") - F("reversed_cents") + F("adjustment_cents"),
    output_field=models.BigIntegerField(),
)


# Fields whose index the commission's history does not copy (simple-history's `no_db_index`).
HISTORY_UNINDEXED = [
    "created_at",
    "state",
    "fraud_review",
    "brand",
    "order",
    "line",
    "influencer",
    "campaign",
    "variant",
    "code",
]


class LedgerStage(models.TextChoices):
    NONE = "none", _("Not posted")
    ESTIMATED = "estimated", _("Accrued as estimated")
    CONFIRMED = "confirmed", _("Confirmed")


class FraudReview(models.TextChoices):
    """Where a commission stands with tracking's fraud review (docs/commissions.md, "Fraud hold")."""

    CLEAR = "clear", _("No open fraud flag")
    HELD = "held", _("On hold: fraud review")
    RELEASED = "released", _("Released after review")
    REJECTED = "rejected", _("Rejected as fraud")


class Commission(TimeStampedModel):
    BRAND_FIELD = "brand"

    class State(models.TextChoices):
        ESTIMATED = "estimated", _("Estimated")
        CONFIRMED = "confirmed", _("Confirmed")
        PARTIALLY_REVERSED = "partially_reversed", _("Partially reversed")
        REVERSED = "reversed", _("Reversed")

    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.PROTECT, related_name="commissions", verbose_name=_("brand")
    )
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="commissions")
    line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="commissions")
    influencer = models.ForeignKey(
        "affiliates.Influencer", on_delete=models.PROTECT, related_name="commissions", verbose_name=_("influencer")
    )
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="commissions")
    variant = models.ForeignKey(
        "campaigns.CampaignVariant", on_delete=models.PROTECT, null=True, blank=True, related_name="commissions"
    )
    code = models.ForeignKey("codes.Code", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.ESTIMATED, db_index=True)
    quantity = models.PositiveIntegerField(_("units"))
    base_cents = models.BigIntegerField(_("base"))
    rate = models.DecimalField(_("effective rate"), max_digits=9, decimal_places=6, null=True, blank=True)
    amount_cents = models.BigIntegerField(_("gross commission"))
    units_reversed = models.PositiveIntegerField(_("units taken back"), default=0)
    reversed_cents = models.BigIntegerField(_("reversed"), default=0)
    adjustment_cents = models.BigIntegerField(_("manual adjustments"), default=0)
    rule_id = models.BigIntegerField(_("rule id"), null=True, blank=True)
    rule_name = models.CharField(_("rule"), max_length=160, blank=True)
    explanation = models.JSONField(_("explanation"), default=dict)
    estimated_at = models.DateTimeField(_("estimated at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)

    ledger_stage = models.CharField(
        _("ledger stage"), max_length=10, choices=LedgerStage.choices, default=LedgerStage.NONE
    )
    ledger_posted_cents = models.BigIntegerField(_("net posted to the ledger"), default=0)
    ledger_reversal_seq = models.PositiveIntegerField(_("ledger reversals"), default=0)

    # Fraud hold: while HELD the commission is posted at most as estimated (its confirmation
    # waits), REJECTED is final (reversed, never posted again); see docs/commissions.md.
    fraud_review = models.CharField(
        _("fraud review"), max_length=10, choices=FraudReview.choices, default=FraudReview.CLEAR, db_index=True
    )
    fraud_reviewed_at = models.DateTimeField(_("fraud review decided at"), null=True, blank=True)
    fraud_reason = models.CharField(_("fraud review reason"), max_length=500, blank=True)

    # Read by commission (`id`) and time only, as the order's history (orders.models).
    history = BatchedHistoricalRecords(
        excluded_fields=["explanation"], get_user=history_user, no_db_index=HISTORY_UNINDEXED
    )

    class Meta:
        verbose_name = _("commission")
        verbose_name_plural = _("commissions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["line", "influencer"], name="uniq_commission_per_line_influencer"),
            models.CheckConstraint(
                condition=Q(amount_cents__gte=0)
                & Q(reversed_cents__gte=0)
                & Q(reversed_cents__lte=models.F("amount_cents"))
                & Q(base_cents__gte=0)
                & Q(ledger_posted_cents__gte=0),
                name="commission_amounts_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["brand", "state"], name="commission_brand_state_idx"),
            models.Index(fields=["influencer", "state"], name="commission_influencer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ledger_ref} {self.state} {self.net_cents}"

    @property
    def ledger_ref(self) -> str:
        return f"commission:{self.pk}"

    @property
    def net_cents(self) -> int:
        """NET_CENTS (above) for this record."""
        return max(0, self.amount_cents - self.reversed_cents + self.adjustment_cents)

    @property
    def is_fraud_held(self) -> bool:
        return self.fraud_review == FraudReview.HELD


class CommissionAdjustment(models.Model):
    """A manager's correction of one commission, with the reason. Positive adjustments are
    posted to the ledger under their own reference; negative ones reverse the commission."""

    BRAND_FIELD = "commission__brand"

    commission = models.ForeignKey(Commission, on_delete=models.PROTECT, related_name="adjustments")
    amount_cents = models.BigIntegerField(_("amount"), help_text=_("Positive adds, negative takes back."))
    reason = models.CharField(_("reason"), max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    ledger_stage = models.CharField(max_length=10, choices=LedgerStage.choices, default=LedgerStage.NONE)
    ledger_posted_cents = models.BigIntegerField(_("posted to the ledger"), default=0)
    ledger_reversal_seq = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("commission adjustment")
        verbose_name_plural = _("commission adjustments")
        ordering = ["commission", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_cents=0), name="adjustment_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.amount_cents:+d} ({self.reason[:40]})"

    @property
    def ledger_ref(self) -> str:
        return f"commission:{self.commission_id}:adj:{self.pk}"


class ReferralCommission(TimeStampedModel):
    """What a referrer earns from one commission of an influencer they recruited (kind
    `percent`, level 1 or 2), or the one-off bonus of a referral (kind `bonus`). Its ledger
    position follows the source commission's exactly: estimated with it, confirmed with it,
    reversed or clawed back with it, posted once under `ledger_ref` (docs/referrals.md).
    Written only by commissions.referrals, under the source order's lock."""

    BRAND_FIELD = "brand"

    class Kind(models.TextChoices):
        PERCENT = "percent", _("Share of a commission")
        BONUS = "bonus", _("Bonus at the sales threshold")

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+", verbose_name=_("brand"))
    referral = models.ForeignKey(
        "affiliates.Referral", on_delete=models.PROTECT, related_name="rewards", verbose_name=_("referral")
    )
    beneficiary = models.ForeignKey(
        "affiliates.Influencer", on_delete=models.PROTECT, related_name="referral_rewards", verbose_name=_("earned by")
    )
    source = models.ForeignKey(
        Commission,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referral_rewards",
        verbose_name=_("source commission"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    level = models.PositiveSmallIntegerField(_("level"), default=1)
    rate = models.DecimalField(_("rate (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    amount_cents = models.BigIntegerField(_("amount"), default=0)
    ledger_stage = models.CharField(
        _("ledger stage"), max_length=10, choices=LedgerStage.choices, default=LedgerStage.NONE
    )
    ledger_posted_cents = models.BigIntegerField(_("posted to the ledger"), default=0)
    ledger_reversal_seq = models.PositiveIntegerField(_("ledger reversals"), default=0)

    class Meta:
        verbose_name = _("referral commission")
        verbose_name_plural = _("referral commissions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "level"], condition=Q(kind="percent"), name="uniq_referral_reward_per_source_level"
            ),
            models.UniqueConstraint(fields=["referral"], condition=Q(kind="bonus"), name="uniq_referral_bonus"),
            models.CheckConstraint(
                condition=Q(amount_cents__gte=0) & Q(ledger_posted_cents__gte=0) & Q(level__gte=1) & Q(level__lte=2),
                name="referral_reward_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind="bonus", source__isnull=True, level=1) | Q(kind="percent", source__isnull=False),
                name="referral_reward_kind_source",
            ),
        ]
        indexes = [models.Index(fields=["beneficiary", "brand"], name="referral_reward_benef_idx")]

    def __str__(self) -> str:
        return f"{self.ledger_ref} {self.ledger_posted_cents}"

    @property
    def ledger_ref(self) -> str:
        return f"referral:{self.pk}"
