"""Forms of the influencer portal. Each declares exactly the fields a person may send: anything
else in the request is ignored (no mass assignment)."""

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from affiliates.forms import document_type_choices
from affiliates.models import Influencer, PayoutAccount
from core.errors import ApplicationError
from core.money import format_typed, typed_amount_normalize
from portal.selectors import DEFAULT_PERIOD, PERIOD_CHOICES


def apply_error(form: forms.Form, exc: ApplicationError) -> None:
    """Put a service's refusal on the field it names, or at the top of the form."""
    field = exc.extra.get("field")
    form.add_error(field if field in form.fields else None, str(exc.message))


class PeriodForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, initial=DEFAULT_PERIOD, required=False)


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Name to show"), max_length=120)
    phone = forms.CharField(label=_("Mobile phone"), max_length=24)
    instagram = forms.CharField(label=_("Instagram"), max_length=60, required=False)
    tiktok = forms.CharField(label=_("TikTok"), max_length=60, required=False)
    youtube = forms.CharField(label=_("YouTube"), max_length=60, required=False)
    audience_size = forms.IntegerField(label=_("Total audience"), min_value=0, max_value=2_000_000_000)
    fiscal_regime = forms.CharField(
        label=_("Tax regime"),
        max_length=40,
        required=False,
        help_text=_("Tax regime for withholdings, e.g. simplified regime"),
    )
    preferred_language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    @classmethod
    def initial_for(cls, influencer: Influencer) -> dict[str, Any]:
        return {
            "display_name": influencer.display_name,
            "phone": influencer.phone,
            "instagram": influencer.instagram,
            "tiktok": influencer.tiktok,
            "youtube": influencer.youtube,
            "audience_size": influencer.audience_size,
            "fiscal_regime": influencer.fiscal_regime,
            "preferred_language": influencer.user.preferred_language,
        }


class PayoutForm(forms.Form):
    account_holder = forms.CharField(label=_("Account holder"), max_length=200)
    holder_document_type = forms.ChoiceField(
        label=_("Holder's document type"), choices=document_type_choices, required=False
    )
    holder_document_number = forms.CharField(label=_("Holder's document number"), max_length=30, required=False)
    bank_name = forms.CharField(label=_("Bank or wallet"), max_length=120)
    bank_code = forms.CharField(label=_("Bank code (optional)"), max_length=20, required=False)
    account_type = forms.ChoiceField(label=_("Account type"), choices=PayoutAccount.AccountType.choices)
    account_number = forms.CharField(
        label=_("Account number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    key_type = forms.ChoiceField(
        label=_("Transfer key type"),
        choices=PayoutAccount.KeyType.choices,
        required=False,
        help_text=_("PIX in Brazil, CLABE in Mexico, CBU/CVU in Argentina, CCI in Peru."),
    )
    transfer_key = forms.CharField(
        label=_("Transfer key"), max_length=80, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )


class WithdrawalRequestForm(forms.Form):
    """Shape only; the amount rules (decimals, minimum, available) live in the service. The
    amount is typed in the reader's number format ("55.000,00" in es/pt, "55,000.00" in en)."""

    amount = forms.CharField(
        label=_("Amount"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    all_available = forms.BooleanField(label=_("Withdraw everything available"), required=False)

    def __init__(self, *args: Any, brand: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An example a person may type as is: the minimum, in their number format.
        example = format_typed(max(brand.min_withdrawal_cents, 100), brand.currency)
        self.fields["amount"].widget.attrs["placeholder"] = example
        self.fields["amount"].help_text = _("For example %(example)s") % {"example": example}

    def clean_amount(self) -> str:
        return typed_amount_normalize(self.cleaned_data.get("amount") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("all_available") and not (data.get("amount") or "").strip():
            self.add_error("amount", _("Enter an amount, or choose to withdraw everything available."))
        return data


class LinkCreateForm(forms.Form):
    """Shape only: the address rules (https, the brand's store domains, no onward redirect) are
    the tracking service's, so the portal, the admin and the API refuse the same addresses with
    the same words."""

    destination_url = forms.CharField(
        label=_("Page of the store"),
        max_length=1000,
        widget=forms.TextInput(
            attrs={"inputmode": "url", "autocomplete": "off", "placeholder": "https://", "spellcheck": "false"}
        ),
    )
    label = forms.CharField(
        label=_("Label (optional)"),
        max_length=120,
        required=False,
        help_text=_("Only you see it, e.g. “Reel 12 March” or “Bio link”."),
    )
    campaign = forms.TypedChoiceField(label=_("Campaign"), coerce=int, required=False)

    def __init__(self, *args: Any, campaigns: list[Any], store_domains: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        domains = ", ".join(store_domains) or "—"
        self.fields["destination_url"].help_text = _(
            "Copy the address of a product or collection page from the store (%(domains)s)."
        ) % {"domains": domains}
        if len(campaigns) > 1:
            campaign = self.fields["campaign"]
            assert isinstance(campaign, forms.TypedChoiceField)
            campaign.choices = [(c.pk, c.name) for c in campaigns]
            campaign.required = True
        else:
            del self.fields["campaign"]


class ClaimForm(forms.Form):
    """Shape only: whether the order may be claimed (deadline, duplicates, already yours, the
    file's real type and size) is the claims service's rule, shown beside the field it names."""

    vtex_order_id = forms.CharField(
        label=_("Order number"),
        max_length=64,
        help_text=_("As the store's confirmation email shows it, for example 1415461749731-01."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}),
    )
    campaign = forms.TypedChoiceField(label=_("Campaign"), coerce=int, required=False)
    buyer_message = forms.CharField(
        label=_("What the buyer told you (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    evidence = forms.FileField(
        label=_("Screenshot (optional)"),
        required=False,
        help_text=_("A screenshot of the buyer's message or receipt: JPEG, PNG or PDF."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,application/pdf"}),
    )

    def __init__(self, *args: Any, campaigns: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(campaigns) > 1:
            campaign = self.fields["campaign"]
            assert isinstance(campaign, forms.TypedChoiceField)
            campaign.choices = [(c.pk, c.name) for c in campaigns]
            campaign.required = True
        else:
            del self.fields["campaign"]
