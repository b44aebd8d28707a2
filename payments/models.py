"""Money owed to influencers, as a double-entry ledger (docs/ledger.md), and the withdrawals,
withholdings and payout batches built on it.

Balances are never stored numbers that code increments: an account's balance is the sum of its
entries. `CommissionPosition` is a per-commission sub-ledger (how much of one commission sits in
each stage) that the invariant tests check against the entries.
"""

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.crypto import EncryptedTextField
from core.history import history_user
from core.models import TimeStampedModel
from core.storage import private_storage


class AccountKind(models.TextChoices):
    """The stages money goes through. All but `commission_expense` exist once per influencer and
    brand; `commission_expense` once per brand (the counterpart of every accrual)."""

    ESTIMATED = "estimated", _("Estimated")
    HOLD = "hold", _("Confirmed, on hold")
    AVAILABLE = "available", _("Available")
    RESERVED = "reserved", _("Reserved for a withdrawal")
    PAID = "paid", _("Paid")
    WITHHOLDING = "withholding", _("Withholding payable")
    COMMISSION_EXPENSE = "commission_expense", _("Brand commission expense")


INFLUENCER_ACCOUNT_KINDS: tuple[str, ...] = (
    AccountKind.ESTIMATED,
    AccountKind.HOLD,
    AccountKind.AVAILABLE,
    AccountKind.RESERVED,
    AccountKind.PAID,
    AccountKind.WITHHOLDING,
)


class LedgerAccount(models.Model):
    """One bucket of money. Balance = credits − debits (see docs/ledger.md for the signs)."""

    BRAND_FIELD = "brand"

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+", verbose_name=_("brand"))
    influencer = models.ForeignKey(
        "affiliates.Influencer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("influencer"),
    )
    kind = models.CharField(_("kind"), max_length=24, choices=AccountKind.choices)
    currency = models.CharField(_("currency"), max_length=3)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        ordering = ["brand_id", "influencer_id", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "influencer", "kind"],
                condition=Q(influencer__isnull=False),
                name="uniq_ledger_account_influencer",
            ),
            models.UniqueConstraint(
                fields=["brand", "kind"], condition=Q(influencer__isnull=True), name="uniq_ledger_account_brand"
            ),
            models.CheckConstraint(
                condition=(Q(kind="commission_expense") & Q(influencer__isnull=True))
                | (~Q(kind="commission_expense") & Q(influencer__isnull=False)),
                name="ledger_account_owner_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        owner = f"influencer {self.influencer_id}" if self.influencer_id else "brand"
        return f"{self.get_kind_display()} · {owner} · {self.currency}"


class LedgerTransaction(models.Model):
    """A set of entries whose debits equal their credits. Posted once per (brand, kind,
    reference): the reference is what makes posting an external event idempotent."""

    BRAND_FIELD = "brand"

    class Kind(models.TextChoices):
        ACCRUE = "accrue", _("Commission accrued")
        CONFIRM = "confirm", _("Commission confirmed")
        RELEASE = "release", _("Released after hold")
        REVERSE = "reverse", _("Commission reversed")
        CLAWBACK = "clawback", _("Clawback")
        WITHDRAWAL_RESERVE = "withdrawal_reserve", _("Withdrawal reserved")
        WITHDRAWAL_RETURN = "withdrawal_return", _("Withdrawal returned")
        PAYOUT = "payout", _("Payout")

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+", verbose_name=_("brand"))
    influencer = models.ForeignKey(
        "affiliates.Influencer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("influencer"),
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    reference = models.CharField(_("reference"), max_length=200)
    commission_ref = models.CharField(_("commission reference"), max_length=200, blank=True, db_index=True)
    withdrawal = models.ForeignKey(
        "payments.Withdrawal", on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    batch = models.ForeignKey(
        "payments.PayoutBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    memo = models.CharField(_("memo"), max_length=255, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    posted_at = models.DateTimeField(_("posted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "kind", "reference"], name="uniq_ledger_txn_reference"),
        ]
        indexes = [models.Index(fields=["brand", "influencer", "occurred_at"], name="ledger_txn_owner_time")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.reference}"


class LedgerEntry(models.Model):
    """One leg of a transaction. Append-only: on PostgreSQL a trigger refuses UPDATE and
    DELETE, and a deferred constraint trigger refuses a transaction whose legs do not balance."""

    BRAND_FIELD = "account__brand"

    class Side(models.TextChoices):
        DEBIT = "D", _("Debit")
        CREDIT = "C", _("Credit")

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries", verbose_name=_("transaction")
    )
    account = models.ForeignKey(
        LedgerAccount, on_delete=models.PROTECT, related_name="entries", verbose_name=_("account")
    )
    side = models.CharField(_("side"), max_length=1, choices=Side.choices)
    amount_cents = models.BigIntegerField(_("amount"))

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="ledger_entry_amount_positive"),
            models.CheckConstraint(condition=Q(side__in=["D", "C"]), name="ledger_entry_side_valid"),
        ]
        indexes = [models.Index(fields=["account", "id"], name="ledger_entry_account")]

    def __str__(self) -> str:
        return f"{self.side} {self.amount_cents} → {self.account_id}"

    @property
    def signed_cents(self) -> int:
        return self.amount_cents if self.side == self.Side.CREDIT else -self.amount_cents


