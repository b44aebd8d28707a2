from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin_mixins import BrandScopedAdminMixin
from campaigns.models import Brand, Campaign
from core.admin_exports import export_csv, export_xlsx


@admin.register(Brand)
class BrandAdmin(BrandScopedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    brand_field = "pk"
    list_display = ["name", "slug", "vtex_account", "country", "currency", "is_active"]
    list_filter = ["is_active", "country", "currency"]
    search_fields = ["name", "slug", "vtex_account"]
    prepopulated_fields = {"slug": ("name",)}
    exclude = ["vtex_app_key", "vtex_app_token", "hook_token"]
    actions = [export_csv, export_xlsx]
    export_fields = ["id", "slug", "name", "vtex_account", "country", "currency", "time_zone", "is_active"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(BrandScopedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = ["name", "brand", "status", "starts_at", "ends_at", "attribution_window_days", "is_template"]
    list_filter = ["brand", "status", "is_template"]
    search_fields = ["name", "slug"]
    list_select_related = ["brand"]
    autocomplete_fields = ["brand"]
    prepopulated_fields = {"slug": ("name",)}
    date_hierarchy = "starts_at"
    actions = [export_csv, export_xlsx]
    export_fields = ["id", "brand__slug", "name", "status", "starts_at", "ends_at", "attribution_window_days"]
