"""Periodic export of the audit log (Beat: `audit.tasks.audit_export_task`) to private storage,
and its verification (`manage.py audit_verify`).

Each export holds the sealed events after the previous export, one JSON object per line with
every hashed field plus `prev_hash` and `hash`, and a last line `{"head_seq", "head_hash",
"events"}`. The file is self-verifying: recomputing each hash from the previous one reproduces
the head. Kept outside the database, it proves what the log said at export time even if the
database (and its chain) were later rewritten wholesale."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from audit.chain import HASHED_FIELDS, compute_hash, fields_of
from audit.locks import audit_export_head_lock
from audit.models import AuditEvent, AuditExport
from audit.services import audit_chain_seal
from core.storage import private_storage

EXPORT_DIR = "audit/exports"


def _line(event: AuditEvent) -> dict[str, Any]:
    fields = fields_of(event)
    fields["created_at"] = event.created_at.isoformat(timespec="microseconds")
    return {**fields, "prev_hash": event.prev_hash, "hash": event.hash}


def audit_export_run(*, max_events: int = 100_000) -> AuditExport | None:
    """Seal, then write every sealed event after the last export (up to `max_events`) to one
    file. None when nothing new was sealed."""

    audit_chain_seal()
    with transaction.atomic():
        last = audit_export_head_lock()
        after = last.head_seq if last else 0
        events = list(AuditEvent.objects.filter(seq__gt=after).order_by("seq")[:max_events])
        if not events:
            return None
        lines = [json.dumps(_line(e), sort_keys=True, ensure_ascii=False, default=str) for e in events]
        head = events[-1]
        lines.append(json.dumps({"head_seq": head.seq, "head_hash": head.hash, "events": len(events)}))
        content = ("\n".join(lines) + "\n").encode("utf-8")
        stamp = datetime.now(UTC).strftime("%Y/%m/%Y%m%dT%H%M%S")
        name = private_storage().save(f"{EXPORT_DIR}/{stamp}-{events[0].seq}-{head.seq}.jsonl", ContentFile(content))
        return AuditExport.objects.create(
            first_seq=events[0].seq or 0,
            head_seq=head.seq or 0,
            head_hash=head.hash or "",
            events=len(events),
            file_name=name,
            sha256=hashlib.sha256(content).hexdigest(),
        )


@dataclass(frozen=True)
class ExportCheck:
    export_id: int | None
    ok: bool
    reason: str = ""


def audit_export_file_verify(content: bytes) -> tuple[int, str]:
    """Check a file's own chain; returns (head seq, head hash) or raises ValueError."""
    rows = [json.loads(line) for line in content.decode("utf-8").splitlines() if line.strip()]
    if len(rows) < 2 or "head_hash" not in rows[-1]:
        raise ValueError("no chain head line")
    manifest, events = rows[-1], rows[:-1]
    prev = events[0]["prev_hash"]
    for row in events:
        if row["prev_hash"] != prev:
            raise ValueError(f"event seq {row['seq']}: previous event missing or reordered")
        fields = {name: row[name] for name in HASHED_FIELDS}
        fields["created_at"] = datetime.fromisoformat(row["created_at"])
        if compute_hash(prev_hash=prev, fields=fields) != row["hash"]:
            raise ValueError(f"event seq {row['seq']}: content does not match its hash")
        prev = row["hash"]
    if manifest["head_hash"] != prev or manifest["head_seq"] != events[-1]["seq"]:
        raise ValueError("the chain head does not match the events")
    return manifest["head_seq"], manifest["head_hash"]


def audit_exports_verify() -> list[ExportCheck]:
    """Every recorded export: the file is there, matches its checksum and its own chain, and
    the database still holds the same event at the chain head."""
    checks = []
    storage = private_storage()
    for export in AuditExport.objects.order_by("head_seq"):
        try:
            with storage.open(export.file_name, "rb") as handle:
                content = handle.read()
        except FileNotFoundError:
            checks.append(ExportCheck(export.pk, False, f"file {export.file_name} is missing"))
            continue
        if hashlib.sha256(content).hexdigest() != export.sha256:
            checks.append(ExportCheck(export.pk, False, f"file {export.file_name} was changed (checksum)"))
            continue
        try:
            head_seq, head_hash = audit_export_file_verify(content)
        except ValueError as exc:
            checks.append(ExportCheck(export.pk, False, str(exc)))
            continue
        if (head_seq, head_hash) != (export.head_seq, export.head_hash):
            checks.append(ExportCheck(export.pk, False, "file head differs from the recorded head"))
            continue
        in_db = AuditEvent.objects.filter(seq=head_seq).values_list("hash", flat=True).first()
        if in_db != head_hash:
            checks.append(
                ExportCheck(export.pk, False, f"the database's event {head_seq} no longer has the exported hash")
            )
            continue
        checks.append(ExportCheck(export.pk, True))
    return checks
