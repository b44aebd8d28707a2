from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.admin import SimpleHistoryAdmin

from accounts.api_scopes import scope_choices
from accounts.models import APIKey, User
from accounts.services import api_key_create, api_key_revoke, api_key_rotate, two_factor_reset
from brands.admin_mixins import BrandScopedAdminMixin
from brands.models import StaffBrandAccess
from brands.scoping import brand_ids_for_user
from brands.services import staff_brand_grant, staff_brand_revoke
from core.admin_exports import export_csv, export_xlsx
from core.errors import ApplicationError


class StaffBrandAccessInline(admin.TabularInline):  # type: ignore[type-arg]
    model = StaffBrandAccess
    extra = 0
    autocomplete_fields = ["brand"]
    fields = ["brand", "granted_at"]
    readonly_fields = ["granted_at"]
    verbose_name = _("brand this person may see")


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, DjangoUserAdmin):  # type: ignore[type-arg]
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "two_factor", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups", "brand_access__brand"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["last_login", "date_joined"]
    inlines = [StaffBrandAccessInline]
    actions = ["reset_two_factor", export_csv, export_xlsx]
    export_fields = ["id", "email", "full_name", "is_staff", "is_active", "date_joined", "last_login"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("full_name", "preferred_language")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2", "is_staff", "groups")},
        ),
    )
    filter_horizontal = ("groups",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        # Staff of a brand see the staff who share one of their brands; only superusers see all.

        queryset = (
            super()
            .get_queryset(request)
            .annotate(has_two_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
        )
        allowed = brand_ids_for_user(request.user)
        if allowed is None:
            return queryset
        return queryset.filter(brand_access__brand_id__in=allowed).distinct()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser) or super().has_module_permission(request)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Brand access is granted and revoked through the services, which audit it.
        if formset.model is not StaffBrandAccess:
            super().save_formset(request, form, formset, change)
            return
        rows = formset.save(commit=False)
        try:
            for access in formset.deleted_objects:
                staff_brand_revoke(user=access.user, brand=access.brand, actor=request.user)  # type: ignore[arg-type]
            for access in rows:
                staff_brand_grant(user=form.instance, brand=access.brand, actor=request.user)  # type: ignore[arg-type]
        except ApplicationError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)

    @admin.display(boolean=True, description=_("2FA"), ordering="has_two_factor")
    def two_factor(self, obj: User) -> bool:
        return bool(getattr(obj, "has_two_factor", False))

    @admin.action(description=_("Reset two-factor authentication (lost device)"), permissions=["change"])
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        if not request.user.is_superuser:
            self.message_user(request, _("Only administrators can reset two-factor authentication."), messages.ERROR)
            return
        for user in queryset:
            two_factor_reset(user=user, actor=request.user)
        self.message_user(request, _("Two-factor authentication reset; they will enrol again at next sign-in."))


class APIKeyForm(forms.ModelForm):  # type: ignore[type-arg]
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=scope_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the key may do. Give each system only what it needs."),
    )

    class Meta:
        model = APIKey
        fields = ["brand", "name", "scopes", "expires_at", "rate_limit_per_minute"]


@admin.register(APIKey)
class APIKeyAdmin(BrandScopedAdminMixin):
    form = APIKeyForm
    list_display = ["name", "brand", "prefix", "scope_list", "expires_at", "last_used_at", "last_used_ip", "revoked_at"]
    list_filter = ["brand", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    fields = [
        "brand",
        "name",
        "scopes",
        "expires_at",
        "rate_limit_per_minute",
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "last_used_ip",
        "rotated_to",
        "revoked_at",
    ]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "last_used_ip", "rotated_to", "revoked_at"]
    actions = ["rotate", "revoke", export_csv]
    export_fields = [
        "id",
        "brand__slug",
        "name",
        "prefix",
        "scopes",
        "expires_at",
        "created_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
    ]

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: APIKey) -> str:
        return ", ".join(obj.scopes or [])

    def get_readonly_fields(self, request: HttpRequest, obj: APIKey | None = None) -> Any:
        # A key's powers are fixed once its secret exists: rotate or create another to change them.
        if obj:
            return [*self.readonly_fields, "brand", "name", "scopes", "expires_at", "rate_limit_per_minute"]
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return
        self.check_brand_allowed(request, obj)
        try:
            created, secret = api_key_create(
                brand=obj.brand,
                name=obj.name,
                created_by=request.user,  # type: ignore[arg-type]
                scopes=form.cleaned_data["scopes"],
                expires_at=obj.expires_at,
                rate_limit_per_minute=obj.rate_limit_per_minute,
            )
        except ApplicationError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
            return
        obj.pk = created.pk
        self.message_user(
            request,
            _("Copy the key now, it will not be shown again: %(key)s") % {"key": secret},
            messages.WARNING,
        )

    def has_delete_permission(self, request: HttpRequest, obj: APIKey | None = None) -> bool:
        return False

    @admin.action(
        description=_("Rotate selected keys (the old ones keep working for the overlap period)"), permissions=["change"]
    )
    def rotate(self, request: HttpRequest, queryset: QuerySet[APIKey]) -> None:
        for api_key in queryset:
            try:
                new, secret = api_key_rotate(api_key=api_key, actor=request.user)  # type: ignore[arg-type]
            except ApplicationError as exc:
                self.message_user(request, f"{api_key}: {exc.message}", messages.ERROR)
                continue
            self.message_user(
                request,
                _(
                    "%(name)s rotated; copy the new key now, it will not be shown again: %(key)s. The old key works until %(until)s."
                )
                % {
                    "name": api_key.name,
                    "key": secret,
                    "until": date_format(timezone.localtime(new.rotated_from.expires_at), "DATETIME_FORMAT"),
                },
                messages.WARNING,
            )

    @admin.action(description=_("Revoke selected keys"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[APIKey]) -> None:
        for api_key in queryset:
            api_key_revoke(api_key=api_key, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, _("Keys revoked."))
