from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (sent to the influencer)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class MarkPaidForm(forms.Form):
    transfer_reference = forms.CharField(label=_("Transfer reference"), max_length=120)
    proof = forms.FileField(label=_("Proof of transfer (PDF, PNG or JPEG)"))


class MarkFailedForm(forms.Form):
    reason = forms.CharField(
        label=_("What the bank answered"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class BatchCreateNowForm(forms.Form):
    brand: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, label=_("Brand"))  # type: ignore[arg-type,type-arg]

    def __init__(self, *args: Any, brands: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = brands  # type: ignore[attr-defined]
        if brands.count() == 1:
            self.fields["brand"].initial = brands.first()
