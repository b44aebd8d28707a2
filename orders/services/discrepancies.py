"""A person closes a reconciliation discrepancy: open → handled, with who, when and why."""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from core.errors import ApplicationError
from orders.locks import discrepancy_lock
from orders.models import Discrepancy


class DiscrepancyAlreadyResolved(ApplicationError):
    default_code = "discrepancy_resolved"
    status_code = 409


def discrepancy_mark_handled(*, discrepancy: Discrepancy, actor: Any, note: str) -> Discrepancy:
    """Mark one open discrepancy handled with the person's note (audited). A discrepancy that
    is already resolved (by a re-sync or by someone else) is refused and left as it is."""
    note = note.strip()
    if not note:
        raise ApplicationError(_("Say what was done about it."))
    with transaction.atomic():
        locked = discrepancy_lock(pk=discrepancy.pk)
        if locked.resolved:
            raise DiscrepancyAlreadyResolved(_("This discrepancy was already resolved."))
        before = {"resolved": False, "note": locked.note}
        locked.resolved = True
        locked.note = note[:300]
        locked.resolved_at = timezone.now()
        locked.resolved_by = actor
        locked.save(update_fields=["resolved", "note", "resolved_at", "resolved_by"])
        audit_record(
            action="orders.discrepancy_handled",
            target=locked,
            actor=actor,
            brand_id=locked.run.brand_id,
            before=before,
            after={"resolved": True, "note": locked.note, "kind": locked.kind, "vtex_order_id": locked.vtex_order_id},
        )
    return locked
