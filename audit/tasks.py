import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="audit.tasks.audit_seal_task")
def audit_seal_task() -> int:
    from audit.services import audit_chain_seal

    return audit_chain_seal()


@shared_task(name="audit.tasks.audit_verify_chain_task")
def audit_verify_chain_task() -> dict[str, object]:
    from django.core.mail import mail_admins

    from audit.services import audit_chain_verify

    report = audit_chain_verify()
    if not report.ok:
        logger.error("audit chain broken at event %s: %s", report.broken_at, report.reason)
        mail_admins("Audit chain broken", f"First broken event: {report.broken_at} ({report.reason}).")
    elif report.unsealed:
        logger.error("%s audit events are still unsealed after 10 minutes: is Beat running?", report.unsealed)
    return {"checked": report.checked, "broken_at": report.broken_at, "unsealed": report.unsealed}


@shared_task(name="audit.tasks.audit_export_task", acks_late=True)
def audit_export_task() -> int | None:
    """Hourly: sealed audit events since the last export, to private storage with the chain head."""
    from audit.exports import audit_export_run

    export = audit_export_run()
    return export.head_seq if export else None
