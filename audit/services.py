from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from audit.chain import GENESIS, compute_hash, fields_of, normalize
from audit.models import AuditEvent
from core import batching, request_context


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
    """Append one event. Call inside the transaction that makes the change, so the record and
    the change commit or roll back together.

    No lock is taken here: the row is sealed into the hash chain after it commits
    (`audit_chain_seal`), so busy writers (ledger postings, order processing) never queue
    behind each other on the audit log. Inside a batch (core.batching) the row is inserted with
    the batch's others when it ends, in the order they were recorded, in the same transaction.
    """
    meta = request_context.current()
    if actor is None and meta.user_id is not None:
        # The user model by setting, not by import: audit sits below accounts.
        user_id = meta.user_id
        actor = batching.memo(("audit.actor", user_id), lambda: get_user_model().objects.filter(pk=user_id).first())
    actor_id = getattr(actor, "pk", None) if actor is not None and getattr(actor, "is_authenticated", True) else None
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
    )
    if not batching.defer_insert(event):
        event.save(force_insert=True)
    return event


def audit_chain_seal(*, batch_size: int = 1000) -> int:
    """Give every committed, unsealed event its chain position and hash, in id order. Sealers
    are serialised (an advisory lock on PostgreSQL; SQLite has one writer), so positions are
    dense and each hash links to the one before. Returns how many events were sealed."""
    sealed = 0
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [settings.AUDIT_CHAIN_LOCK_ID])
            batch = list(AuditEvent.objects.filter(seq__isnull=True).order_by("id")[:batch_size])
            if not batch:
                return sealed
            last = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", "hash").first()
            seq: int = last[0] or 0 if last else 0
            prev: str = last[1] or GENESIS if last else GENESIS
            for event in batch:
                seq += 1
                event.seq = seq
                event.prev_hash = prev
                event.hash = compute_hash(prev_hash=prev, fields=fields_of(event))
                prev = event.hash
            AuditEvent.objects.bulk_update(batch, ["seq", "prev_hash", "hash"])
            sealed += len(batch)


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None  # id of the first event that does not verify
    reason: str = ""
    unsealed: int = 0

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def audit_chain_verify(*, batch_size: int = 2000, progress: Any = None, seal: bool = True) -> ChainReport:
    """Seal what committed since the last run, then walk the chain in order and name the first
    link that does not hold (content edited, an event removed or reordered)."""
    if seal:
        audit_chain_seal()
    prev = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.seq != expected_seq or event.prev_hash != prev:
                return ChainReport(checked, event.pk, "the previous event is missing or was reordered (removed?)")
            if compute_hash(prev_hash=prev, fields=fields_of(event)) != event.hash:
                return ChainReport(checked, event.pk, "content does not match its hash (edited)")
            prev = event.hash
            expected_seq += 1
            checked += 1
        last_seq = batch[-1].seq or last_seq
        if progress is not None:
            progress(checked)
    # Events still unsealed a while after they were written mean the sealer is not running.
    stale = AuditEvent.objects.filter(seq__isnull=True, created_at__lt=timezone.now() - timedelta(minutes=10))
    return ChainReport(checked=checked, broken_at=None, unsealed=stale.count())
