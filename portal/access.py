"""Who may see a portal page: signed in, an influencer, second factor passed if they enabled
one, and a membership with the brand in the URL. Every portal view is wrapped by
`portal_view`, which also builds the context every page shares (brand, membership, nav)."""

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache

from accounts.two_factor import has_confirmed_totp, totp_cached_read
from affiliates.models import Influencer, Membership
from affiliates.selectors import (
    influencer_for_user,
    membership_list_for_user,
    policies_pending,
    policies_pending_cached_read,
)
from core.generations import cached_reads_prefetch
from notifications.selectors import notification_unread_count, unread_cached_read
from portal.nav import portal_nav_items

PortalView = Callable[..., HttpResponse]

APPROVED = (Membership.Status.APPROVED,)
ACTIVE_OR_SUSPENDED = (Membership.Status.APPROVED, Membership.Status.SUSPENDED)


def activate_preferred_language(request: HttpRequest, influencer: Influencer) -> None:
    # The language switcher's cookie wins (this browser's choice); without it, the profile's.
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return
    language = influencer.user.preferred_language
    translation.activate(language)
    request.LANGUAGE_CODE = language


def influencer_or_404(request: HttpRequest) -> Influencer:
    influencer = influencer_for_user(user=request.user)
    if influencer is None:
        raise Http404
    return influencer


def _ask_consent(request: HttpRequest, *, membership: Membership, influencer: Influencer) -> HttpResponse | None:
    """A new policy version the influencer has not accepted closes every page (and so every
    money action) until they accept it: they are sent to the consent page, and back after."""
    if not policies_pending(influencer=influencer, brand=membership.brand):
        return None
    url = f"{reverse('portal:consent', kwargs={'brand_slug': membership.brand.slug})}?{urlencode({'next': request.get_full_path()})}"
    if getattr(request, "htmx", False):
        # An htmx form (a withdrawal, say) would swap the page into its panel: navigate instead.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def portal_view(section: str, *, needs: tuple[str, ...] | None = None) -> Callable[[PortalView], PortalView]:
    """Signed in, an influencer, second factor passed if they enabled one, and a membership
    with the brand in the URL. `needs` lists the statuses the section requires; other
    statuses see the membership status page instead."""

    def decorator(view: PortalView) -> PortalView:
        @never_cache
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, brand_slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            user: Any = request.user
            # One query gives the person, the brand in the URL and the brand switcher. The
            # person's user is the signed-in one, already loaded: not joined again.
            memberships = list(
                membership_list_for_user(user=user).select_related(None).select_related("brand", "influencer")
            )
            for m in memberships:
                m.influencer.user = user
            influencer = memberships[0].influencer if memberships else influencer_or_404(request)
            membership = next((m for m in memberships if m.brand.slug == brand_slug), None)
            # The facts every page asks below, from the cache in one round trip instead of two each.
            facts = [totp_cached_read(user.pk)]
            if membership is not None:
                ids = {"influencer_id": influencer.pk, "brand_id": membership.brand_id}
                facts += [unread_cached_read(**ids), policies_pending_cached_read(**ids)]
            cached_reads_prefetch(facts)
            if not user.is_verified() and has_confirmed_totp(user):
                return redirect_to_login(request.get_full_path(), reverse("two_factor"), "next")
            if membership is None:
                raise Http404
            activate_preferred_language(request, influencer)
            context = {
                "brand": membership.brand,
                "membership": membership,
                "influencer": influencer,
                "other_memberships": [m for m in memberships if m.pk != membership.pk],
                "nav_items": portal_nav_items(
                    brand_slug=brand_slug,
                    current=section,
                    suspended=membership.status != Membership.Status.APPROVED,
                ),
                "section": section,
                "unread_notifications": notification_unread_count(influencer=influencer, brand=membership.brand),
            }
            if needs is not None and membership.status not in needs:
                return render(request, "portal/status.html", context)
            if section != "consent" and membership.status in ACTIVE_OR_SUSPENDED:
                blocked = _ask_consent(request, membership=membership, influencer=influencer)
                if blocked is not None:
                    return blocked
            return view(request, context, *args, **kwargs)

        return wrapper

    return decorator
