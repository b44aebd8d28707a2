"""The notification centre: what happened with this brand, unread first to the eye, marked read
one by one (htmx) or all at once, and the influencer's email preferences."""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from notifications.messages import notification_message
from notifications.models import Kind
from notifications.selectors import notification_list, notification_preference_get, notification_unread_count
from notifications.services import EMAIL_KINDS, notification_preference_update, notifications_mark_read
from portal.access import portal_view


class PreferenceForm(forms.Form):
    email_on = forms.MultipleChoiceField(
        label=gettext_lazy("Email me about"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(k.value, k.label) for k in EMAIL_KINDS],
        help_text=gettext_lazy("Commission news always comes in one summary a day, never one email per order."),
    )
    daily_digest = forms.BooleanField(label=gettext_lazy("Send me one summary email a day instead"), required=False)


def _items(context: dict[str, Any]) -> list[dict[str, Any]]:
    brand = context["brand"]
    rows = notification_list(influencer=context["influencer"], brand=brand)
    return [{"n": n, "message": notification_message(event=n.event, params=n.params, brand=brand.name)} for n in rows]


@portal_view("notifications")
def notifications(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    influencer = context["influencer"]
    preference = notification_preference_get(influencer=influencer)
    initial = {
        "email_on": [k.value for k in EMAIL_KINDS if k.value not in (preference.email_off or [])],
        "daily_digest": preference.daily_digest,
    }
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        chosen = set(form.cleaned_data["email_on"])
        notification_preference_update(
            influencer=influencer,
            email_off=[k.value for k in EMAIL_KINDS if k.value not in chosen],
            daily_digest=form.cleaned_data["daily_digest"],
            actor=request.user,
        )
        messages.success(request, _("Your email preferences were saved."))
        return redirect("portal:notifications", brand_slug=context["brand"].slug)
    context.update(form=form, items=_items(context), kinds=Kind)
    return render(request, "portal/notifications.html", context, status=400 if form.errors else 200)


@require_POST
@portal_view("notifications")
def notifications_read(request: HttpRequest, context: dict[str, Any], pk: int | None = None) -> HttpResponse:
    brand = context["brand"]
    notifications_mark_read(influencer=context["influencer"], brand=brand, ids=None if pk is None else [pk])
    if getattr(request, "htmx", False):
        context.update(
            items=_items(context),
            unread_notifications=notification_unread_count(influencer=context["influencer"], brand=brand),
        )
        return render(request, "portal/notifications.html#centre", context)
    if pk is None:
        messages.success(request, _("All notifications are marked as read."))
    return redirect("portal:notifications", brand_slug=brand.slug)
