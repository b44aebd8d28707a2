"""Withdrawals: request (reserve at once), finance approval with four eyes, rejection, payment
with proof, failure; and the per-batch bank file, the only place bank data is decrypted."""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from brands.scoping import brand_ids_for_user
from core import events
from core.errors import ApplicationError, Conflict, PermissionRefused
from core.money import format_minor, parse_major, round_minor
from payments import payout_accounts
from payments.bank_files import BankFileContext, BankFileRow, bank_file_writer
from payments.locks import payment_job_lock, withdrawal_lock, withdrawals_lock
from payments.models import (
    AccountKind,
    BankExport,
    LedgerTransaction,
    PaymentJob,
    PayoutBatch,
    PayoutSettings,
    Withdrawal,
    WithdrawalApproval,
    WithdrawalWithholding,
    WithholdingRule,
)
from payments.services.ledger import C, D, Posting, account_balance, accounts_lock, post
from payments.services.payout_versions import (
    payout_account_version_current,
    payout_change_cooldown_until,
    version_account,
)
from payments.tasks import payment_job_run_task

Status = Withdrawal.Status
Kind = LedgerTransaction.Kind
PROOF_EXTENSIONS = (".pdf", ".png", ".jpg", ".jpeg")
PROOF_MAX_BYTES = 10 * 1024 * 1024


def payout_settings_for(*, brand: Any) -> PayoutSettings:
    settings_row, _created = PayoutSettings.objects.get_or_create(brand=brand)
    return settings_row


@dataclass(frozen=True)
class WithdrawalTerms:
    approvals_required: int
    payout_account_label: str


def withdrawal_terms(*, brand: Any, options: PayoutSettings, cents: int, payout_label: str | None) -> WithdrawalTerms:
    """The rules every withdrawal meets, whether the influencer asks for it or the cutoff
    creates it: payout data on file (`payout_label`, from `payout_accounts_on_file`) and at
    least the brand's minimum; above the brand's threshold it needs two approvals. Raises
    ApplicationError (`payout_data_required`, `below_minimum`)."""
    if payout_label is None:
        raise ApplicationError(
            _("Add your bank or payout details to your profile before asking for a withdrawal."),
            code="payout_data_required",
        )
    if cents < max(brand.min_withdrawal_cents, 1):
        raise ApplicationError(
            _("The minimum withdrawal for %(brand)s is %(minimum)s.")
            % {"brand": brand.name, "minimum": format_minor(brand.min_withdrawal_cents, brand.currency)},
            code="below_minimum",
        )
    threshold = options.second_approval_threshold_cents
    return WithdrawalTerms(
        approvals_required=2 if threshold is not None and cents > threshold else 1,
        payout_account_label=payout_label[:160],
    )


# --- Amounts --------------------------------------------------------------------------------


def withdrawal_amount_parse(*, value: Any, brand: Any, currency: str | None = None) -> int:
    """What a person typed (major units, "1500.50") → cents, or a message they can act on."""
    if currency and currency.strip().upper() != brand.currency:
        raise ApplicationError(
            _("Withdrawals from %(brand)s are in %(currency)s; you asked for %(other)s.")
            % {"brand": brand.name, "currency": brand.currency, "other": currency},
            code="currency_mismatch",
        )
    if value is None or isinstance(value, bool) or (isinstance(value, str) and not value.strip()):
        raise ApplicationError(_("Enter an amount, or choose to withdraw everything available."), code="required")
    if isinstance(value, float):
        value = repr(value)
    if not isinstance(value, str | int | Decimal):
        raise ApplicationError(_("Enter an amount as a number, for example 1500.00."), code="not_a_number")
    cents = parse_major(value, currency=brand.currency)
    if cents <= 0:
        raise ApplicationError(_("The amount must be greater than zero."), code="not_positive")
    return cents


# --- Request --------------------------------------------------------------------------------


