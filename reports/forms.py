from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from reports.builder import ATTRIBUTION_MODELS, DIMENSIONS, METRICS
from reports.models import ReportFormat, ScheduledReport


class ReportBuilderForm(forms.Form):
    """The builder's fields; `spec_data()` is what `reports.builder.spec_from_input` validates
    (the API sends the same shape as JSON)."""

    brand = forms.ChoiceField(label=_("Brand"))
    # <input type="date"> only takes ISO dates: a localised "23/10/2026" would show an empty field.
    date_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    dimensions = forms.MultipleChoiceField(
        label=_("Group by"),
        choices=[(k, d.label) for k, d in DIMENSIONS.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    metrics = forms.MultipleChoiceField(
        label=_("Metrics"), choices=[(k, m.label) for k, m in METRICS.items()], widget=forms.CheckboxSelectMultiple
    )
    campaign = forms.MultipleChoiceField(label=_("Only these campaigns"), required=False)
    country = forms.CharField(label=_("Only these countries"), required=False, help_text=_("e.g. CO, MX"))
    attribution = forms.ChoiceField(label=_("Attribution model"), choices=list(ATTRIBUTION_MODELS.items()))
    sort = forms.ChoiceField(label=_("Sort by"), required=False)
    descending = forms.BooleanField(label=_("Largest first"), required=False, initial=True)
    limit = forms.IntegerField(label=_("Rows"), min_value=1, max_value=5000, initial=500)
    name = forms.CharField(label=_("Name (to save)"), required=False, max_length=120)
    is_shared = forms.BooleanField(label=_("Share with the brand"), required=False)

    def __init__(self, *args: Any, brands: list[Any], campaigns: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["brand"].choices = [(b.pk, b.name) for b in brands]  # type: ignore[attr-defined]
        self.fields["campaign"].choices = [(c.pk, f"{c.brand.name} · {c.name}") for c in campaigns]  # type: ignore[attr-defined]
        self.fields["sort"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (k, label)
            for k, label in [
                *((k, d.label) for k, d in DIMENSIONS.items()),
                *((k, m.label) for k, m in METRICS.items()),
            ]
        ]

    def spec_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        filters: dict[str, Any] = {}
        if data.get("campaign"):
            filters["campaign"] = data["campaign"]
        if data.get("country"):
            filters["country"] = [c.strip().upper() for c in data["country"].split(",") if c.strip()]
        return {
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "dimensions": data.get("dimensions") or [],
            "metrics": data["metrics"],
            "filters": filters,
            "attribution": data["attribution"],
            "sort": data.get("sort") or "",
            "descending": "true" if data.get("descending") else "false",
            "limit": data.get("limit") or 500,
        }


def initial_from_spec(spec: dict[str, Any], brand_id: int) -> dict[str, Any]:
    filters = spec.get("filters") or {}
    return {
        "brand": brand_id,
        "date_from": spec.get("date_from"),
        "date_to": spec.get("date_to"),
        "dimensions": spec.get("dimensions") or [],
        "metrics": spec.get("metrics") or [],
        "campaign": [str(c) for c in filters.get("campaign") or []],
        "country": ", ".join(filters.get("country") or []),
        "attribution": spec.get("attribution") or "recorded",
        "sort": spec.get("sort") or "",
        "descending": spec.get("descending", True),
        "limit": spec.get("limit") or 500,
    }


class ScheduleForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=ReportFormat.choices)
    cadence = forms.ChoiceField(label=_("Cadence"), choices=ScheduledReport.Cadence.choices)
    send_hour = forms.IntegerField(label=_("Hour (brand time zone)"), min_value=0, max_value=23, initial=7)
    recipients = forms.CharField(label=_("Recipients"), help_text=_("Email addresses, comma-separated."))
