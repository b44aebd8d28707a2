"""Admin forms for brands and campaigns: write-only secrets, and VTEX id lists typed as text."""

from typing import Any

from django import forms
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign, CampaignEligibility, CommissionRule, ReferralProgram, parse_vtex_ids
from campaigns.services.variants import campaign_variant_weights_validate
from core.errors import ApplicationError


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

        self.fields["starts_at"].widget = AdminSplitDateTime()
        self.fields["ends_at"].widget = AdminSplitDateTime()


class ReferralProgramForm(forms.ModelForm):  # type: ignore[type-arg]
    """The referral program. Its amounts are the model's money fields, which the back office
    shows and reads in major units of the campaign brand's currency (core.admin_money)."""

    class Meta:
        model = ReferralProgram
        fields = [
            "campaign",
            "enabled",
            "rate_percent",
            "months",
            "bonus_cents",
            "bonus_threshold_cents",
            "second_level_rate_percent",
            "second_level_cap_cents",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("second_level_rate_percent") and not cleaned.get("second_level_cap_cents"):
            self.add_error("second_level_cap_cents", _("Set a cap for the second level."))
        return cleaned
