"""Public edges: the redirect (`/r/<slug>`, the hot path), the QR code of a link, and the
conversion endpoint (`/t/conversion`) for the store's order-placed script and server postbacks.

The redirect is a plain function view that touches neither the session nor the user nor the
database once the link is cached: cache get → screening → one buffer append → 302.
"""

import json
import logging
import time

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core import request_context
from tracking.buffer import Screen, cache_incr, click_buffer
from tracking.conf import tracking_settings
from tracking.destinations import allowed_hosts, destination_host_allowed, tracked_destination
from tracking.hashing import (
    fingerprint,
    influencer_ref,
    ip_hash,
    ip_prefix,
    is_visitor_id,
    keyed_hash,
    new_click_id,
    new_visitor_id,
)
from tracking.link_cache import link_entry_get, link_entry_tracks
from tracking.screening import screen_request

logger = logging.getLogger(__name__)

#: Conversion calls one address may make per minute.
CONVERSION_LIMIT_PER_MINUTE = 120


def _not_found() -> HttpResponse:
    response = HttpResponseNotFound(render_to_string("tracking/link_not_found.html"))
    response["Cache-Control"] = "no-store"
    return response


def _referrer_host(request: HttpRequest) -> str:
    referer = request.headers.get("Referer", "")
    if "://" not in referer:
        return ""
    return referer.split("://", 1)[1].split("/", 1)[0].split("@")[-1].split(":")[0].lower()[:255]


@require_http_methods(["GET", "HEAD"])
def redirect(request: HttpRequest, slug: str) -> HttpResponse:
    entry = link_entry_get(slug)
    if entry is None:
        return _not_found()
    destination = entry["dest"]
    if not destination_host_allowed(destination, tuple(entry["hosts"])):
        # The brand removed the host from its allowlist after the link was made.
        return _not_found()
    now = time.time()
    if not link_entry_tracks(entry, now=now):
        # Not tracking (campaign not running, influencer not approved): still take the
        # shopper to the store, with no click and no cookie.
        response: HttpResponse = HttpResponseRedirect(destination)
        response["Cache-Control"] = "no-store"
        return response

    conf = tracking_settings()
    presented = request.COOKIES.get(conf.cookie_name, "")
    visitor = presented if is_visitor_id(presented) else new_visitor_id()
    # Computed once per request by `RequestContextMiddleware`.
    ip = request_context.current().ip
    user_agent = request.headers.get("User-Agent", "")
    language = request.headers.get("Accept-Language", "")[:40]
    prefix = ip_prefix(ip)
    fp = fingerprint(ip=ip, user_agent=user_agent, accept_language=language, prefix=prefix)
    hashed_ip = ip_hash(ip)
    click_id = new_click_id(now)
    record = {
        "click_id": click_id,
        "link": str(entry["id"]),
        "brand": str(entry["brand"]),
        "campaign": str(entry["campaign"]),
        "influencer": str(entry["influencer"]),
        "ts": f"{now:.6f}",
        "visitor": visitor,
        "ip_hash": hashed_ip,
        "ip_prefix": prefix,
        "fp": fp,
        "ua": user_agent[:300],
        "lang": language,
        "ref": _referrer_host(request),
    }
    # The same visitor (cookie) or the same browser (fingerprint, for in-app browsers that
    # drop cookies) on the same link within the window is a duplicate.
    screen = Screen(
        reason=screen_request(method=request.method or "GET", headers=request.headers),
        dedupe_key=f"trk:dd:{entry['id']}:v:{visitor}",
        dedupe_alt_key=f"trk:dd:{entry['id']}:f:{fp}",
        flood_key=f"trk:fl:{hashed_ip}",
    )
    try:
        outcome = click_buffer().push(record, screen=screen)
    except Exception:
        # The shopper's redirect matters more than one click: log and go on.
        logger.exception("click buffer unavailable; click %s not recorded", click_id)
        outcome = "unrecorded"
    ref = influencer_ref(click_id=click_id, influencer_id=entry["influencer"], campaign_id=entry["campaign"])
    target = tracked_destination(
        destination,
        utm_source=conf.utm_source,
        utm_medium=conf.utm_medium,
        campaign_slug=entry["campaign_slug"],
        click_id=click_id,
        influencer_ref=ref,
    )
    response = HttpResponseRedirect(target)
    response.set_cookie(
        conf.cookie_name,
        visitor,
        max_age=int(entry["window_days"]) * 86400,
        secure=conf.cookie_secure,
        httponly=True,
        samesite="Lax",
    )
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    if conf.expose_validity:  # benchmarks and tests only: never tell bots what was screened
        response["X-MGM-Click"] = outcome or "valid"
    return response


