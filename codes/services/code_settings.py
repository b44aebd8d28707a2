"""Changing a code's discount and usage rules; VTEX gets the new coupon after commit."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import audit_record
from codes.locks import codes_lock
from codes.models import Code
from codes.services.sync import code_sync_mark, code_sync_queue
from codes.services.text import CodeInvalid


def code_update_settings(
    *,
    code: Code,
    discount_percent: Decimal | None = None,
    max_usage: int | None = None,
    max_items_per_client: int | None = None,
    expiration_interval_per_use: str | None = None,
    actor: Any = None,
) -> Code:
    """Change the discount shown and the usage rules; VTEX gets the new coupon after commit."""

    with transaction.atomic():
        locked = codes_lock(pk=code.pk)[0]
        before = {
            "discount_percent": str(locked.discount_percent),
            "max_usage": locked.max_usage,
            "max_items_per_client": locked.max_items_per_client,
            "expiration_interval_per_use": locked.expiration_interval_per_use,
        }
        if discount_percent is not None:
            locked.discount_percent = Decimal(str(discount_percent))
        if max_usage is not None:
            locked.max_usage = max_usage
        if max_items_per_client is not None:
            locked.max_items_per_client = max_items_per_client
        if expiration_interval_per_use is not None:
            locked.expiration_interval_per_use = expiration_interval_per_use
        try:
            locked.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            raise CodeInvalid(" ".join(exc.messages)) from exc
        after = {
            "discount_percent": str(locked.discount_percent),
            "max_usage": locked.max_usage,
            "max_items_per_client": locked.max_items_per_client,
            "expiration_interval_per_use": locked.expiration_interval_per_use,
        }
        if after == before:
            return locked
        code_sync_mark(locked)
        locked.save()
        audit_record(
            action="code.settings_changed",
            target=locked,
            actor=actor,
            brand_id=locked.brand_id,
            before=before,
            after=after,
        )
        code_sync_queue(locked)
    return locked
