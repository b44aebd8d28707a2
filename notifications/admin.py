from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join, linebreaks
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import audit_record
from brands.admin_mixins import BrandScopedAdminMixin
from core.admin_exports import export_csv
from notifications.email_texts import email_text_default, email_text_preview
from notifications.models import EmailText, Notification
from notifications.placeholders import EVENTS, placeholders_for


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


@admin.register(EmailText)
class EmailTextAdmin(BrandScopedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Managers word the brand's notification emails per language, starting from the shipped
    text and checking a preview filled with sample values; without a text the shipped one goes."""

    list_display = ("event", "language", "brand", "subject", "is_active", "updated_at")
    list_filter = ("event", "language", "is_active", "brand")
    search_fields = ("subject", "body")
    list_select_related = ("brand",)
    fields = ("brand", "event", "language", "is_active", "placeholders", "subject", "body", "shipped_text", "preview")
    readonly_fields = ("placeholders", "shipped_text", "preview")
    actions = [export_csv]
    export_fields = ["id", "brand__slug", "event", "language", "is_active", "subject", "body", "updated_at"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = None
        if change:
            stored = EmailText.objects.get(pk=obj.pk)
            before = {"subject": stored.subject, "body": stored.body, "is_active": stored.is_active}
        super().save_model(request, obj, form, change)
        audit_record(
            action="notifications.email_text_saved",
            target=obj,
            actor=request.user,
            before=before,
            after={"subject": obj.subject, "body": obj.body, "is_active": obj.is_active},
        )

    @admin.display(description=gettext_lazy("placeholders"))
    def placeholders(self, obj: EmailText | None) -> str:
        if obj is None or not obj.pk:
            rows = [(str(label), ", ".join(f"{{{n}}}" for n in names)) for label, names in EVENTS.values()]
            return format_html_join("", "<div><strong>{}</strong>: <code>{}</code></div>", rows)
        return format_html("<code>{}</code>", ", ".join(f"{{{n}}}" for n in placeholders_for(obj.event)))

    @admin.display(description=gettext_lazy("shipped text"))
    def shipped_text(self, obj: EmailText | None) -> str:
        if obj is None or not obj.pk:
            return _("Saved texts show the shipped wording here, to compare.")
        message = email_text_default(brand=obj.brand, event=obj.event, language=obj.language)
        return format_html(
            '<div data-testid="shipped-text"><strong>{}</strong><br>{}</div>', message.title, message.body
        )

    @admin.display(description=gettext_lazy("preview"))
    def preview(self, obj: EmailText | None) -> str:
        if obj is None or not obj.pk:
            return _("Save and continue editing to see the email filled with sample values.")
        message = email_text_preview(text=obj)
        return format_html(
            '<div data-testid="email-preview" style="border-left:4px solid {};padding-left:8px;">'
            "<strong>{}</strong><br>{}</div>",
            obj.brand.primary_color,
            message.title,
            linebreaks(message.body, autoescape=True),
        )
