from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core import events


def _on_export_downloaded(*, actor: Any, model: str, fmt: str, rows: int) -> None:
    from audit.services import audit_record  # noqa: PLC0415 apps.py ready(): loads models, needs the app registry

    audit_record(action="export.downloaded", actor=actor, after={"model": model, "format": fmt, "rows": rows})


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        # Exports leave the platform with people's data: every download is on the record.
        events.subscribe("export.downloaded", _on_export_downloaded)