def urlsplit_host(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


@require_http_methods(["GET"])
def link_qr(request: HttpRequest, slug: str) -> HttpResponse:
    """The QR code (SVG) of a public link."""
    from tracking.selectors import link_public_url
    from tracking.services import link_qr_svg

    entry = link_entry_get(slug)
    if entry is None:
        return _not_found()
    svg = link_qr_svg(url=link_public_url(slug=slug))
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


# --- Conversions ----------------------------------------------------------------------------


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Credentials"] = "true"
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


def _origin_host(origin: str) -> str:
    return urlsplit_host(origin) if origin.startswith(("https://", "http://")) else ""


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def conversion(request: HttpRequest) -> HttpResponse:
    """Link an order to a visitor. From the store's browser (the `mgm-conversion.js` script:
    CORS limited to the brand's store domains) or server to server (`Authorization: Bearer
    <brand hook token>`, no Origin). Body: JSON `{"brand": <VTEX account>, "order": <order id
    or group>, "visitor": <visitor id>, "click": <click id>}`."""
    from campaigns.models import Brand
    from campaigns.services import brand_hook_token_matches
    from core.errors import ApplicationError
    from tracking.models import Conversion
    from tracking.services import conversion_record

    conf = tracking_settings()
    ip = request_context.current().ip
    if cache_incr(f"trk:conv:{ip_hash(ip)}", 60) > CONVERSION_LIMIT_PER_MINUTE:
        return JsonResponse({"error": "rate_limited"}, status=429)
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    account = str(payload.get("brand") or request.GET.get("brand") or "")[:80]
    brand = Brand.objects.filter(vtex_account=account, is_active=True).first() if account else None
    origin = request.headers.get("Origin", "")
    if brand is None:
        return JsonResponse({"error": "unknown_brand"}, status=404)
    hosts = allowed_hosts(brand.store_domains)
    if origin:
        if _origin_host(origin) not in hosts:
            return JsonResponse({"error": "origin_not_allowed"}, status=403)
        if request.method == "OPTIONS":
            return _cors(HttpResponse(status=204), origin)
        source = Conversion.Source.SCRIPT
    else:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not brand_hook_token_matches(brand, token):
            return JsonResponse({"error": "unauthorized"}, status=401)
        source = Conversion.Source.POSTBACK
    visitor = str(payload.get("visitor") or "") or request.COOKIES.get(conf.cookie_name, "")
    click = str(payload.get("click") or "")
    fp = ""
    if source == Conversion.Source.SCRIPT:
        fp = fingerprint(
            ip=ip,
            user_agent=request.headers.get("User-Agent", ""),
            accept_language=request.headers.get("Accept-Language", ""),
        )
    try:
        row = conversion_record(
            brand=brand,
            order_ref=str(payload.get("order") or ""),
            source=source,
            visitor_id=visitor,
            click_id=click,
            fingerprint=fp,
        )
    except ApplicationError as exc:
        response: HttpResponse = JsonResponse({"error": exc.code, "message": str(exc)}, status=exc.status_code)
    else:
        response = JsonResponse({"ok": True, "id": keyed_hash(str(row.pk), purpose="conv", length=12)}, status=202)
    return _cors(response, origin) if origin else response
