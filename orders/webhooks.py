"""`POST /api/v1/webhooks/vtex/<brand-slug>/orders/`: VTEX's order hook.

A plain Django view rather than a DRF one: it must answer in milliseconds under Black Friday
peaks, and it needs nothing DRF offers (no content negotiation, no user, no schema for
clients). It authenticates on the raw body and headers, stores the raw notification once and
queues processing after commit; interpretation lives in orders.services.
"""

import json
import logging
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orders.metrics import HOOK_REJECTED_TOTAL
from orders.parsing import HookPayloadInvalid, hook_is_ping, hook_parse
from orders.services import hook_brand_get, hook_event_record, hook_token_valid

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Hook-Token"  # noqa: S105 - a header name, not a secret


def _refuse(status: int, reason: str, message: str, **log: Any) -> JsonResponse:
    HOOK_REJECTED_TOTAL.labels(reason).inc()
    logger.warning("VTEX hook refused (%s): %s", reason, message, extra={"hook_reason": reason, **log})
    return JsonResponse({"detail": message, "code": reason}, status=status)


@csrf_exempt
@require_POST
def vtex_order_hook(request: HttpRequest, brand_slug: str) -> JsonResponse:
    try:
        payload = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        return _refuse(400, "malformed_json", _("The body is not valid JSON."), brand=brand_slug)
    # VTEX pings the URL when the hook is saved; it may not send our header then.
    if hook_is_ping(payload):
        return JsonResponse({"ok": True})
    brand = hook_brand_get(slug=brand_slug)
    if brand is None:
        return _refuse(404, "unknown_brand", _("No active brand has this address."), brand=brand_slug)
    if not hook_token_valid(brand=brand, token=request.headers.get(TOKEN_HEADER)):
        return _refuse(401, "bad_token", _("Missing or wrong %(header)s.") % {"header": TOKEN_HEADER}, brand=brand_slug)
    try:
        notification = hook_parse(payload)
    except HookPayloadInvalid as exc:
        return _refuse(400, exc.code, str(exc), brand=brand_slug)
    if notification.account.casefold() != brand.vtex_account.casefold():
        return _refuse(403, "wrong_account", _("Origin.Account is not this brand's VTEX account."), brand=brand_slug)
    event = hook_event_record(brand=brand, notification=notification, payload=payload)
    return JsonResponse({"ok": True, "duplicate": event is None})
