"""Every row lock the audit context takes (core/locks.py says how and why)."""

from audit.models import AuditExport
from core.locks import lock_latest


def audit_export_head_lock() -> AuditExport | None:
    """The latest export (highest head_seq): one export run at a time continues the chain."""
    return lock_latest(AuditExport.objects.all(), by="head_seq")
