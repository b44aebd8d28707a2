"""Re-consent: a brand published a new version of its terms or privacy policy, and the
influencer reads and accepts it before using the portal again (portal.access sends them here)."""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from affiliates.selectors import policies_to_accept
from affiliates.services.policies import policies_accept
from core.errors import ApplicationError
from portal.access import portal_view


class ConsentForm(forms.Form):
    policy_ids = forms.CharField(widget=forms.HiddenInput)
    accept = forms.BooleanField(
        label=gettext_lazy("I have read the new version and I accept it"),
        error_messages={"required": gettext_lazy("Tick the box to accept the new version.")},
    )

    def clean_policy_ids(self) -> list[int]:
        value = self.cleaned_data["policy_ids"]
        try:
            return [int(part) for part in value.split(",") if part]
        except ValueError as exc:
            raise forms.ValidationError(_("Reload the page and try again.")) from exc


@portal_view("consent")
def consent(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    brand, influencer = context["brand"], context["influencer"]
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) or not target.startswith(
        f"/portal/{brand.slug}/"
    ):
        target = f"/portal/{brand.slug}/"
    pending = policies_to_accept(influencer=influencer, brand=brand)
    if not pending:
        return redirect(target)
    form = ConsentForm(request.POST or None, initial={"policy_ids": ",".join(str(p.pk) for p in pending)})
    if request.method == "POST" and form.is_valid():
        try:
            policies_accept(
                influencer=influencer, brand=brand, policy_ids=form.cleaned_data["policy_ids"], actor=request.user
            )
        except ApplicationError as exc:
            # A newer version appeared: show it, with a fresh form that carries its id.
            pending = policies_to_accept(influencer=influencer, brand=brand)
            form = ConsentForm(initial={"policy_ids": ",".join(str(p.pk) for p in pending)})
            context.update(form=form, policies=pending, next=target, refusal=str(exc.message))
            return render(request, "portal/consent.html", context, status=exc.status_code)
        else:
            messages.success(request, _("Thank you: your acceptance was recorded."))
            return redirect(target)
    context.update(form=form, policies=pending, next=target)
    return render(request, "portal/consent.html", context, status=400 if form.errors else 200)