class CommissionPosition(models.Model):
    """Where one commission's money is now, by stage. Written only by the ledger services while
    holding the influencer's account locks; the sums per stage equal the account balances
    (checked by the invariant tests and `ledger_verify`)."""

    BRAND_FIELD = "brand"

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+", verbose_name=_("brand"))
    influencer = models.ForeignKey(
        "affiliates.Influencer", on_delete=models.PROTECT, related_name="+", verbose_name=_("influencer")
    )
    commission_ref = models.CharField(_("commission reference"), max_length=200)
    estimated_cents = models.BigIntegerField(_("estimated"), default=0)
    held_cents = models.BigIntegerField(_("on hold"), default=0)
    released_cents = models.BigIntegerField(_("released"), default=0)
    reversed_cents = models.BigIntegerField(_("reversed"), default=0)
    clawed_back_cents = models.BigIntegerField(_("clawed back"), default=0)
    accrued_at = models.DateTimeField(_("accrued at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    hold_until = models.DateTimeField(_("hold until"), null=True, blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    release_txn = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("commission position")
        verbose_name_plural = _("commission positions")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "commission_ref"], name="uniq_position_commission_ref"),
            models.CheckConstraint(
                condition=Q(estimated_cents__gte=0)
                & Q(held_cents__gte=0)
                & Q(released_cents__gte=0)
                & Q(reversed_cents__gte=0)
                & Q(clawed_back_cents__gte=0)
                & Q(clawed_back_cents__lte=models.F("released_cents")),
                name="position_amounts_non_negative",
            ),
        ]
        indexes = [
            # The cutoff looks positions up per chunk of influencers: influencer before date.
            models.Index(
                fields=["brand", "influencer", "hold_until"],
                condition=Q(held_cents__gt=0),
                name="position_held_by_influencer",
            )
        ]

    def __str__(self) -> str:
        return self.commission_ref


class BankFileFormat(models.TextChoices):
    GENERIC_CSV = "generic_csv", _("Generic CSV")
    CNAB240_PIX = "cnab240_pix", _("FEBRABAN CNAB 240 – PIX transfers (Brazil)")


