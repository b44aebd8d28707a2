"""Back office for outgoing webhooks: brands' endpoints (secret shown once, rotation with
overlap, on/off), and the delivery log with response codes and times, replayable."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from brands.admin_mixins import BrandScopedAdminMixin
from core.errors import ApplicationError
from webhooks.event_types import event_type_choices
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage
from webhooks.services import (
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_secret_rotate,
    webhook_endpoint_update,
)


class WebhookEndpointForm(forms.ModelForm):  # type: ignore[type-arg]
    event_types = forms.MultipleChoiceField(
        label=_("event types"), choices=event_type_choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["brand", "url", "description", "event_types", "is_active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(BrandScopedAdminMixin):
    form = WebhookEndpointForm
    list_display = ["url", "brand", "is_active", "failing_since", "disabled_reason", "created_at"]
    list_filter = ["brand", "is_active"]
    search_fields = ["url", "description"]
    readonly_fields = ["failing_since", "disabled_at", "disabled_reason", "previous_secret_expires_at", "created_at"]
    actions = ["rotate_secret", "turn_on", "turn_off"]

    def get_readonly_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> Any:
        return [*self.readonly_fields, "brand"] if obj else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> bool:
        return False  # turn it off instead: its delivery log stays

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self.check_brand_allowed(request, obj)
        data = form.cleaned_data
        try:
            if change:
                webhook_endpoint_update(
                    endpoint=obj,
                    url=data["url"],
                    event_types=data["event_types"],
                    description=data.get("description", ""),
                    is_active=data.get("is_active"),
                    actor=request.user,
                )
                return
            created, secret = webhook_endpoint_create(
                brand=obj.brand,
                url=data["url"],
                event_types=data["event_types"],
                description=data.get("description", ""),
                actor=request.user,
            )
        except ApplicationError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
            return
        obj.pk = created.pk
        self.message_user(
            request,
            _("Copy the signing secret now, it will not be shown again: %(secret)s") % {"secret": secret},
            messages.WARNING,
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # no relations; the service saved everything

    @admin.action(
        description=_("Rotate the signing secret (the old one keeps signing for the overlap)"), permissions=["change"]
    )
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            secret = webhook_endpoint_secret_rotate(endpoint=endpoint, actor=request.user)
            self.message_user(
                request,
                _("%(url)s: copy the new signing secret now, it will not be shown again: %(secret)s")
                % {"url": endpoint.url, "secret": secret},
                messages.WARNING,
            )

    @admin.action(description=_("Turn on (deliveries resume)"), permissions=["change"])
    def turn_on(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            webhook_endpoint_update(endpoint=endpoint, is_active=True, actor=request.user)
        self.message_user(request, _("Endpoints turned on."))

    @admin.action(description=_("Turn off"), permissions=["change"])
    def turn_off(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            webhook_endpoint_update(endpoint=endpoint, is_active=False, actor=request.user)
        self.message_user(request, _("Endpoints turned off."))


class WebhookAttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("attempted_at", "response_status", "duration_ms", "error", "response_excerpt")
    readonly_fields = ("attempted_at", "response_status", "duration_ms", "error", "response_excerpt")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(BrandScopedAdminMixin):
    list_display = [
        "message",
        "endpoint",
        "status",
        "attempts",
        "last_response_status",
        "last_duration_ms",
        "last_attempt_at",
        "next_attempt_at",
    ]
    list_filter = ["status", "message__event_type", "endpoint__brand"]
    list_select_related = ["message", "endpoint"]
    search_fields = ["message__id", "endpoint__url"]
    readonly_fields = (*(f.name for f in WebhookDelivery._meta.fields), "payload")
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    @admin.display(description=_("payload"))
    def payload(self, obj: WebhookDelivery) -> Any:
        return obj.message.payload

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Redeliver now"), permissions=["view"])
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        done = 0
        for delivery in queryset:
            try:
                webhook_delivery_replay(delivery=delivery, actor=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{delivery}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, _("%(count)s deliveries queued again.") % {"count": done})


@admin.register(WebhookMessage)
class WebhookMessageAdmin(BrandScopedAdminMixin):
    list_display = ["id", "event_type", "brand", "created_at"]
    list_filter = ["event_type", "brand"]
    search_fields = ["id"]
    readonly_fields = ["id", "brand", "event_type", "payload", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