def _refuse_second_open(*, brand: Any, influencer_id: int) -> None:
    open_one = (
        Withdrawal.objects.filter(brand=brand, influencer_id=influencer_id, status__in=Withdrawal.OPEN_STATUSES)
        .order_by("pk")
        .first()
    )
    if open_one is not None:
        raise ApplicationError(
            _(
                "You already have a withdrawal in progress with %(brand)s (%(w)s, %(amount)s, %(status)s). "
                "You can ask for a new one once it is paid or rejected."
            )
            % {
                "brand": brand.name,
                "w": open_one,
                "amount": format_minor(open_one.amount_cents, open_one.currency),
                "status": open_one.get_status_display(),
            },
            code="withdrawal_open",
        )


def _publish(event: str, withdrawal: Withdrawal) -> None:
    """Tell subscribers (outgoing webhooks, the influencer's notifications and email) inside the
    transaction of the change."""
    events.publish(
        event,
        brand_id=withdrawal.brand_id,
        data={
            "id": withdrawal.pk,
            "influencer_id": withdrawal.influencer_id,
            "currency": withdrawal.currency,
            "amount_cents": withdrawal.amount_cents,
            "withholding_cents": withdrawal.withholding_cents,
            "status": withdrawal.status,
            "transfer_reference": withdrawal.transfer_reference,
            "failure_reason": withdrawal.failure_reason,
        },
    )


def withdrawals_announce(*, withdrawal_ids: list[int]) -> int:
    """Publish `withdrawal.requested` for withdrawals created in bulk (a cutoff's automatic
    ones), one transaction each, so one bad row does not silence the others."""
    count = 0
    for withdrawal in Withdrawal.objects.filter(pk__in=withdrawal_ids).order_by("pk"):
        with transaction.atomic():
            _publish("withdrawal.requested", withdrawal)
        count += 1
    return count


def withdrawal_request_create(
    *,
    influencer: Any,
    brand: Any,
    amount: Any = None,
    currency: str | None = None,
    all_available: bool = False,
    requested_by: Any,
) -> Withdrawal:
    """Ask to be paid `amount` (major units as typed) or everything available. Reserves the
    amount at once (Dr available, Cr reserved) under the influencer's account locks, so
    concurrent requests can never overdraw the balance."""
    cents = None if all_available else withdrawal_amount_parse(value=amount, brand=brand, currency=currency)
    if all_available and currency and currency.strip().upper() != brand.currency:
        withdrawal_amount_parse(value="1", brand=brand, currency=currency)
    if not payout_accounts.kyc_approved_for(influencer=influencer, brand=brand):
        raise ApplicationError(
            _("Your identity verification with %(brand)s is not approved yet; withdrawals open once it is.")
            % {"brand": brand.name},
            code="kyc_required",
        )
    label = payout_accounts.payout_accounts_on_file(influencer_ids=[influencer.pk], brand_id=brand.pk).get(
        influencer.pk
    )
    options = payout_settings_for(brand=brand)
    until = payout_change_cooldown_until(influencer_id=influencer.pk, options=options)
    if until is not None:
        raise ApplicationError(
            _("Your payout data changed recently. For your safety, new withdrawals from %(brand)s open on %(when)s.")
            % {"brand": brand.name, "when": timezone.localtime(until, brand.tz).strftime("%Y-%m-%d %H:%M")},
            code="payout_change_cooldown",
        )
    with transaction.atomic():
        accounts = accounts_lock(brand=brand, influencer_ids=[influencer.pk])
        # Checked under the account locks, so two requests at once cannot both pass; the partial
        # unique index `uniq_open_withdrawal_per_influencer` stands behind it.
        _refuse_second_open(brand=brand, influencer_id=influencer.pk)
        available = account_balance(accounts[(influencer.pk, AccountKind.AVAILABLE)])
        if available < 0:
            raise ApplicationError(
                _(
                    "Your available balance is %(balance)s because a returned order was taken back after a payout. "
                    "Withdrawals resume once new commissions bring it above zero."
                )
                % {"balance": format_minor(available, brand.currency)},
                code="balance_negative",
            )
        if available == 0:
            raise ApplicationError(_("You have no available balance to withdraw yet."), code="nothing_available")
        if cents is None:
            cents = available
        if cents > available:
            raise ApplicationError(
                _("You asked for %(amount)s but only %(available)s is available.")
                % {"amount": format_minor(cents, brand.currency), "available": format_minor(available, brand.currency)},
                code="above_available",
            )
        terms = withdrawal_terms(brand=brand, options=options, cents=cents, payout_label=label)
        try:
            with transaction.atomic():
                withdrawal = Withdrawal.objects.create(
                    brand=brand,
                    influencer=influencer,
                    amount_cents=cents,
                    currency=brand.currency,
                    requested_by=requested_by if getattr(requested_by, "pk", None) else None,
                    requested_at=timezone.now(),
                    approvals_required=terms.approvals_required,
                    payout_account_label=terms.payout_account_label,
                )
        except IntegrityError as exc:
            # An automatic withdrawal of the cutoff got there first.
            _refuse_second_open(brand=brand, influencer_id=influencer.pk)
            raise exc
        post(
            brand=brand,
            posting=Posting(
                kind=Kind.WITHDRAWAL_RESERVE,
                reference=f"W-{withdrawal.pk}",
                influencer_id=influencer.pk,
                withdrawal_id=withdrawal.pk,
                occurred_at=withdrawal.requested_at,
                lines=[
                    (accounts[(influencer.pk, AccountKind.AVAILABLE)], D, cents),
                    (accounts[(influencer.pk, AccountKind.RESERVED)], C, cents),
                ],
            ),
        )
        _publish("withdrawal.requested", withdrawal)
        audit_record(
            action="withdrawal.requested",
            target=withdrawal,
            actor=requested_by,
            brand_id=brand.pk,
            after={
                "amount_cents": cents,
                "available_before": available,
                "approvals_required": withdrawal.approvals_required,
            },
        )
    return withdrawal