class PayoutSettings(models.Model):
    """Per-brand payout options that finance manages (the minimum withdrawal and the default
    hold period live on the brand)."""

    BRAND_FIELD = "brand"

    brand = models.OneToOneField(
        "brands.Brand", on_delete=models.CASCADE, related_name="payout_settings", verbose_name=_("brand")
    )
    automatic_payouts = models.BooleanField(
        _("automatic payouts"),
        default=False,
        help_text=_(
            "At each cutoff, create a withdrawal for every influencer whose available balance reaches the minimum."
        ),
    )
    second_approval_threshold_cents = models.BigIntegerField(
        _("second approval above"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Withdrawals above this amount need two different finance approvals. Empty: one approval."),
    )
    payout_change_cooldown_hours = models.PositiveSmallIntegerField(
        _("cool-down after a payout data change (hours)"),
        default=48,
        validators=[MaxValueValidator(24 * 30)],
        help_text=_("New withdrawals wait this long after an influencer changes their payout data."),
    )
    payout_change_2fa_threshold_cents = models.BigIntegerField(
        _("two-factor required to change payout data above"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_(
            "Influencers whose balance with the brand is above this amount must use two-factor authentication "
            "to change their payout data. Empty: not required."
        ),
    )
    bank_file_format = models.CharField(
        _("bank file format"),
        max_length=20,
        choices=BankFileFormat.choices,
        default=BankFileFormat.GENERIC_CSV,
    )
    # The paying company's account, written in the header of bank layouts such as CNAB 240.
    payer_name = models.CharField(_("paying company name"), max_length=60, blank=True)
    payer_document = models.CharField(_("paying company tax id (CNPJ)"), max_length=20, blank=True)
    payer_bank_code = models.CharField(_("paying bank code"), max_length=3, blank=True)
    payer_agreement = models.CharField(_("agreement code with the bank (convênio)"), max_length=20, blank=True)
    payer_branch = models.CharField(_("paying branch (agência)"), max_length=5, blank=True)
    payer_branch_digit = models.CharField(_("branch check digit"), max_length=1, blank=True)
    payer_account = models.CharField(_("paying account number"), max_length=12, blank=True)
    payer_account_digit = models.CharField(_("account check digit"), max_length=1, blank=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("payout settings")
        verbose_name_plural = _("payout settings")

    def __str__(self) -> str:
        return str(self.brand)


class PayoutBatch(models.Model):
    """The payout run of one brand for one biweekly period (1–15, 16–end of month). Built by the
    cutoff, which records its progress here; finance exports the bank file per batch."""

    BRAND_FIELD = "brand"

    class Status(models.TextChoices):
        BUILDING = "building", _("Building")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed (will resume)")

    class Kind(models.TextChoices):
        CUTOFF = "cutoff", _("Biweekly cutoff")
        MANUAL = "manual", _("Paid now (manual)")

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+", verbose_name=_("brand"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.CUTOFF)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.BUILDING)
    stage = models.CharField(_("stage"), max_length=40, blank=True)
    progress_done = models.PositiveIntegerField(_("processed"), default=0)
    progress_total = models.PositiveIntegerField(_("to process"), default=0)
    released_cents = models.BigIntegerField(_("released"), default=0)
    released_count = models.PositiveIntegerField(_("commissions released"), default=0)
    runs = models.PositiveIntegerField(_("runs"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")
        ordering = ["-period_start", "brand_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "period_start"], condition=Q(kind="cutoff"), name="uniq_payout_batch_period"
            ),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="batch_period_order"),
        ]
        permissions = [("export_payoutbatch", _("Can export the bank file of a payout batch"))]

    def __str__(self) -> str:
        if self.kind == self.Kind.MANUAL:
            return f"{self.brand} #{self.pk} {self.period_start:%Y-%m-%d}"
        return f"{self.brand} {self.period_start:%Y-%m-%d}–{self.period_end:%d}"


class Withdrawal(TimeStampedModel):
    """An influencer's request to be paid. The amount is reserved in the ledger at once."""

    BRAND_FIELD = "brand"

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        PAID = "paid", _("Paid")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")

    ALLOWED_TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.REQUESTED: {Status.APPROVED, Status.REJECTED},
        # approved → requested: the payout data changed, so finance must approve again.
        Status.APPROVED: {Status.PAID, Status.FAILED, Status.REJECTED, Status.REQUESTED},
        Status.PAID: set(),
        Status.REJECTED: set(),
        Status.FAILED: set(),
    }
    OPEN_STATUSES: ClassVar[tuple[str, ...]] = (Status.REQUESTED, Status.APPROVED)

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+", verbose_name=_("brand"))
    influencer = models.ForeignKey(
        "affiliates.Influencer", on_delete=models.PROTECT, related_name="withdrawals", verbose_name=_("influencer")
    )
    amount_cents = models.BigIntegerField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED, db_index=True
    )
    automatic = models.BooleanField(_("automatic"), default=False)
    batch = models.ForeignKey(
        PayoutBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="withdrawals",
        verbose_name=_("batch"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), db_index=True)
    approvals_required = models.PositiveSmallIntegerField(_("approvals required"), default=1)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rejected by"),
    )
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("paid by"),
    )
    transfer_reference = models.CharField(_("transfer reference"), max_length=120, blank=True)
    proof = models.FileField(
        _("proof of transfer"), storage=private_storage, upload_to="payments/proofs/%Y/%m/", blank=True
    )
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    failure_reason = models.TextField(_("failure reason"), blank=True)
    withholding_cents = models.BigIntegerField(_("withholding"), default=0)
    payout_account_label = models.CharField(_("payout account"), max_length=160, blank=True)
    payout_account_version = models.ForeignKey(
        "payments.PayoutAccountVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved payout account"),
        help_text=_("The version of the payout data finance approved; the bank file and the payment use it."),
    )
    payout_changed_at = models.DateTimeField(_("payout data changed at"), null=True, blank=True)
    payout_change = models.JSONField(_("payout data change"), default=dict, blank=True)
    history = HistoricalRecords(excluded_fields=["proof"], get_user=history_user)

    class Meta:
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="withdrawal_amount_positive"),
            models.CheckConstraint(
                condition=Q(withholding_cents__gte=0) & Q(withholding_cents__lte=models.F("amount_cents")),
                name="withdrawal_withholding_within_amount",
            ),
            models.CheckConstraint(condition=Q(approvals_required__in=[1, 2]), name="withdrawal_approvals_1_or_2"),
            models.UniqueConstraint(
                fields=["batch", "influencer"], condition=Q(automatic=True), name="uniq_automatic_withdrawal_per_batch"
            ),
            # One open withdrawal per influencer and brand (the service says so first, kindly).
            models.UniqueConstraint(
                fields=["brand", "influencer"],
                condition=Q(status__in=["requested", "approved"]),
                name="uniq_open_withdrawal_per_influencer",
            ),
        ]
        permissions = [
            ("approve_withdrawal", _("Can approve or reject withdrawals")),
            ("pay_withdrawal", _("Can mark withdrawals paid or failed")),
        ]

    def __str__(self) -> str:
        return f"W-{self.pk}"

    @property
    def net_cents(self) -> int:
        return self.amount_cents - self.withholding_cents


