from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from codes.models import Code


class CodeAddForm(forms.ModelForm):  # type: ignore[type-arg]
    """A manager issues a code by hand: the campaign, the influencer, and optionally the text."""

    text = forms.CharField(
        label=_("code"),
        required=False,
        max_length=30,
        help_text=_("Leave empty to generate one from the influencer's handle. 4–30 characters: A–Z, 0–9, - and _."),
    )

    class Meta:
        model = Code
        fields = ["campaign", "influencer", "text"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = self.fields["campaign"].queryset.filter(is_template=False)  # type: ignore[attr-defined]

    def _post_clean(self) -> None:
        # The service builds and validates the code (brand, text, uniqueness); the model form
        # would otherwise validate a half-built instance.
        pass


class CodeChangeForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Code
        fields = ["discount_percent", "max_usage", "max_items_per_client", "expiration_interval_per_use"]
