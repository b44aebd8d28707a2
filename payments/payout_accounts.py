"""The payout (bank) data payments needs, read from affiliates' `PayoutAccount`.

Payments needs to know whether usable data is on file and a masked label to show
(`payout_accounts_on_file`, which never decrypts), and — in the bank export only — the
decrypted fields (`payout_accounts_decrypt`). Everything goes through this module, so there is
one place to adapt when that model changes.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from affiliates.models import Membership
from affiliates.models import PayoutAccount as PayoutAccountRow
from core.crypto import mask

# Columns stored in clear (the rest are encrypted): enough for a label such as
# "savings · 007" without decrypting anything.
_LABEL_COLUMNS = ("account_type", "bank_code", "key_type")


@dataclass(frozen=True)
class PayoutAccount:
    """Decrypted payout data. Hold it only while writing the bank file; never log or store it."""

    holder_name: str
    document_type: str
    document_number: str
    bank_name: str
    bank_code: str
    account_type: str
    account_number: str
    transfer_key_type: str = ""
    transfer_key: str = ""

    @property
    def label(self) -> str:
        return " ".join(part for part in (self.bank_name, mask(self.account_number or self.transfer_key)) if part)

    @property
    def is_usable(self) -> bool:
        has_account = bool(self.account_number and (self.bank_name or self.bank_code))
        return bool(self.holder_name and (has_account or self.transfer_key))


def _rows(influencer_ids: list[int]) -> QuerySet[PayoutAccountRow]:
    # One payout account per influencer (not per brand): the same bank data serves every brand.
    return PayoutAccountRow.objects.filter(influencer_id__in=influencer_ids).order_by("pk")


def _with_destination(queryset: QuerySet[PayoutAccountRow]) -> QuerySet[PayoutAccountRow]:
    """Rows that say where to send money: an account number or a transfer key (PIX, CLABE, CBU,
    CCI) — either is enough. Only emptiness is tested (an empty value is stored empty, not
    encrypted), so nothing is decrypted."""
    has_number = Q(account_number__isnull=False) & ~Q(account_number="")
    has_key = Q(transfer_key__isnull=False) & ~Q(transfer_key="")
    return queryset.filter(has_number | has_key)


def payout_accounts_on_file(*, influencer_ids: Iterable[int], brand_id: int) -> dict[int, str]:
    """Influencers with payout data on file → a masked label. Reads only unencrypted columns,
    so nothing is decrypted here. `brand_id` is accepted for the callers' sake; payout data
    is the influencer's, whichever brand pays."""
    ids = list(influencer_ids)
    if not ids:
        return {}
    found: dict[int, str] = {}
    for row in _with_destination(_rows(ids)).values("influencer_id", *_LABEL_COLUMNS):
        parts = [_column_label(column, row[column]) for column in _LABEL_COLUMNS if row[column]]
        found[row["influencer_id"]] = " · ".join(parts) or "✓"
    return found


_CHOICES = {"account_type": PayoutAccountRow.AccountType, "key_type": PayoutAccountRow.KeyType}


def _column_label(column: str, value: str) -> str:
    """A stored code in the reader's language ("savings" → "Ahorros"); a code no longer among
    the choices is shown as stored."""
    choices = _CHOICES.get(column)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    return str(value)


def payout_account_decrypt(*, influencer_id: int) -> PayoutAccount | None:
    """The influencer's usable payout data now, decrypted, to freeze as a version
    (`payments.services.payout_versions`); None without usable data."""
    return payout_accounts_decrypt(influencer_ids=[influencer_id]).get(influencer_id)


def payout_accounts_decrypt(*, influencer_ids: Iterable[int], brand_id: int | None = None) -> dict[int, PayoutAccount]:
    """Usable decrypted payout data per influencer id, to freeze as versions (the bank file pays
    the versions, never this live data)."""
    ids = list(influencer_ids)
    if not ids:
        return {}
    result: dict[int, PayoutAccount] = {}
    for row in _rows(ids):
        account = PayoutAccount(
            holder_name=row.account_holder or "",
            document_type=row.holder_document_type or "",
            document_number=row.holder_document_number or "",
            bank_name=row.bank_name or "",
            bank_code=row.bank_code or "",
            account_type=row.account_type or "",
            account_number=row.account_number or "",
            transfer_key_type=row.key_type or "",
            transfer_key=row.transfer_key or "",
        )
        if account.is_usable:
            result[row.influencer_id] = account
    return result


def kyc_approved_for(*, influencer: Any, brand: Any) -> bool:
    """KYC passed: the influencer's membership with the brand is approved (affiliates approves
    a membership only after reviewing its KYC documents)."""
    return Membership.objects.filter(influencer=influencer, brand=brand, status=Membership.Status.APPROVED).exists()
