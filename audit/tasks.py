import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="audit.tasks.audit_verify_chain_task")
def audit_verify_chain_task() -> dict[str, object]:
    from django.core.mail import mail_admins

    from audit.services import audit_chain_verify

    report = audit_chain_verify()
    if not report.ok:
        logger.error("audit chain broken at event %s: %s", report.broken_at, report.reason)
        mail_admins("Audit chain broken", f"First broken event: {report.broken_at} ({report.reason}).")
    return {"checked": report.checked, "broken_at": report.broken_at}
