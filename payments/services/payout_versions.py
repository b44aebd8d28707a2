"""The approved account is the paid account (docs/ledger.md).

Whenever an influencer's payout data changes (affiliates publishes `payout_account.changed`),
payments freezes it as a new immutable `PayoutAccountVersion`. Approving a withdrawal records the
version the approver saw; the bank file and "mark paid" pay exactly that version. A change while
a withdrawal is open sends it back to finance (approvals voided, the change shown masked), emails
the influencer and the brand's finance users, and starts the brand's cool-down for new
requests. Above a brand's balance threshold, changing payout data needs a verified second
factor (`payout_account.changing`, which may refuse the change).
"""

import json
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from audit.services import audit_record
from core.crypto import mask
from core.errors import ApplicationError
from core.money import format_minor
from integrations.email import email_send
from payments import payout_accounts
from payments.locks import withdrawals_lock
from payments.models import (
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    PayoutAccountVersion,
    PayoutSettings,
    Withdrawal,
    WithdrawalApproval,
    WithdrawalWithholding,
)
from payments.services.ledger import _SIGNED

_FINGERPRINT_SALT = "payments.PayoutAccountVersion"
_FIELDS = (
    "holder_name",
    "document_type",
    "document_number",
    "bank_name",
    "bank_code",
    "account_type",
    "account_number",
    "transfer_key_type",
    "transfer_key",
)
# Money the influencer is owed at a brand, for the two-factor threshold.
_OWED_KINDS = (AccountKind.HOLD, AccountKind.AVAILABLE, AccountKind.RESERVED)


def payout_fingerprint(account: payout_accounts.PayoutAccount) -> str:
    """A keyed hash (HMAC-SHA256, keyed by SECRET_KEY) of the whole payout data: equal data,
    equal fingerprint; nothing about the data can be learnt from it without the key."""
    canonical = json.dumps({name: getattr(account, name) for name in _FIELDS}, sort_keys=True, ensure_ascii=False)
    return salted_hmac(_FINGERPRINT_SALT, canonical, algorithm="sha256").hexdigest()


def version_account(version: PayoutAccountVersion) -> payout_accounts.PayoutAccount:
    """The decrypted data of a version, after checking it still matches its fingerprint (a
    changed ciphertext raises instead of paying someone else)."""
    account = payout_accounts.PayoutAccount(
        holder_name=version.holder_name or "",
        document_type=version.document_type,
        document_number=version.document_number or "",
        bank_name=version.bank_name or "",
        bank_code=version.bank_code,
        account_type=version.account_type,
        account_number=version.account_number or "",
        transfer_key_type=version.key_type,
        transfer_key=version.transfer_key or "",
    )
    if not constant_time_compare(payout_fingerprint(account), version.fingerprint):
        raise ApplicationError(
            _("The approved payout data of %(version)s does not match its fingerprint; do not pay it.")
            % {"version": version},
            code="payout_version_tampered",
        )
    return account


def _masked(account: payout_accounts.PayoutAccount) -> dict[str, str]:
    return {
        "holder_name": account.holder_name,
        "document": f"{account.document_type} {mask(account.document_number)}".strip(),
        "bank": " ".join(p for p in (account.bank_name, account.bank_code) if p),
        "account_type": account.account_type,
        "account_number": mask(account.account_number),
        "transfer_key": f"{account.transfer_key_type} {mask(account.transfer_key)}".strip(),
    }


def payout_account_version_current(*, influencer_id: int, actor: Any = None) -> PayoutAccountVersion | None:
    """The version equal to the influencer's payout data now, created (numbered after the latest)
    when the data differs from the latest version. None when there is no usable payout data."""
    account = payout_accounts.payout_account_decrypt(influencer_id=influencer_id)
    if account is None:
        return None
    fingerprint = payout_fingerprint(account)
    for _attempt in range(3):
        latest = PayoutAccountVersion.objects.filter(influencer_id=influencer_id).order_by("-number").first()
        if latest is not None and latest.fingerprint == fingerprint:
            return latest
        try:
            with transaction.atomic():
                return PayoutAccountVersion.objects.create(
                    influencer_id=influencer_id,
                    number=(latest.number if latest else 0) + 1,
                    fingerprint=fingerprint,
                    holder_name=account.holder_name,
                    document_type=account.document_type,
                    document_number=account.document_number,
                    bank_name=account.bank_name,
                    bank_code=account.bank_code,
                    account_type=account.account_type,
                    account_number=account.account_number,
                    key_type=account.transfer_key_type,
                    transfer_key=account.transfer_key,
                    label=account.label[:160] or "✓",
                    masked=_masked(account),
                    created_by=actor if getattr(actor, "pk", None) else None,
                )
        except IntegrityError:
            continue  # someone numbered the same version first: read theirs
    raise ApplicationError(_("The payout data is being changed right now; try again."), code="busy")


# --- Cool-down and two-factor rules ---------------------------------------------------------


def payout_change_cooldown_until(*, influencer_id: int, options: PayoutSettings) -> datetime | None:
    """When new withdrawals may be requested again after a payout-data change, or None when no
    cool-down applies. Entering payout data the first time is not a change."""
    hours = options.payout_change_cooldown_hours
    if not hours:
        return None
    latest = (
        PayoutAccountVersion.objects.filter(influencer_id=influencer_id, number__gt=1)
        .order_by("-number")
        .values_list("created_at", flat=True)
        .first()
    )
    if latest is None:
        return None
    until = latest + timedelta(hours=hours)
    return until if until > timezone.now() else None


