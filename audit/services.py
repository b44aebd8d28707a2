from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from audit.chain import GENESIS, compute_hash, fields_of, normalize
from audit.models import AuditEvent
from core import request_context


def audit_record(
    *,
    action: str,
    target: Model | None = None,
    actor: Any = None,
    brand_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one event to the chain. Call inside the transaction that makes the change, so the
    record and the change commit or roll back together.

    Appends are serialised (an advisory lock on PostgreSQL; SQLite has one writer anyway) so
    every row links to the one before it.
    """
    meta = request_context.current()
    if actor is None and meta.user_id is not None:
        from accounts.models import User

        actor = User.objects.filter(pk=meta.user_id).first()
    actor_id = getattr(actor, "pk", None) if actor is not None and getattr(actor, "is_authenticated", True) else None
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [settings.AUDIT_CHAIN_LOCK_ID])
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            created_at=timezone.now().astimezone(UTC),
            actor_id=actor_id,
            actor_repr=str(actor)[:254] if actor is not None else "system",
            action=action,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            target_repr=str(target)[:254] if target is not None else "",
            brand_id=brand_id,
            before=normalize(before),
            after=normalize(after),
            ip=ip or meta.ip,
            user_agent=meta.user_agent,
            request_id=meta.request_id if meta.request_id != "-" else "",
            prev_hash=last or GENESIS,
        )
        event.hash = compute_hash(prev_hash=event.prev_hash, fields=fields_of(event))
        event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None  # id of the first event that does not verify
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def audit_chain_verify(*, batch_size: int = 2000, progress: Any = None) -> ChainReport:
    """Walk the whole chain in id order and name the first link that does not hold."""
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return ChainReport(checked=checked, broken_at=None)
        for event in batch:
            if event.prev_hash != prev:
                return ChainReport(
                    checked, event.pk, "prev_hash does not match the previous event (removed or reordered)"
                )
            expected = compute_hash(prev_hash=event.prev_hash, fields=fields_of(event))
            if expected != event.hash:
                return ChainReport(checked, event.pk, "content does not match its hash (edited)")
            prev = event.hash
            checked += 1
        last_id = batch[-1].pk
        if progress is not None:
            progress(checked)
