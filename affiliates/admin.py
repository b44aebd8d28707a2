from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin_mixins import BrandScopedAdminMixin
from affiliates.models import Influencer, Membership
from core.admin_exports import export_csv, export_xlsx


@admin.register(Influencer)
class InfluencerAdmin(BrandScopedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    brand_field = "memberships__brand"
    list_display = ["display_name", "handle", "country", "created_at"]
    list_filter = ["country"]
    search_fields = ["display_name", "handle", "user__email"]
    raw_id_fields = ["user"]
    actions = [export_csv, export_xlsx]
    export_fields = ["id", "display_name", "handle", "country", "user__email", "created_at"]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).distinct()


@admin.register(Membership)
class MembershipAdmin(BrandScopedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = ["influencer", "brand", "status", "status_changed_at", "created_at"]
    list_filter = ["brand", "status"]
    search_fields = ["influencer__display_name", "influencer__user__email"]
    list_select_related = ["influencer", "brand"]
    autocomplete_fields = ["brand"]
    raw_id_fields = ["influencer"]
    readonly_fields = ["status", "status_changed_at", "status_reason"]
    actions = [export_csv, export_xlsx]
    export_fields = ["id", "influencer__display_name", "brand__slug", "status", "status_changed_at", "created_at"]
