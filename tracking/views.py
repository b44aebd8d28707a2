"""Public edges: the redirect (`/r/<slug>`, the hot path), the QR code of a link, and the
conversion endpoint (`/t/conversion`) for the store's order-placed script and server postbacks.

The redirect is a plain function view that touches neither the session nor the user nor the
database once the link is cached: cache get → screening → one buffer append → 302.
"""

import json
import logging
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from brands.models import Brand
from brands.services import brand_hook_token_matches
from core import request_context
from core.errors import ApplicationError
from tracking.buffer import cache_incr, click_push
from tracking.click import Click, ClickRequest, click_decide, click_response_headers, visitor_cookie_header
from tracking.conf import tracking_settings
from tracking.destinations import allowed_hosts
from tracking.hashing import fingerprint, ip_hash, keyed_hash
from tracking.link_cache import link_entry_get
from tracking.models import Conversion
from tracking.selectors import link_public_url
from tracking.services import conversion_record, link_qr_svg

logger = logging.getLogger(__name__)

#: Conversion calls one address may make per minute.
CONVERSION_LIMIT_PER_MINUTE = 120


def _not_found() -> HttpResponse:
    response = HttpResponseNotFound(render_to_string("tracking/link_not_found.html"))
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "HEAD"])
def redirect(request: HttpRequest, slug: str) -> HttpResponse:
    """`/r/<slug>` under WSGI, and under ASGI for what the edge (`config.click_edge`) hands
    over: cache misses and unknown links. The rules are `tracking.click`'s, as in the edge."""
    entry = link_entry_get(slug)
    if entry is None:
        return _not_found()
    conf = tracking_settings()
    decision = click_decide(
        entry,
        ClickRequest(
            method=request.method or "GET",
            headers=request.headers,
            visitor_cookie=request.COOKIES.get(conf.cookie_name, ""),
            # Computed once per request by `RequestContextMiddleware`.
            ip=request_context.current().ip,
        ),
    )
    if decision is None:
        # The brand removed the host from its allowlist after the link was made.
        return _not_found()
    outcome = ""
    if isinstance(decision, Click):
        outcome = click_push(decision.record, screen=decision.screen)
    response: HttpResponse = HttpResponseRedirect(decision.target)
    for name, value in click_response_headers(decision, outcome=outcome):
        response[name] = value
    if isinstance(decision, Click):
        response.cookies.load(visitor_cookie_header(decision))
    return response


def urlsplit_host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


@require_http_methods(["GET"])
def link_qr(request: HttpRequest, slug: str) -> HttpResponse:
    """The QR code (SVG) of a public link."""

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
