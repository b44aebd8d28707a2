"""Admin forms for brands and campaigns: write-only secrets, and VTEX id lists typed as text."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from campaigns.models import Brand, Campaign, CampaignEligibility, CommissionRule, parse_vtex_ids
from core.errors import ApplicationError


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


class VTEXIdsFormMixin(forms.ModelForm):  # type: ignore[type-arg]
    """Shows the `ids` JSON list as "18, 25, 31" and reads it back with the same validation the
    model uses, naming the bad id."""

    ids = forms.CharField(
        label=_("VTEX ids"),
        required=False,
        widget=forms.TextInput(attrs={"size": 40, "placeholder": "18, 25, 31"}),
        help_text=_("Comma-separated VTEX ids, e.g. 18, 25."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and isinstance(self.instance.ids, list):
            self.initial["ids"] = ", ".join(self.instance.ids)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        dimension = cleaned.get("dimension") or "sku"
        try:
            cleaned["ids"] = parse_vtex_ids(cleaned.get("ids") or "", dimension=dimension)
        except ValidationError as exc:
            self.add_error("ids", exc)
        return cleaned


class CommissionRuleForm(VTEXIdsFormMixin):
    class Meta:
        model = CommissionRule
        fields = [
            "priority",
            "name",
            "variant",
            "kind",
            "rate_percent",
            "amount_cents",
            "dimension",
            "ids",
            "cap_per_line_cents",
            "cap_per_order_cents",
        ]


class CampaignEligibilityForm(VTEXIdsFormMixin):
    class Meta:
        model = CampaignEligibility
        fields = ["mode", "dimension", "ids"]


class VariantInlineFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        super().clean()
        from campaigns.services import campaign_variant_weights_validate

        weights = [
            form.cleaned_data["weight"]
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("weight") is not None
        ]
        try:
            campaign_variant_weights_validate(weights)
        except ApplicationError as exc:
            raise ValidationError(str(exc)) from exc


class CampaignAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Campaign
        fields = [
            "brand",
            "name",
            "slug",
            "description",
            "is_template",
            "starts_at",
            "ends_at",
            "attribution_window_days",
            "hold_days",
            "order_cap_cents",
            "utm_source",
            "utm_campaign",
            "vtex_promotion_id",
            "discount_percent",
            "code_max_usage",
            "code_max_items_per_client",
            "open_to_all",
            "tier_metric",
            "tier_period",
        ]


class CampaignFromTemplateForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=160)
    slug = forms.SlugField(
        label=_("slug"), max_length=80, required=False, help_text=_("Leave empty to derive it from the name.")
    )
    starts_at = forms.SplitDateTimeField(label=_("starts at"), help_text=_("In the brand's time zone."))
    ends_at = forms.SplitDateTimeField(label=_("ends at"), required=False, help_text=_("In the brand's time zone."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from django.contrib.admin.widgets import AdminSplitDateTime

        self.fields["starts_at"].widget = AdminSplitDateTime()
        self.fields["ends_at"].widget = AdminSplitDateTime()
