"""Admin form for a brand: VTEX credentials are write-only."""

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from brands.hosts import store_domains_clean
from brands.models import Brand


class StoreDomainsField(forms.CharField):
    """The store's hosts, one per line (a pasted address keeps only its host)."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "www.example.com\nshop.example.com"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(str(host) for host in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list):
            return store_domains_clean([str(v) for v in value])
        text = super().to_python(value) or ""
        if text.lstrip().startswith("["):
            # The JSON list the field used to be edited as (and what an export gives back).
            try:
                entries = json.loads(text)
            except ValueError:
                entries = None
            if isinstance(entries, list):
                return store_domains_clean([str(entry) for entry in entries])
        return store_domains_clean(text.replace(",", "\n").splitlines())

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class BrandAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """VTEX app key and token are write-only: the inputs are always empty, and leaving them
    empty keeps what is stored."""

    new_vtex_app_key = forms.CharField(
        label=_("VTEX app key"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    new_vtex_app_token = forms.CharField(
        label=_("VTEX app token"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    store_domains = StoreDomainsField(
        label=_("store domains"),
        required=False,
        help_text=_("One host per line, e.g. www.example.com. Tracked links may only send people to these hosts."),
    )

    class Meta:
        model = Brand
        widgets = {
            "primary_color": forms.TextInput(attrs={"type": "color"}),
            "secondary_color": forms.TextInput(attrs={"type": "color"}),
        }
        fields = [
            "name",
            "slug",
            "is_active",
            "vtex_account",
            "vtex_environment",
            "vtex_data_protection_plus",
            "currency",
            "country",
            "time_zone",
            "store_domains",
            "logo",
            "primary_color",
            "secondary_color",
            "min_withdrawal_cents",
            "default_hold_days",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, stored in (("new_vtex_app_key", "vtex_app_key"), ("new_vtex_app_token", "vtex_app_token")):
            has_value = bool(self.instance.pk and getattr(self.instance, stored))
            self.fields[name].help_text = (
                _("Stored and hidden. Leave empty to keep it; type a new one to replace it.")
                if has_value
                else _("Not set yet. VTEX calls for this brand fail until it is.")
            )
