"""The periodic audit export: sealed events to private storage with the chain head, checked by
`audit_verify` (file checksum, the file's own chain, the database's event at the head)."""

import hashlib
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.exports import audit_export_file_verify, audit_export_run, audit_exports_verify
from audit.models import AuditEvent, AuditExport
from audit.services import audit_record
from audit.tasks import audit_export_task
from core.storage import private_storage

pytestmark = pytest.mark.django_db


def _events(n: int, start: int = 0) -> None:
    for index in range(start, start + n):
        audit_record(action="test.exported", before={"i": index}, after={"ñ": "ü", "n": index})


def test_each_export_continues_where_the_last_one_ended_and_verifies():
    _events(5)
    first = audit_export_run()
    assert first is not None
    assert (first.first_seq, first.head_seq, first.events) == (1, 5, 5)
    assert first.head_hash == AuditEvent.objects.get(seq=5).hash
    assert audit_export_run() is None  # nothing new
    _events(3, start=5)
    assert audit_export_task() == 8
    second = AuditExport.objects.get(head_seq=8)
    assert second.first_seq == 6
    with private_storage().open(second.file_name, "rb") as handle:
        assert audit_export_file_verify(handle.read()) == (8, second.head_hash)
    assert all(check.ok for check in audit_exports_verify())
    call_command("audit_verify")


def test_a_changed_export_file_is_caught():
    _events(3)
    export = audit_export_run()
    storage = private_storage()
    with storage.open(export.file_name, "rb") as handle:
        lines = handle.read().decode().splitlines()
    row = json.loads(lines[1])
    row["after"]["n"] = 999
    lines[1] = json.dumps(row, sort_keys=True)
    content = ("\n".join(lines) + "\n").encode()
    with pytest.raises(ValueError, match="content does not match its hash"):
        audit_export_file_verify(content)
    # Written back in place, with the checksum recomputed so only the chain can tell.
    storage.delete(export.file_name)
    storage.save(export.file_name, __import__("io").BytesIO(content))
    AuditExport.objects.filter(pk=export.pk).update(sha256=hashlib.sha256(content).hexdigest())
    [check] = audit_exports_verify()
    assert not check.ok
    with pytest.raises(CommandError, match="Audit exports do not match"):
        call_command("audit_verify")


def test_a_database_rewritten_after_the_export_is_caught():
    _events(3)
    export = audit_export_run()
    # Someone with the database's owner rights rewrites the log (triggers off) after the export.

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            AuditEvent.objects.filter(seq=export.head_seq).update(hash="f" * 64)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
    [check] = audit_exports_verify()
    assert not check.ok
    assert "no longer has the exported hash" in check.reason


def test_audit_verify_checks_a_copy_of_an_export_file(tmp_path):
    _events(2)
    export = audit_export_run()
    copy = tmp_path / "copy.jsonl"
    with private_storage().open(export.file_name, "rb") as handle:
        copy.write_bytes(handle.read())
    call_command("audit_verify", export_file=str(copy))
    copy.write_text(copy.read_text().replace('"n": 1', '"n": 7'))
    with pytest.raises(CommandError, match="Export file does not verify"):
        call_command("audit_verify", export_file=str(copy))