# --- Finance decisions ----------------------------------------------------------------------


def _check_finance(user: Any, withdrawal: Withdrawal, permission: str) -> None:
    if not (user and user.is_authenticated and user.is_active and user.has_perm(permission)):
        raise PermissionRefused(_("Only finance staff may do this."))
    allowed = brand_ids_for_user(user)
    if allowed is not None and withdrawal.brand_id not in allowed:
        raise PermissionRefused(_("Only finance staff may do this."))
    if user.pk in (withdrawal.requested_by_id, withdrawal.influencer.user_id):
        raise PermissionRefused(
            _("Four eyes: you requested this withdrawal (or it is yours), so someone else must decide on it.")
        )


def _lock(withdrawal: Withdrawal) -> Withdrawal:
    return withdrawal_lock(pk=withdrawal.pk)


def _refuse_move(withdrawal: Withdrawal, target: str) -> None:
    if target not in Withdrawal.ALLOWED_TRANSITIONS[withdrawal.status]:
        raise Conflict(
            _("Withdrawal %(w)s is %(status)s; it cannot become %(target)s.")
            % {"w": withdrawal, "status": withdrawal.get_status_display(), "target": Status(target).label}
        )


def withholdings_compute(*, withdrawal: Withdrawal, on: date) -> list[WithdrawalWithholding]:
    """The withholdings the brand's rules take from this payout (unsaved). One place does the
    arithmetic and rounding (banker's rounding, per rule); the total never exceeds the amount."""
    influencer = withdrawal.influencer
    regime = influencer.fiscal_regime
    rules = (
        WithholdingRule.objects.filter(brand_id=withdrawal.brand_id, country=influencer.country, effective_from__lte=on)
        .filter(fiscal_regime__in=["", regime])
        .exclude(effective_to__lt=on)
        .order_by("pk")
    )
    rows: list[WithdrawalWithholding] = []
    remaining = withdrawal.amount_cents
    for rule in rules:
        amount = withdrawal.amount_cents
        if rule.base == WithholdingRule.Base.GROSS:
            base = amount if amount >= rule.threshold_cents else 0
        else:
            base = max(amount - rule.threshold_cents, 0)
        withheld = min(round_minor(Decimal(base) * rule.rate / Decimal(100)), remaining)
        if base <= 0 or withheld <= 0:
            continue
        remaining -= withheld
        rows.append(
            WithdrawalWithholding(
                withdrawal=withdrawal, rule=rule, name=rule.name, rate=rule.rate, base_cents=base, amount_cents=withheld
            )
        )
    return rows


