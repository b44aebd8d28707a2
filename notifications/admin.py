from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from brands.admin_mixins import BrandScopedAdminMixin
from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(BrandScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: what each influencer was told and whether it was emailed (support answers
    "I was never told")."""

    list_display = ("created_at", "influencer", "brand", "event", "email", "read_at")
    list_filter = ("kind", "email")
    list_select_related = ("influencer", "brand")
    search_fields = ("influencer__display_name", "influencer__user__email", "event")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
