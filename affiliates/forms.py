"""Forms of the join page and the back-office decisions. Each form declares exactly
the fields a person may send: anything else in the request is ignored (no mass assignment)."""

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from affiliates.documents import (
    DOCUMENT_TYPES,
    DocumentInvalid,
    document_type_check,
    document_types_for_country,
    document_validate,
)
from affiliates.models import APPLICANT_COUNTRY_CHOICES
from affiliates.uploads import kyc_max_bytes
from campaigns.models import Campaign

_FILE_ACCEPT = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"


def document_type_choices(country: str | None = None) -> list[Any]:
    """The types of `country` only (no country names needed: DNI is Peru's or Argentina's by
    the country chosen). Without a country: grouped by country, so no label repeats within the
    list and the select reads well without JavaScript."""
    types = document_types_for_country(country) if country else []
    if types:
        return [("", "—"), *[(doc.code, doc.label) for doc in types]]
    countries = dict(APPLICANT_COUNTRY_CHOICES)
    groups: dict[str, list[tuple[str, Any]]] = {}
    for doc in DOCUMENT_TYPES:
        groups.setdefault(doc.country, []).append((doc.code, doc.label))
    return [("", "—"), *[(countries.get(code, code), choices) for code, choices in sorted(groups.items())]]


def _kyc_help() -> str:
    return _("PDF, JPEG or PNG, up to %(size)s MB.") % {"size": kyc_max_bytes() // (1024 * 1024)}


class KycFileField(forms.FileField):
    """A PDF, JPEG or PNG under the size limit, judged by its content (in the service)."""

    def __init__(self, **kwargs: Any) -> None:
        # Lazy: the help is translated when the page renders, in the reader's language.
        kwargs.setdefault("help_text", lazy(_kyc_help, str)())
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", _FILE_ACCEPT)
        # The content is inspected once, by the service (affiliates.services.kyc.kyc_documents_check);
        # its refusal names this field and the view puts it here (_apply_error).


class _ConsentMixin(forms.Form):
    terms_policy = forms.IntegerField(widget=forms.HiddenInput)
    privacy_policy = forms.IntegerField(widget=forms.HiddenInput)
    accept_terms = forms.BooleanField(
        label=_("I have read and accept the terms and conditions"),
        error_messages={"required": _("Accept the terms and conditions to apply.")},
    )
    accept_privacy = forms.BooleanField(
        label=_("I have read and accept the privacy policy"),
        error_messages={"required": _("Accept the privacy policy to apply.")},
    )


class _ApplicationBase(forms.Form):
    """Step 2 of the join page: the campaign and the KYC documents."""

    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.none(),
        required=False,
        label=_("Campaign you want to join"),
        empty_label=_("Any campaign"),
        help_text=_("You can join more of the brand's campaigns once approved."),
    )
    identity_document = KycFileField(label=_("Identity document (photo or scan)"))
    other_document = KycFileField(label=_("Tax registration or other document (optional)"), required=False)

    field_order = ["campaign", "identity_document", "other_document", "accept_terms", "accept_privacy"]

    def __init__(self, *args: Any, campaigns: QuerySet[Campaign], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns  # type: ignore[attr-defined]
        self.fields["campaign"].label_from_instance = lambda campaign: campaign.name  # type: ignore[attr-defined]
        if not campaigns.exists():
            del self.fields["campaign"]


class JoinDocumentsForm(_ApplicationBase):
    """Step 2 for an applicant whose consent to the brand's current policies is on record
    (given in step 1)."""


class JoinExistingForm(_ConsentMixin, _ApplicationBase):
    """A signed-in influencer applying to one more brand: the brand's consents and documents."""

    field_order = _ApplicationBase.field_order


class JoinAccountForm(_ConsentMixin):
    """Step 1 of the join page: the account, the profile and the brand's consents."""

    full_name = forms.CharField(
        label=_("Full name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("We send a link to confirm it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    # Kept after an error (render_value): the page is never cached and travels over HTTPS only.
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=_("At least 10 characters, not only digits, not a common password nor like your name or email."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=True),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=True),
    )
    country = forms.ChoiceField(label=_("Country"), choices=[("", "—"), *APPLICANT_COUNTRY_CHOICES])
    document_type = forms.ChoiceField(
        label=_("Document type"),
        choices=document_type_choices,
        help_text=_("The documents of the country you chose."),
    )
    document_number = forms.CharField(
        label=_("Document number"),
        max_length=30,
        help_text=_("As printed on the document; dots and dashes are optional."),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=24,
        help_text=_("With country code, e.g. +57 300 123 4567."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    instagram = forms.CharField(
        label=_("Instagram"),
        max_length=60,
        required=False,
        help_text=_("At least one network: Instagram, TikTok or YouTube."),
    )
    tiktok = forms.CharField(label=_("TikTok"), max_length=60, required=False)
    youtube = forms.CharField(label=_("YouTube"), max_length=60, required=False)
    audience_size = forms.IntegerField(
        label=_("Total audience (followers across your networks)"),
        min_value=0,
        max_value=2_000_000_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    field_order = [
        "full_name",
        "email",
        "password1",
        "password2",
        "country",
        "document_type",
        "document_number",
        "phone",
        "instagram",
        "tiktok",
        "youtube",
        "audience_size",
        "accept_terms",
        "accept_privacy",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The select lists the chosen country's types (the one posted, else the initial one);
        # any type still validates here, so a type of another country gets the clear message
        # of document_type_check instead of "select a valid choice".
        country = (self.data.get("country") if self.is_bound else None) or self.initial.get("country")
        self.fields["document_type"].widget.choices = document_type_choices(str(country or ""))
        self.fields["document_type"].widget.attrs["data-country"] = str(country or "")

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        country, doc_type, number = data.get("country"), data.get("document_type"), data.get("document_number")
        if country and doc_type:
            try:
                document_type_check(country=country, document_type=doc_type)
                if number:
                    data["document_number"] = document_validate(country=country, document_type=doc_type, number=number)
            except DocumentInvalid as exc:
                self.add_error(exc.field, str(exc.message))
        if not any(data.get(k) for k in ("instagram", "tiktok", "youtube")):
            self.add_error("instagram", _("Enter at least one social network handle."))
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2:
            if password1 != password2:
                self.add_error("password2", _("The two passwords do not match."))
            else:
                try:
                    validate_password(
                        password1, user=User(email=data.get("email") or "", full_name=data.get("full_name") or "")
                    )
                except ValidationError as exc:
                    self.add_error("password1", exc)
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (the influencer receives it by email)"),
        min_length=3,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ApproveForm(forms.Form):
    campaigns = forms.ModelMultipleChoiceField(
        queryset=Campaign.objects.none(),
        required=False,
        label=_("Campaigns to assign"),
        help_text=_("A discount code is issued for each campaign."),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, campaigns: QuerySet[Campaign], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaigns"].queryset = campaigns  # type: ignore[attr-defined]