def withdrawal_approve(*, withdrawal: Withdrawal, approver: Any) -> Withdrawal:
    """Record `approver`'s approval. The withdrawal becomes approved with the required number of
    approvals from different people (two above the brand's threshold); its withholdings are
    computed then, so the bank file carries the net amount. Repeating is harmless."""
    _check_finance(approver, withdrawal, "payments.approve_withdrawal")
    with transaction.atomic():
        withdrawal = _lock(withdrawal)
        active = withdrawal.approvals.filter(voided_at__isnull=True)
        already = active.filter(approver=approver).exists()
        if withdrawal.status == Status.APPROVED or (already and withdrawal.status == Status.REQUESTED):
            return withdrawal
        _refuse_move(withdrawal, Status.APPROVED)
        # The payout data the approver sees now, frozen: it is what the bank file will pay.
        version = payout_account_version_current(influencer_id=withdrawal.influencer_id)
        if version is None:
            raise ApplicationError(
                _("%(w)s has no usable payout data on file; ask the influencer for it or reject the withdrawal.")
                % {"w": withdrawal},
                code="payout_data_missing",
            )
        # Approvals given for another version of the payout data do not count.
        stale = active.exclude(payout_account_version=version).update(voided_at=timezone.now())
        WithdrawalApproval.objects.create(withdrawal=withdrawal, approver=approver, payout_account_version=version)
        count = withdrawal.approvals.filter(voided_at__isnull=True).count()
        if count < withdrawal.approvals_required:
            audit_record(
                action="withdrawal.approval_recorded",
                target=withdrawal,
                actor=approver,
                brand_id=withdrawal.brand_id,
                after={
                    "approvals": count,
                    "required": withdrawal.approvals_required,
                    "payout_account_version": version.number,
                    "stale_approvals_voided": stale,
                },
            )
            return withdrawal
        now = timezone.now()
        rows = withholdings_compute(withdrawal=withdrawal, on=timezone.localtime(now, withdrawal.brand.tz).date())
        WithdrawalWithholding.objects.bulk_create(rows)
        withdrawal.withholding_cents = sum(r.amount_cents for r in rows)
        withdrawal.status = Status.APPROVED
        withdrawal.approved_at = now
        withdrawal.payout_account_version = version
        withdrawal.payout_account_label = version.label
        withdrawal.save(
            update_fields=[
                "status",
                "approved_at",
                "withholding_cents",
                "payout_account_version",
                "payout_account_label",
                "updated_at",
            ]
        )
        _publish("withdrawal.approved", withdrawal)
        audit_record(
            action="withdrawal.approved",
            target=withdrawal,
            actor=approver,
            brand_id=withdrawal.brand_id,
            before={"status": Status.REQUESTED},
            after={
                "status": Status.APPROVED,
                "approvals": count,
                "withholding_cents": withdrawal.withholding_cents,
                "payout_account_version": version.number,
                "payout_account": version.label,
            },
        )
    return withdrawal


