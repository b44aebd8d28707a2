from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEvent, AuditExport
from brands.admin_mixins import BrandScopedAdminMixin
from core.admin_actions import ReadOnlyAdminMixin
from core.admin_exports import export_csv, export_xlsx


@admin.register(AuditEvent)
class AuditEventAdmin(BrandScopedAdminMixin):
    """Read-only: the audit log is appended to by services, never edited by people."""

    list_display = ["created_at", "actor_repr", "action", "target_type", "target_repr", "brand", "ip"]
    list_filter = ["action", "target_type", "brand", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["actor_repr", "action", "target_repr", "target_id", "request_id", "ip"]
    date_hierarchy = "created_at"
    list_select_related = ["brand"]
    actions = [export_csv, export_xlsx]
    export_fields = [
        "id",
        "created_at",
        "actor_repr",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "brand_id",
        "before",
        "after",
        "ip",
        "request_id",
        "hash",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditExport)
class AuditExportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Periodic exports of the log (superusers only: the files hold every brand's events)."""

    list_display = ["created_at", "first_seq", "head_seq", "head_hash", "events", "file_name"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)
