import logging

from celery import shared_task
from django.core.mail import mail_admins

from audit.exports import audit_export_run
from audit.integrity import audit_integrity_run
from audit.services import audit_chain_seal

logger = logging.getLogger(__name__)


@shared_task(name="audit.tasks.audit_seal_task")
def audit_seal_task() -> int:
    return audit_chain_seal()


@shared_task(name="audit.tasks.audit_verify_chain_task")
def audit_verify_chain_task() -> dict[str, object]:
    """Daily: the chain and the exports, recorded for the health panel (alert AuditChainBroken)."""

    report, exports = audit_integrity_run()
    if not report.ok:
        logger.error("audit chain broken at event %s: %s", report.broken_at, report.reason)
        mail_admins("Audit chain broken", f"First broken event: {report.broken_at} ({report.reason}).")
    elif report.unsealed:
        logger.error("%s audit events are still unsealed after 10 minutes: is Beat running?", report.unsealed)
    broken_exports = [check.export_id for check in exports if not check.ok]
    if broken_exports:
        logger.error("audit exports do not match the chain: %s", broken_exports)
    return {
        "checked": report.checked,
        "broken_at": report.broken_at,
        "unsealed": report.unsealed,
        "broken_exports": broken_exports,
    }


@shared_task(name="audit.tasks.audit_export_task", acks_late=True)
def audit_export_task() -> int | None:
    """Hourly: sealed audit events since the last export, to private storage with the chain head."""

    export = audit_export_run()
    return export.head_seq if export else None