class WithdrawalApproval(models.Model):
    """One finance approval. Two rows from two different people when above the threshold."""

    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.PROTECT, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("approver")
    )
    created_at = models.DateTimeField(_("approved at"), auto_now_add=True)
    payout_account_version = models.ForeignKey(
        "payments.PayoutAccountVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payout account approved"),
    )
    voided_at = models.DateTimeField(
        _("voided at"), null=True, blank=True, help_text=_("The payout data changed after this approval.")
    )

    class Meta:
        verbose_name = _("withdrawal approval")
        verbose_name_plural = _("withdrawal approvals")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["withdrawal", "approver"],
                condition=Q(voided_at__isnull=True),
                name="uniq_approval_per_approver",
            )
        ]

    def __str__(self) -> str:
        return f"{self.withdrawal} ✓ {self.approver}"


class WithholdingRule(TimeStampedModel):
    """A tax withheld from payouts to influencers of one country (and optionally one fiscal
    regime). Applied when a withdrawal is approved; posted when it is paid."""

    BRAND_FIELD = "brand"

    class Base(models.TextChoices):
        GROSS = "gross", _("Whole payout, once it reaches the threshold")
        EXCESS = "excess", _("Only the part of the payout above the threshold")

    brand = models.ForeignKey("brands.Brand", on_delete=models.PROTECT, related_name="+", verbose_name=_("brand"))
    name = models.CharField(_("name"), max_length=120)
    country = models.CharField(_("country"), max_length=2)
    fiscal_regime = models.CharField(
        _("fiscal regime"), max_length=40, blank=True, help_text=_("Empty: applies to every regime of the country.")
    )
    rate = models.DecimalField(
        _("rate (%)"),
        max_digits=7,
        decimal_places=4,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    base = models.CharField(_("base"), max_length=10, choices=Base.choices, default=Base.GROSS)
    threshold_cents = models.BigIntegerField(_("threshold"), default=0, validators=[MinValueValidator(0)])
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("withholding rule")
        verbose_name_plural = _("withholding rules")
        ordering = ["brand_id", "country", "name", "-effective_from"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lte=100), name="withholding_rate_0_100"),
            models.CheckConstraint(condition=Q(threshold_cents__gte=0), name="withholding_threshold_non_negative"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                name="withholding_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country} {self.rate}%)"


class WithdrawalWithholding(models.Model):
    """What one rule withheld from one withdrawal, frozen when the withdrawal was approved."""

    withdrawal = models.ForeignKey(Withdrawal, on_delete=models.PROTECT, related_name="withholdings")
    rule = models.ForeignKey(WithholdingRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    rate = models.DecimalField(_("rate (%)"), max_digits=7, decimal_places=4)
    base_cents = models.BigIntegerField(_("base"))
    amount_cents = models.BigIntegerField(_("amount"))

    class Meta:
        verbose_name = _("withholding applied")
        verbose_name_plural = _("withholdings applied")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(amount_cents__gte=0), name="withholding_amount_non_negative")]

    def __str__(self) -> str:
        return f"{self.name}: {self.amount_cents}"


