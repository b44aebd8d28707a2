"""Back-office pages of the tenant: brands, and (admin_access) the people and API keys that act
for them."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from simple_history.admin import SimpleHistoryAdmin

from brands import admin_access  # noqa: F401 - registers the user and API key admins
from brands.admin_mixins import BrandScopedAdminMixin
from brands.forms import BrandAdminForm
from brands.models import Brand, CurrencyRate
from brands.services import brand_rotate_hook_token, brand_save, currency_rate_delete, currency_rate_set
from core.admin_actions import run_each
from core.admin_exports import export_csv, export_xlsx


@admin.register(Brand)
class BrandAdmin(BrandScopedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    form = BrandAdminForm
    list_display = [
        "name",
        "slug",
        "vtex_account",
        "vtex_environment",
        "country",
        "currency",
        "credentials",
        "is_active",
    ]
    list_filter = ["is_active", "country", "currency", "vtex_environment"]
    search_fields = ["name", "slug", "vtex_account"]
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ["hook_token_status"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "is_active"]}),
        (
            _("VTEX"),
            {
                "fields": [
                    "vtex_account",
                    "vtex_environment",
                    "vtex_data_protection_plus",
                    "new_vtex_app_key",
                    "new_vtex_app_token",
                    "hook_token_status",
                ]
            },
        ),
        (_("Locale"), {"fields": ["currency", "country", "time_zone"]}),
        (_("Portal"), {"fields": ["store_domains", "logo", "primary_color", "secondary_color"]}),
        (_("Payouts"), {"fields": ["min_withdrawal_cents", "default_hold_days"]}),
        (_("Missing-order claims"), {"fields": ["claim_deadline_days"]}),
    ]
    actions = ["rotate_hook_token", export_csv, export_xlsx]
    export_fields = ["id", "slug", "name", "vtex_account", "country", "currency", "time_zone", "is_active"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("VTEX credentials"), boolean=True)
    def credentials(self, obj: Brand) -> bool:
        return bool(obj.vtex_app_key and obj.vtex_app_token)

    @admin.display(description=_("hook token"))
    def hook_token_status(self, obj: Brand) -> str:
        if not obj.pk:
            return str(_("Generated when the brand is saved."))
        text = str(_("Set (never shown)."))
        if obj.hook_token_rotated_at:
            text += " " + str(_("Rotated %(when)s.")) % {"when": timezone.localtime(obj.hook_token_rotated_at, obj.tz)}
        if obj.previous_hook_token_expires_at and obj.previous_hook_token_expires_at > timezone.now():
            text += " " + str(_("The previous token works until %(when)s.")) % {
                "when": timezone.localtime(obj.previous_hook_token_expires_at, obj.tz)
            }
        return text

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self.check_brand_allowed(request, obj)
        brand_save(
            brand=obj,
            changed_fields=form.changed_data,
            app_key=form.cleaned_data.get("new_vtex_app_key") or None,
            app_token=form.cleaned_data.get("new_vtex_app_token") or None,
            actor=request.user,
        )

    @admin.action(description=_("Rotate the hook token (the old one works for a grace period)"), permissions=["change"])
    def rotate_hook_token(self, request: HttpRequest, queryset: QuerySet[Brand]) -> None:
        def rotate(brand: Brand) -> None:
            rotated = brand_rotate_hook_token(brand=brand, actor=request.user)
            # Shown once, like an API key: the brand's VTEX hook configuration and its
            # server-to-server conversion postbacks need it.
            self.message_user(
                request,
                _("%(brand)s: copy the new hook token now, it will not be shown again: %(token)s")
                % {"brand": rotated.name, "token": rotated.hook_token},
                messages.WARNING,
            )

        run_each(
            self,
            request,
            queryset,
            rotate,
            singular=gettext_noop("%(count)d brand's hook token rotated."),
            plural=gettext_noop("%(count)d brands' hook tokens rotated."),
        )


class CurrencyRateForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = CurrencyRate
        fields = ["brand", "currency", "rate"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        brand, currency = data.get("brand"), data.get("currency")
        if brand is not None and currency == brand.currency:
            raise forms.ValidationError(
                _("%(currency)s is the brand's own currency: it needs no rate.") % {"currency": currency}
            )
        return data


@admin.register(CurrencyRate)
class CurrencyRateAdmin(BrandScopedAdminMixin):
    """Rates for orders a brand's VTEX account reports in another currency; without one such
    orders are held and pay nothing (docs/orders.md)."""

    form = CurrencyRateForm
    list_display = ["brand", "currency", "rate", "brand_currency", "set_by", "updated_at"]
    list_filter = ["brand", "currency"]
    list_select_related = ["brand", "set_by"]

    @admin.display(description=_("brand currency"))
    def brand_currency(self, obj: CurrencyRate) -> str:
        return obj.brand.currency

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A rate row is one (brand, currency); changing either would be another rate.
        return ["brand", "currency"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        self.check_brand_allowed(request, obj)
        saved = currency_rate_set(brand=obj.brand, currency=obj.currency, rate=obj.rate, actor=request.user)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.check_brand_allowed(request, obj)
        currency_rate_delete(rate=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CurrencyRate]) -> None:
        for rate in queryset:
            self.delete_model(request, rate)
