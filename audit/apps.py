from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _on_export_downloaded(*, actor: Any, model: str, fmt: str, rows: int) -> None:
    from audit.services import audit_record

    audit_record(action="export.downloaded", actor=actor, after={"model": model, "format": fmt, "rows": rows})


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from core import events

        # Exports leave the platform with people's data: every download is on the record.
        events.subscribe("export.downloaded", _on_export_downloaded)