def _two_factor_verified(actor: Any) -> bool:
    is_verified = getattr(actor, "is_verified", None)
    return bool(callable(is_verified) and is_verified())


def payout_change_two_factor_check(*, influencer: Any, actor: Any) -> None:
    """Refuse a payout-data change by someone without a verified second factor when the
    influencer's balance at any brand is above that brand's threshold. Staff acting for an
    influencer are verified by the back office's own 2FA."""
    settings_rows = {
        row.brand_id: row
        for row in PayoutSettings.objects.filter(payout_change_2fa_threshold_cents__isnull=False).select_related(
            "brand"
        )
    }
    if not settings_rows:
        return
    brand_ids = set(
        LedgerAccount.objects.filter(influencer_id=influencer.pk, brand_id__in=settings_rows).values_list(
            "brand_id", flat=True
        )
    )
    if not brand_ids:
        return
    rows = (
        LedgerEntry.objects.filter(
            account__influencer_id=influencer.pk, account__brand_id__in=brand_ids, account__kind__in=_OWED_KINDS
        )
        .values("account__brand_id")
        .annotate(total=Sum(_SIGNED))
        .order_by()
    )
    balances = {row["account__brand_id"]: int(row["total"] or 0) for row in rows}
    for brand_id, owed in sorted(balances.items()):
        options = settings_rows[brand_id]
        threshold = int(options.payout_change_2fa_threshold_cents or 0)
        if owed > threshold and not _two_factor_verified(actor):
            raise ApplicationError(
                _(
                    "Your balance with %(brand)s is above %(threshold)s, so changing your payout data needs "
                    "two-factor authentication. Confirm it with your authenticator app first."
                )
                % {"brand": options.brand.name, "threshold": format_minor(threshold, options.brand.currency)},
                code="two_factor_required",
            )


# --- Reacting to a change -------------------------------------------------------------------


def _finance_emails(brand: Any) -> list[str]:
    from payments.services.cutoff import finance_recipients  # noqa: PLC0415 cycle inside payments.services (cutoff→withdrawals→payout_versions)

    return finance_recipients(brand=brand)


def withdrawals_payout_changed(*, influencer: Any, actor: Any = None) -> list[Withdrawal]:
    """Freeze the new payout data as a version and send the influencer's open withdrawals back to
    finance: approvals voided, frozen withholdings dropped (recomputed at the new approval), the
    change recorded on the withdrawal (masked) and audited, influencer and finance emailed.
    Call inside the transaction that changed the data."""
    previous = PayoutAccountVersion.objects.filter(influencer_id=influencer.pk).order_by("-number").first()
    version = payout_account_version_current(influencer_id=influencer.pk, actor=actor)
    if version is None or (previous is not None and previous.pk == version.pk):
        return []
    now = timezone.now()
    withdrawals = withdrawals_lock(
        queryset=Withdrawal.objects.filter(influencer_id=influencer.pk, status__in=Withdrawal.OPEN_STATUSES)
    )
    changed: list[Withdrawal] = []
    for withdrawal in withdrawals:
        before_status = withdrawal.status
        voided = WithdrawalApproval.objects.filter(withdrawal=withdrawal, voided_at__isnull=True).update(voided_at=now)
        approved_version = withdrawal.payout_account_version or previous
        change = {
            "at": now.isoformat(),
            "from_version": approved_version.number if approved_version else None,
            "to_version": version.number,
            "before": approved_version.masked if approved_version else {},
            "after": version.masked,
            "status_before": before_status,
            "approvals_voided": voided,
        }
        if before_status == Withdrawal.Status.APPROVED:
            WithdrawalWithholding.objects.filter(withdrawal=withdrawal).delete()
            withdrawal.withholding_cents = 0
            withdrawal.approved_at = None
            withdrawal.status = Withdrawal.Status.REQUESTED
        withdrawal.payout_account_version = None
        withdrawal.payout_account_label = version.label
        withdrawal.payout_changed_at = now
        withdrawal.payout_change = change
        withdrawal.save(
            update_fields=[
                "status",
                "approved_at",
                "withholding_cents",
                "payout_account_version",
                "payout_account_label",
                "payout_changed_at",
                "payout_change",
                "updated_at",
            ]
        )
        audit_record(
            action="withdrawal.payout_data_changed",
            target=withdrawal,
            actor=actor,
            brand_id=withdrawal.brand_id,
            before={"status": before_status, "payout_account": change["before"]},
            after={"status": withdrawal.status, "payout_account": change["after"], "approvals_voided": voided},
        )
        _email_change(withdrawal, change)
        changed.append(withdrawal)
    return changed


def _email_change(withdrawal: Withdrawal, change: dict[str, Any]) -> None:
    brand = withdrawal.brand
    user = withdrawal.influencer.user
    context = {
        "name": withdrawal.influencer.display_name,
        "influencer": withdrawal.influencer.display_name,
        "brand": brand.name,
        "withdrawal": str(withdrawal),
        "amount": format_minor(withdrawal.amount_cents, withdrawal.currency),
        "before": change["before"],
        "after": change["after"],
        "withdrawal_id": withdrawal.pk,
    }
    email_send(
        to=[user.email],
        template="withdrawal_payout_changed",
        language=getattr(user, "preferred_language", None),
        context=context,
    )
    email_send(to=_finance_emails(brand), template="withdrawal_payout_changed_finance", context=context)