class BankExport(models.Model):
    """A bank file finance downloaded for a batch: who, when, which withdrawals, its checksum.
    The file itself is regenerated on demand and never stored (it holds decrypted bank data)."""

    BRAND_FIELD = "batch__brand"

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="bank_exports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    rows = models.PositiveIntegerField(_("rows"))
    total_cents = models.BigIntegerField(_("total"))
    withdrawal_ids = models.JSONField(_("withdrawals"), default=list)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    file_format = models.CharField(_("format"), max_length=20, choices=BankFileFormat.choices, default="generic_csv")

    class Meta:
        verbose_name = _("bank export")
        verbose_name_plural = _("bank exports")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.batch} · {self.created_at:%Y-%m-%d %H:%M}"


class PayoutAccountVersion(models.Model):
    """One immutable version of an influencer's payout data, taken from affiliates'
    `PayoutAccount` whenever it changes. A withdrawal points at the version finance approved,
    and the bank file pays exactly that version. Identifying values stay encrypted (core.crypto);
    `fingerprint` is an HMAC of the whole content, so a changed version is detectable, and a
    trigger refuses UPDATE of anything but the ciphertexts (key rotation) and every DELETE."""

    influencer = models.ForeignKey(
        "affiliates.Influencer", on_delete=models.PROTECT, related_name="+", verbose_name=_("influencer")
    )
    number = models.PositiveIntegerField(_("version"))
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    holder_name = EncryptedTextField(_("account holder"))
    document_type = models.CharField(_("holder document type"), max_length=12, blank=True)
    document_number = EncryptedTextField(_("holder document number"), blank=True)
    bank_name = EncryptedTextField(_("bank"), blank=True)
    bank_code = models.CharField(_("bank code"), max_length=20, blank=True)
    account_type = models.CharField(_("account type"), max_length=10, blank=True)
    account_number = EncryptedTextField(_("account number"), blank=True)
    key_type = models.CharField(_("transfer key type"), max_length=12, blank=True)
    transfer_key = EncryptedTextField(_("transfer key"), blank=True)
    label = models.CharField(_("payout account"), max_length=160)
    masked = models.JSONField(_("masked data"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("payout account version")
        verbose_name_plural = _("payout account versions")
        ordering = ["influencer_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["influencer", "number"], name="uniq_payout_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.label} (v{self.number})"


class PaymentJob(models.Model):
    """Marking many withdrawals of a batch paid (or failed) at once, in the background, with its
    progress (the admin polls it). One transfer reference and one proof serve the whole batch."""

    BRAND_FIELD = "batch__brand"

    class Action(models.TextChoices):
        PAY = "pay", _("Mark paid")
        FAIL = "fail", _("Mark failed")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Stopped with errors")

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="payment_jobs")
    action = models.CharField(_("action"), max_length=10, choices=Action.choices, default=Action.PAY)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    withdrawal_ids = models.JSONField(_("withdrawals"), default=list)
    transfer_reference = models.CharField(_("transfer reference"), max_length=120, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    proof = models.FileField(
        _("proof of transfer"), storage=private_storage, upload_to="payments/proofs/%Y/%m/", blank=True
    )
    total = models.PositiveIntegerField(_("to process"), default=0)
    done = models.PositiveIntegerField(_("processed"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment job")
        verbose_name_plural = _("payment jobs")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.batch} · {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        return 100 * self.done // self.total if self.total else 100
