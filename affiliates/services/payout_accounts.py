"""An influencer's payout data: validated, audited masked, and emailed about on every change."""

import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from affiliates.documents import DOCUMENT_TYPES_BY_CODE, DocumentInvalid, document_validate, transfer_key_validate
from affiliates.locks import influencer_lock
from affiliates.models import Influencer, PayoutAccount
from affiliates.services.validation import application_refused
from audit.services import audit_record
from core import events, request_context
from integrations.email import email_send

_ACCOUNT_NUMBER_RE = re.compile(r"^[0-9A-Za-z-]{4,34}$")


@dataclass(frozen=True)
class PayoutData:
    account_holder: str
    bank_name: str
    account_type: str
    account_number: str = ""
    bank_code: str = ""
    holder_document_type: str = ""
    holder_document_number: str = ""
    key_type: str = ""
    transfer_key: str = ""


def _validate_payout(*, data: PayoutData) -> dict[str, str]:
    holder = data.account_holder.strip()
    if len(holder) < 3:
        raise application_refused(_("Enter the account holder's full name."), field="account_holder")
    bank = data.bank_name.strip()
    if not bank:
        raise application_refused(_("Enter the bank or wallet name."), field="bank_name")
    if data.account_type not in PayoutAccount.AccountType.values:
        raise application_refused(_("Choose an account type."), field="account_type")
    number = re.sub(r"\s", "", data.account_number or "")
    if number and not _ACCOUNT_NUMBER_RE.match(number):
        raise application_refused(
            _("The account number has 4 to 34 letters, digits or dashes."), field="account_number"
        )
    if data.key_type not in PayoutAccount.KeyType.values:
        raise application_refused(_("Choose a transfer key type from the list."), field="key_type")
    try:
        key = transfer_key_validate(key_type=data.key_type, value=data.transfer_key)
    except DocumentInvalid as exc:
        raise application_refused(str(exc.message), field="transfer_key") from exc
    if not number and not key:
        raise application_refused(_("Enter the account number or a transfer key."), field="account_number")
    holder_doc = ""
    if data.holder_document_type or data.holder_document_number:
        doc = DOCUMENT_TYPES_BY_CODE.get(data.holder_document_type)
        if doc is None:
            raise application_refused(_("Choose the holder's document type."), field="holder_document_type")
        try:
            holder_doc = document_validate(
                country=doc.country, document_type=doc.code, number=data.holder_document_number
            )
        except DocumentInvalid as exc:
            raise application_refused(str(exc.message), field="holder_document_number") from exc
    bank_code = data.bank_code.strip()
    if bank_code and not re.fullmatch(r"[0-9A-Za-z-]{1,20}", bank_code):
        raise application_refused(_("The bank code has only letters, digits and dashes."), field="bank_code")
    return {
        "account_holder": holder,
        "bank_name": bank,
        "bank_code": bank_code,
        "account_type": data.account_type,
        "account_number": number,
        "holder_document_type": data.holder_document_type if holder_doc else "",
        "holder_document_number": holder_doc,
        "key_type": data.key_type if key else "",
        "transfer_key": key,
    }


def payout_account_update(*, influencer: Influencer, data: PayoutData, actor: Any = None) -> PayoutAccount:
    """Create or replace the influencer's payout data. The caller must have re-authenticated
    the person. Audited with masked values; the influencer is emailed about every change."""
    values = _validate_payout(data=data)
    with transaction.atomic():
        influencer_lock(pk=influencer.pk)  # one change of payout data at a time
        account = PayoutAccount.objects.filter(influencer=influencer).first()
        if account is not None and all(getattr(account, k) == v for k, v in values.items()):
            return account  # nothing changed: no audit record, no email
        # Upper floors may refuse the change (payments: two-factor above a balance threshold).
        events.publish("payout_account.changing", influencer=influencer, actor=actor)
        before = account.masked() if account else None
        if account is None:
            account = PayoutAccount(influencer=influencer, **values)
        else:
            for field, value in values.items():
                setattr(account, field, value)
        account.save()
        after = account.masked()
        audit_record(
            action="payout_account.updated" if before else "payout_account.created",
            target=account,
            actor=actor,
            before=before,
            after=after,
        )
        # Payments freezes the new data as a version and sends open withdrawals back to finance.
        events.publish("payout_account.changed", influencer=influencer, actor=actor)
        meta = request_context.current()
        user = influencer.user
        email_send(
            to=[user.email],
            template="affiliates_payout_changed",
            language=user.preferred_language,
            context={
                "name": influencer.display_name,
                "bank_name": after["bank_name"],
                "account_number": after["account_number"],
                "transfer_key": after["transfer_key"],
                "changed_at": timezone.localtime().strftime("%Y-%m-%d %H:%M %Z"),
                "ip": meta.ip or "",
            },
        )
    return account
