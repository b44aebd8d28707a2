"""`POST /api/v1/webhooks/vtex/<brand-slug>/orders/`: VTEX's order hook.

A plain Django view rather than a DRF one: it must answer in milliseconds under Black Friday
peaks, and it needs nothing DRF offers (no content negotiation, no user, no schema for
clients). It authenticates on the raw body and headers, stores the raw notification once and
asks for a drain of pending notifications after commit (orders.drain: one Celery message per
burst); interpretation lives in orders.services. What it accepts (body size, budgets per brand)
is in orders.hook_limits; decision 0042 explains the cheap path.
"""

import json
import logging
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.request_context import client_ip
from orders.hook_limits import Verdict, hook_refusal_allow, hook_request_allow
from orders.metrics import HOOK_REJECTED_TOTAL
from orders.parsing import HookPayloadInvalid, hook_is_ping, hook_parse
from orders.services import hook_brand_get, hook_event_record, hook_token_valid

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Hook-Token"  # noqa: S105 - a header name, not a secret


def _refuse(status: int, reason: str, message: str, **log: Any) -> JsonResponse:
    HOOK_REJECTED_TOTAL.labels(reason).inc()
    logger.warning("VTEX hook refused (%s): %s", reason, message, extra={"hook_reason": reason, **log})
    return JsonResponse({"detail": message, "code": reason}, status=status)


def _too_many(verdict: Verdict, reason: str, **log: Any) -> JsonResponse:
    HOOK_REJECTED_TOTAL.labels(reason).inc()
    logger.warning("VTEX hook throttled (%s)", reason, extra={"hook_reason": reason, **log})
    response = JsonResponse(
        {
            "detail": _("Too many requests; retry after %(seconds)s s.") % {"seconds": verdict.retry_after},
            "code": reason,
        },
        status=429,
    )
    response["Retry-After"] = str(verdict.retry_after)
    return response


def _refused_or_throttled(
    request: HttpRequest, *, brand_slug: str | None, status: int, reason: str, message: str, slug: str
) -> JsonResponse:
    """A refusal counts against the brand's (or, with no brand, the address's) budget of
    refusals; past it the answer is 429, whatever the refusal was (orders.hook_limits)."""
    verdict = hook_refusal_allow(brand_slug=brand_slug, client=client_ip(request) or "")
    if not verdict.allowed:
        return _too_many(verdict, "refusals_throttled", brand=slug)
    return _refuse(status, reason, message, brand=slug)


def _read_body(request: HttpRequest, limit: int) -> bytes | None:
    """The body, or None when it is larger than `limit` (checked on the declared length first,
    then on what is read, so a missing or false Content-Length cannot get past it)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


@csrf_exempt
@require_POST
def vtex_order_hook(request: HttpRequest, brand_slug: str) -> JsonResponse:
    # No "SELECT 1" before the INSERT (CONN_HEALTH_CHECKS) on the hottest path: a broken
    # connection fails this request, VTEX retries it, and Django drops the connection when the
    # request ends (it checks a connection that raised). Decision 0042.
    connection.health_check_done = True  # type: ignore[attr-defined]
    limit = int(settings.VTEX_HOOK_MAX_BODY_BYTES)
    body = _read_body(request, limit)
    if body is None:
        # Refused before parsing or storing anything.
        return _refuse(
            413,
            "body_too_large",
            _("The body is larger than %(limit)s bytes; a VTEX notification is far smaller.") % {"limit": limit},
            brand=brand_slug,
        )
    try:
        payload = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError):
        return _refuse(400, "malformed_json", _("The body is not valid JSON."), brand=brand_slug)
    # VTEX pings the URL when the hook is saved; it may not send our header then.
    if hook_is_ping(payload):
        return JsonResponse({"ok": True})
    brand = hook_brand_get(slug=brand_slug)
    if brand is None:
        return _refused_or_throttled(
            request,
            brand_slug=None,
            status=404,
            reason="unknown_brand",
            message=_("No active brand has this address."),
            slug=brand_slug,
        )
    if not hook_token_valid(brand=brand, token=request.headers.get(TOKEN_HEADER)):
        return _refused_or_throttled(
            request,
            brand_slug=brand.slug,
            status=401,
            reason="bad_token",
            message=_("Missing or wrong %(header)s.") % {"header": TOKEN_HEADER},
            slug=brand_slug,
        )
    verdict = hook_request_allow(brand_slug=brand.slug)
    if not verdict.allowed:
        return _too_many(verdict, "brand_throttled", brand=brand_slug)
    try:
        notification = hook_parse(payload)
    except HookPayloadInvalid as exc:
        return _refuse(400, exc.code, str(exc), brand=brand_slug)
    if notification.account.casefold() != brand.vtex_account.casefold():
        return _refuse(403, "wrong_account", _("Origin.Account is not this brand's VTEX account."), brand=brand_slug)
    event = hook_event_record(brand=brand, notification=notification, payload=payload)
    return JsonResponse({"ok": True, "duplicate": event is None})
