"""Creatives: the libraries of the campaigns the influencer takes part in (images, videos,
captions with their own code and link filled in, brand guidelines), and their files, served
privately: a download goes through a link signed for this person that expires in minutes.
Thin: creatives' selectors decide who sees what, its services sign and read the links."""

from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from affiliates.models import Membership
from core.errors import ApplicationError, NotFound
from core.storage import private_file_response
from creatives.files import thumbnail_response
from creatives.models import Creative
from creatives.selectors import creative_get_for_influencer, creative_library_for_influencer
from creatives.services import creative_download_resolve, creative_download_token
from portal.access import APPROVED, portal_view


def _campaign_filter(request: HttpRequest) -> int | None:
    value = request.GET.get("campaign", "")
    return int(value) if value.isdigit() else None


def _visible(membership: Membership, pk: int) -> Creative:
    creative = creative_get_for_influencer(influencer=membership.influencer, brand=membership.brand, pk=pk)
    if creative is None:
        raise Http404
    return creative


@portal_view("creatives", needs=APPROVED)
def creatives(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    membership: Membership = context["membership"]
    every = creative_library_for_influencer(influencer=membership.influencer, brand=membership.brand)
    chosen = _campaign_filter(request)
    libraries = [lib for lib in every if chosen is None or lib.campaign.pk == chosen]
    context.update(libraries=libraries, campaigns=[lib.campaign for lib in every], chosen=chosen)
    return render(request, "portal/creatives.html", context)


@portal_view("creatives", needs=APPROVED)
def creative_thumbnail(request: HttpRequest, context: dict[str, Any], pk: int) -> HttpResponse:
    creative = _visible(context["membership"], pk)
    if not creative.thumbnail:
        raise Http404
    return thumbnail_response(creative)


@portal_view("creatives", needs=APPROVED)
def creative_download(request: HttpRequest, context: dict[str, Any], pk: int) -> HttpResponse:
    membership: Membership = context["membership"]
    creative = _visible(membership, pk)
    if not creative.file:
        raise Http404
    token = creative_download_token(creative=creative, user=request.user)
    return redirect("portal:creative_file", brand_slug=membership.brand.slug, token=token)


@portal_view("creatives", needs=APPROVED)
def creative_file(request: HttpRequest, context: dict[str, Any], token: str) -> HttpResponse:
    membership: Membership = context["membership"]
    try:
        pk, file_name = creative_download_resolve(token=token, user=request.user)
    except NotFound as exc:
        raise Http404 from exc
    except ApplicationError as exc:  # expired: say so where they can try again
        messages.error(request, str(exc))
        return redirect("portal:creatives", brand_slug=membership.brand.slug)
    creative = _visible(membership, pk)  # still a member, still shown, still this brand
    if creative.file.name != file_name:
        raise Http404
    # A FileResponse streams the bytes (local storage); S3 answers with a redirect.
    return cast(HttpResponse, private_file_response(creative.file, download_name=creative.download_name))
