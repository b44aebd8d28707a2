"""The payout (bank) data payments needs, read from the affiliates context.

Affiliates owns the encrypted payout-account model; payments needs to know whether usable data
is on file and a masked label to show (`payout_accounts_on_file`, which never decrypts), and —
in the bank export only — the decrypted fields (`payout_accounts_decrypt`). Everything goes
through this module, so there is one place to adapt when that model changes.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Model, Q

from core.crypto import EncryptedTextField, mask

# Model names the affiliates context may use for the payout account, in order of preference.
_CANDIDATE_MODELS = ("PayoutAccount", "BankAccount", "PayoutMethod", "PayoutData")
_HOLDER = ("holder_name", "account_holder_name", "account_holder", "holder", "beneficiary_name", "name")
_DOC_TYPE = ("holder_document_type", "document_type", "id_type")
_DOC_NUMBER = ("holder_document_number", "document_number", "holder_document", "id_number", "tax_id")
_BANK_NAME = ("bank_name", "bank", "institution")
_BANK_CODE = ("bank_code", "routing_number", "swift", "bic", "ispb")
_ACCOUNT_TYPE = ("account_type", "type")
_ACCOUNT_NUMBER = ("account_number", "iban", "number")
_KEY_TYPE = ("key_type", "transfer_key_type")
_KEY = ("transfer_key", "pix_key", "clabe", "key")
_LAST4 = ("account_last4", "last4", "last_four", "account_number_last4", "masked_account_number")


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


def payout_model() -> type[Model] | None:
    for name in _CANDIDATE_MODELS:
        try:
            return apps.get_model("affiliates", name)
        except LookupError:
            continue
    return None


def _field_names(model: type[Model]) -> set[str]:
    return {f.name for f in model._meta.concrete_fields}


def _plain_fields(model: type[Model]) -> set[str]:
    return {f.name for f in model._meta.concrete_fields if not isinstance(f, EncryptedTextField)}


def _pick(names: set[str], candidates: tuple[str, ...]) -> str | None:
    return next((name for name in candidates if name in names), None)


def _queryset(model: type[Model], influencer_ids: list[int], brand_id: int) -> Any:
    names = _field_names(model)
    queryset = model._default_manager.filter(influencer_id__in=influencer_ids)
    if "brand" in names:
        queryset = queryset.filter(Q(brand_id=brand_id) | Q(brand_id__isnull=True))
    for flag in ("is_active", "is_current", "active", "is_default"):
        if flag in names:
            queryset = queryset.filter(**{flag: True})
            break
    for gone in ("deleted_at", "revoked_at", "archived_at"):
        if gone in names:
            queryset = queryset.filter(**{f"{gone}__isnull": True})
    # Brand-specific rows after general ones, newest last, so the last row per influencer wins.
    order = ["brand_id"] if "brand" in names else []
    return queryset.order_by(*order, "pk")


def _with_destination(model: type[Model], queryset: Any) -> Any:
    """Rows that say where to send money: an account number or a transfer key (PIX, CLABE, CBU,
    CCI) — either is enough. Only emptiness is tested (an empty value is stored empty, not
    encrypted), so nothing is decrypted."""
    names = _field_names(model)
    columns = [c for c in (_pick(names, _ACCOUNT_NUMBER), _pick(names, _KEY)) if c]
    if not columns:
        return queryset
    condition = Q(pk__in=[])
    for column in columns:
        condition |= Q(**{f"{column}__isnull": False}) & ~Q(**{column: ""})
    return queryset.filter(condition)


def payout_accounts_on_file(*, influencer_ids: Iterable[int], brand_id: int) -> dict[int, str]:
    """Influencers with payout data on file → a masked label. Reads only unencrypted columns,
    so nothing is decrypted here."""
    model = payout_model()
    ids = list(influencer_ids)
    if model is None or not ids:
        return {}
    plain = _plain_fields(model)
    # Only columns stored in clear: enough for a label such as "savings · 1007 · ••••1234".
    columns = [
        c
        for c in (
            _pick(plain, _ACCOUNT_TYPE),
            _pick(plain, _BANK_NAME),
            _pick(plain, _BANK_CODE),
            _pick(plain, _KEY_TYPE),
        )
        if c
    ]
    last4 = _pick(plain, _LAST4)
    found: dict[int, str] = {}
    for row in _with_destination(model, _queryset(model, ids, brand_id)).values(
        "influencer_id", *columns, *([last4] if last4 else [])
    ):
        parts = [str(row[c]) for c in columns if row.get(c)]
        if last4 and row.get(last4):
            parts.append(f"•••• {str(row[last4])[-4:]}")
        found[row["influencer_id"]] = " · ".join(parts) or "✓"
    return found


def _first(obj: Any, names: tuple[str, ...]) -> str:
    for name in names:
        value = getattr(obj, name, None)
        if value:
            return str(getattr(value, "value", value))
    return ""


def payout_accounts_decrypt(*, influencer_ids: Iterable[int], brand_id: int) -> dict[int, PayoutAccount]:
    """Usable decrypted payout data per influencer id. Only the bank export calls this, and it
    audits every call."""
    model = payout_model()
    ids = list(influencer_ids)
    if model is None or not ids:
        return {}
    result: dict[int, PayoutAccount] = {}
    for row in _queryset(model, ids, brand_id):
        account = PayoutAccount(
            holder_name=_first(row, _HOLDER),
            document_type=_first(row, _DOC_TYPE),
            document_number=_first(row, _DOC_NUMBER),
            bank_name=_first(row, _BANK_NAME),
            bank_code=_first(row, _BANK_CODE),
            account_type=_first(row, _ACCOUNT_TYPE),
            account_number=_first(row, _ACCOUNT_NUMBER),
            transfer_key_type=_first(row, _KEY_TYPE),
            transfer_key=_first(row, _KEY),
        )
        if account.is_usable:
            result[row.influencer_id] = account  # type: ignore[attr-defined]
    return result


def kyc_approved_for(*, influencer: Any, brand: Any) -> bool:
    """KYC passed: the membership with the brand is approved and, when the affiliates context
    records a KYC status on the influencer, that status is approved too."""
    from affiliates.models import Membership

    status = Membership.objects.filter(influencer=influencer, brand=brand).values_list("status", flat=True).first()
    if status != Membership.Status.APPROVED:
        return False
    kyc_status = getattr(influencer, "kyc_status", None)
    return kyc_status in (None, "", "approved", "verified")
