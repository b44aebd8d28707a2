"""Admin form for a brand: VTEX credentials are write-only."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from brands.models import Brand


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

    class Meta:
        model = Brand
        fields = [
            "name",
            "slug",
            "is_active",
            "vtex_account",
            "vtex_environment",
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
