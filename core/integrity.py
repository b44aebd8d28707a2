"""Recording the outcome of a scheduled verification, for the health panel and the alerts."""

from django.utils import timezone

from core.models import IntegrityCheck

# The verifications the platform runs, each on its own schedule (settings CELERY_BEAT_SCHEDULE).
LEDGER = "ledger"
AUDIT_CHAIN = "audit_chain"
AUDIT_EXPORTS = "audit_exports"


def integrity_check_record(*, name: str, problems: list[str]) -> IntegrityCheck:
    """Store that `name` ran now and found `problems` (empty: it passed)."""
    detail = "\n".join(problems[:20])
    if len(problems) > 20:
        detail += f"\n… {len(problems) - 20} more"
    check, _created = IntegrityCheck.objects.update_or_create(
        name=name,
        defaults={"ok": not problems, "problems": len(problems), "detail": detail, "checked_at": timezone.now()},
    )
    return check