def _return_funds(withdrawal: Withdrawal, *, occurred_at: datetime) -> None:
    accounts = accounts_lock(brand=withdrawal.brand, influencer_ids=[withdrawal.influencer_id])
    post(
        brand=withdrawal.brand,
        posting=Posting(
            kind=Kind.WITHDRAWAL_RETURN,
            reference=f"W-{withdrawal.pk}",
            influencer_id=withdrawal.influencer_id,
            withdrawal_id=withdrawal.pk,
            occurred_at=occurred_at,
            lines=[
                (accounts[(withdrawal.influencer_id, AccountKind.RESERVED)], D, withdrawal.amount_cents),
                (accounts[(withdrawal.influencer_id, AccountKind.AVAILABLE)], C, withdrawal.amount_cents),
            ],
        ),
    )


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Give a reason; the influencer receives it by email."), code="reason_required")
    return reason[:2000]


def withdrawal_reject(*, withdrawal: Withdrawal, actor: Any, reason: str) -> Withdrawal:
    """Refuse a requested or approved (not yet paid) withdrawal; its money goes back to
    available."""
    reason = _reason(reason)
    _check_finance(actor, withdrawal, "payments.approve_withdrawal")
    with transaction.atomic():
        withdrawal = _lock(withdrawal)
        if withdrawal.status == Status.REJECTED:
            return withdrawal
        _refuse_move(withdrawal, Status.REJECTED)
        before = withdrawal.status
        now = timezone.now()
        _return_funds(withdrawal, occurred_at=now)
        withdrawal.status = Status.REJECTED
        withdrawal.rejected_at = now
        withdrawal.rejected_by = actor
        withdrawal.rejection_reason = reason
        withdrawal.save(update_fields=["status", "rejected_at", "rejected_by", "rejection_reason", "updated_at"])
        audit_record(
            action="withdrawal.rejected",
            target=withdrawal,
            actor=actor,
            brand_id=withdrawal.brand_id,
            before={"status": before},
            after={"status": Status.REJECTED, "reason": reason},
        )
        _publish("withdrawal.rejected", withdrawal)
    return withdrawal


def withdrawal_mark_failed(*, withdrawal: Withdrawal, actor: Any, reason: str) -> Withdrawal:
    """The bank refused an approved transfer; the money goes back to available."""
    reason = _reason(reason)
    _check_finance(actor, withdrawal, "payments.pay_withdrawal")
    with transaction.atomic():
        withdrawal = _lock(withdrawal)
        if withdrawal.status == Status.FAILED:
            return withdrawal
        _refuse_move(withdrawal, Status.FAILED)
        now = timezone.now()
        _return_funds(withdrawal, occurred_at=now)
        withdrawal.status = Status.FAILED
        withdrawal.failed_at = now
        withdrawal.failure_reason = reason
        withdrawal.save(update_fields=["status", "failed_at", "failure_reason", "updated_at"])
        _publish("withdrawal.failed", withdrawal)
        audit_record(
            action="withdrawal.failed",
            target=withdrawal,
            actor=actor,
            brand_id=withdrawal.brand_id,
            before={"status": Status.APPROVED},
            after={"status": Status.FAILED, "reason": reason},
        )
    return withdrawal


def _check_proof(proof: UploadedFile | None) -> UploadedFile:
    if proof is None:
        raise ApplicationError(_("Attach the proof of transfer (PDF or image)."), code="proof_required")
    name = (proof.name or "").lower()
    if not name.endswith(PROOF_EXTENSIONS):
        raise ApplicationError(_("The proof must be a PDF, PNG or JPEG file."), code="proof_type")
    if proof.size is not None and proof.size > PROOF_MAX_BYTES:
        raise ApplicationError(_("The proof file is larger than 10 MB."), code="proof_too_large")
    return proof


