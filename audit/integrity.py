"""The daily verification of the audit log, recorded for the health panel and the alerts."""

from collections.abc import Callable

from audit.exports import ExportCheck, audit_exports_verify
from audit.services import ChainReport, audit_chain_verify
from core.integrity import AUDIT_CHAIN, AUDIT_EXPORTS, integrity_check_record


def audit_integrity_run(
    *, batch_size: int = 2000, progress: Callable[[int], None] | None = None
) -> tuple[ChainReport, list[ExportCheck]]:
    """Verify the hash chain and every export against it; record both outcomes
    (`mgm_integrity_check_ok{check="audit_chain"|"audit_exports"}`)."""
    report = audit_chain_verify(batch_size=batch_size, progress=progress)
    integrity_check_record(
        name=AUDIT_CHAIN, problems=[] if report.ok else [f"event {report.broken_at}: {report.reason}"]
    )
    exports = audit_exports_verify()
    integrity_check_record(
        name=AUDIT_EXPORTS, problems=[f"export {check.export_id}: {check.reason}" for check in exports if not check.ok]
    )
    return report, exports