def withdrawal_mark_paid(
    *,
    withdrawal: Withdrawal,
    actor: Any,
    transfer_reference: str,
    proof: UploadedFile | None = None,
    stored_proof: str = "",
) -> Withdrawal:
    """Record the transfer of an approved withdrawal: Dr reserved (amount), Cr paid (net), Cr
    withholding payable (withheld). Paid is final: the row can no longer change. The proof is
    an upload, or (`stored_proof`) a private file already stored for a whole batch."""
    reference = (transfer_reference or "").strip()
    if not reference:
        raise ApplicationError(_("Enter the bank's transfer reference."), code="reference_required")
    if not stored_proof:
        proof = _check_proof(proof)
    _check_finance(actor, withdrawal, "payments.pay_withdrawal")
    with transaction.atomic():
        withdrawal = _lock(withdrawal)
        if withdrawal.status == Status.PAID:
            return withdrawal
        _refuse_move(withdrawal, Status.PAID)
        if withdrawal.payout_account_version_id is None:
            raise Conflict(
                _("%(w)s has no approved payout account; approve it again before paying.") % {"w": withdrawal}
            )
        now = timezone.now()
        accounts = accounts_lock(brand=withdrawal.brand, influencer_ids=[withdrawal.influencer_id])
        inf = withdrawal.influencer_id
        post(
            brand=withdrawal.brand,
            posting=Posting(
                kind=Kind.PAYOUT,
                reference=f"W-{withdrawal.pk}",
                influencer_id=inf,
                withdrawal_id=withdrawal.pk,
                batch_id=withdrawal.batch_id,
                occurred_at=now,
                memo=reference[:120],
                lines=[
                    (accounts[(inf, AccountKind.RESERVED)], D, withdrawal.amount_cents),
                    (accounts[(inf, AccountKind.PAID)], C, withdrawal.net_cents),
                    (accounts[(inf, AccountKind.WITHHOLDING)], C, withdrawal.withholding_cents),
                ],
            ),
        )
        if stored_proof:
            withdrawal.proof.name = stored_proof
        else:
            assert proof is not None
            withdrawal.proof.save(f"W-{withdrawal.pk}-{proof.name}", proof, save=False)
        withdrawal.status = Status.PAID
        withdrawal.paid_at = now
        withdrawal.paid_by = actor
        withdrawal.transfer_reference = reference[:120]
        withdrawal.save(update_fields=["status", "paid_at", "paid_by", "transfer_reference", "proof", "updated_at"])
        _publish("withdrawal.paid", withdrawal)
        audit_record(
            action="withdrawal.paid",
            target=withdrawal,
            actor=actor,
            brand_id=withdrawal.brand_id,
            before={"status": Status.APPROVED},
            after={
                "status": Status.PAID,
                "transfer_reference": withdrawal.transfer_reference,
                "net_cents": withdrawal.net_cents,
                "withholding_cents": withdrawal.withholding_cents,
                "proof": withdrawal.proof.name,
                "payout_account_version": withdrawal.payout_account_version_id,
            },
        )
    return withdrawal


# --- Bank file ------------------------------------------------------------------------------


def bank_export_build(*, batch: PayoutBatch, actor: Any, file_format: str | None = None) -> tuple[str, bytes]:
    """The file the bank imports for a batch's approved withdrawals, in the brand's format
    (`PayoutSettings.bank_file_format`, or `file_format`; layouts in docs/ledger.md). Each row pays
    the payout account version finance approved — never the influencer's live data — after
    checking the version against its fingerprint. Audits who exported which withdrawals (never
    the data itself)."""
    if not (actor and actor.is_authenticated and actor.is_active and actor.has_perm("payments.export_payoutbatch")):
        raise PermissionRefused(_("Only finance staff may export bank files."))
    allowed = brand_ids_for_user(actor)
    if allowed is not None and batch.brand_id not in allowed:
        raise PermissionRefused(_("Only finance staff may export bank files."))
    options = payout_settings_for(brand=batch.brand)
    writer = bank_file_writer(file_format or options.bank_file_format)
    withdrawals = list(
        Withdrawal.objects.filter(batch=batch, status=Status.APPROVED)
        .select_related("influencer", "payout_account_version")
        .order_by("pk")
    )
    if not withdrawals:
        raise ApplicationError(_("This batch has no approved withdrawals to pay."), code="nothing_to_export")
    unversioned = [str(w) for w in withdrawals if w.payout_account_version is None]
    if unversioned:
        raise ApplicationError(
            _("%(list)s have no approved payout account; approve them again first.") % {"list": ", ".join(unversioned)},
            code="payout_version_missing",
        )
    with transaction.atomic():
        rows = [
            BankFileRow(
                withdrawal=w,
                account=version_account(w.payout_account_version),  # type: ignore[arg-type]
                version_number=w.payout_account_version.number,  # type: ignore[union-attr]
            )
            for w in withdrawals
        ]
        sequence = BankExport.objects.filter(batch__brand_id=batch.brand_id).count() + 1
        context = BankFileContext(
            batch=batch,
            options=options,
            sequence=sequence,
            generated_at=timezone.localtime(timezone.now(), batch.brand.tz),
        )
        content = writer.build(rows=rows, context=context)
        del rows
        total = sum(w.net_cents for w in withdrawals)
        export = BankExport.objects.create(
            batch=batch,
            created_by=actor,
            rows=len(withdrawals),
            total_cents=total,
            withdrawal_ids=[w.pk for w in withdrawals],
            sha256=hashlib.sha256(content).hexdigest(),
            file_format=writer.code,
        )
        audit_record(
            action="payout_batch.bank_file_exported",
            target=batch,
            actor=actor,
            brand_id=batch.brand_id,
            after={
                "export": export.pk,
                "format": writer.code,
                "withdrawals": export.withdrawal_ids,
                "payout_account_versions": [w.payout_account_version_id for w in withdrawals],
                "rows": export.rows,
                "net_total_cents": total,
                "sha256": export.sha256,
                "bank_data_decrypted": True,
            },
        )
    return f"bank-{batch.brand.slug}-{batch.period_start:%Y%m%d}-{export.pk}.{writer.extension}", content


# --- Paying now, in bulk ----------------------------------------------------------------------


def payout_batch_create_now(*, brand: Any, actor: Any, withdrawal_ids: list[int] | None = None) -> PayoutBatch:
    """Put approved withdrawals that are in no batch yet into a new batch, ready to export and
    pay, without waiting for the biweekly cutoff. `withdrawal_ids` limits it to those."""
    if not (actor and actor.is_authenticated and actor.is_active and actor.has_perm("payments.export_payoutbatch")):
        raise PermissionRefused(_("Only finance staff may create payout batches."))
    allowed = brand_ids_for_user(actor)
    if allowed is not None and brand.pk not in allowed:
        raise PermissionRefused(_("Only finance staff may create payout batches."))
    with transaction.atomic():
        candidates = Withdrawal.objects.filter(brand=brand, status=Status.APPROVED, batch__isnull=True)
        if withdrawal_ids is not None:
            candidates = candidates.filter(pk__in=withdrawal_ids)
        locked = withdrawals_lock(queryset=candidates)
        if not locked:
            raise ApplicationError(
                _("No approved withdrawal of %(brand)s is waiting outside a batch.") % {"brand": brand.name},
                code="nothing_to_batch",
            )
        today = timezone.localtime(timezone.now(), brand.tz).date()
        now = timezone.now()
        batch = PayoutBatch.objects.create(
            brand=brand,
            kind=PayoutBatch.Kind.MANUAL,
            created_by=actor,
            period_start=today,
            period_end=today,
            status=PayoutBatch.Status.READY,
            stage="done",
            started_at=now,
            finished_at=now,
        )
        Withdrawal.objects.filter(pk__in=[w.pk for w in locked]).update(batch=batch, updated_at=now)
        audit_record(
            action="payout_batch.created_now",
            target=batch,
            actor=actor,
            brand_id=brand.pk,
            after={
                "withdrawals": [w.pk for w in locked],
                "net_total_cents": sum(w.net_cents for w in locked),
            },
        )
    return batch


def payment_job_create(
    *,
    batch: PayoutBatch,
    actor: Any,
    action: str,
    transfer_reference: str = "",
    proof: UploadedFile | None = None,
    reason: str = "",
    withdrawal_ids: list[int] | None = None,
) -> PaymentJob:
    """Queue marking the batch's approved withdrawals (or `withdrawal_ids` among them) paid with
    one transfer reference and proof, or failed with one reason. A worker runs it
    (`payment_job_run`) and records progress the admin polls."""
    if not (actor and actor.is_authenticated and actor.is_active and actor.has_perm("payments.pay_withdrawal")):
        raise PermissionRefused(_("Only finance staff may do this."))
    allowed = brand_ids_for_user(actor)
    if allowed is not None and batch.brand_id not in allowed:
        raise PermissionRefused(_("Only finance staff may do this."))
    if action == PaymentJob.Action.PAY:
        if not (transfer_reference or "").strip():
            raise ApplicationError(_("Enter the bank's transfer reference."), code="reference_required")
        proof = _check_proof(proof)
    elif action == PaymentJob.Action.FAIL:
        reason = _reason(reason)
    else:
        raise ApplicationError(_("Unknown action."), code="invalid")
    ids = Withdrawal.objects.filter(batch=batch, status=Status.APPROVED)
    if withdrawal_ids is not None:
        ids = ids.filter(pk__in=withdrawal_ids)
    targets = list(ids.order_by("pk").values_list("pk", flat=True))
    if not targets:
        raise ApplicationError(_("This batch has no approved withdrawals to pay."), code="nothing_to_pay")
    with transaction.atomic():
        job = PaymentJob(
            batch=batch,
            action=action,
            withdrawal_ids=targets,
            transfer_reference=(transfer_reference or "").strip()[:120],
            reason=reason,
            total=len(targets),
            created_by=actor,
        )
        if proof is not None:
            job.proof.save(f"B-{batch.pk}-{proof.name}", proof, save=False)
        job.save()
        audit_record(
            action="payment_job.created",
            target=job,
            actor=actor,
            brand_id=batch.brand_id,
            after={
                "batch": batch.pk,
                "action": action,
                "withdrawals": targets,
                "transfer_reference": job.transfer_reference,
                "proof": job.proof.name,
            },
        )
        job_id = job.pk
        transaction.on_commit(lambda: payment_job_run_task.delay(job_id=job_id))
    return job


def payment_job_run(*, job_id: int) -> PaymentJob:
    """Work through a payment job, one withdrawal per transaction, recording progress. Safe to
    run again (after a worker died, say): withdrawals already paid or failed are skipped by
    the services themselves; one that cannot move (rejected meanwhile) is listed in `errors`."""
    with transaction.atomic():
        job = payment_job_lock(pk=job_id)
        if job.status == PaymentJob.Status.DONE:
            return job
        PaymentJob.objects.filter(pk=job_id).update(status=PaymentJob.Status.RUNNING, done=0, errors=[])
    actor = job.created_by
    errors: list[dict[str, Any]] = []
    for index, withdrawal_id in enumerate(job.withdrawal_ids, start=1):
        withdrawal = Withdrawal.objects.filter(pk=withdrawal_id).select_related("brand", "influencer").first()
        try:
            if withdrawal is None:
                raise ApplicationError(_("This withdrawal no longer exists."))
            if job.action == PaymentJob.Action.PAY:
                withdrawal_mark_paid(
                    withdrawal=withdrawal,
                    actor=actor,
                    transfer_reference=job.transfer_reference,
                    stored_proof=job.proof.name or "",
                )
            else:
                withdrawal_mark_failed(withdrawal=withdrawal, actor=actor, reason=job.reason)
        except ApplicationError as exc:
            errors.append({"withdrawal": withdrawal_id, "error": str(exc)})
        PaymentJob.objects.filter(pk=job_id).update(done=index, errors=errors)
    PaymentJob.objects.filter(pk=job_id).update(
        status=PaymentJob.Status.FAILED if errors else PaymentJob.Status.DONE, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job
