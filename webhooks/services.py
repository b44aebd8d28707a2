"""Outgoing webhooks (Standard Webhooks): endpoints and their secrets, recording events as
messages with one delivery per subscribed endpoint, and delivering them with retries.

Events arrive through core.events inside the publisher's transaction; the message and its
deliveries are written there too, and the first attempt is queued after the commit, so a
rolled-back change sends nothing. Delivery retries back off exponentially for up to three days;
an endpoint that has failed for a whole day is disabled and the brand's managers are emailed."""

import base64
import json
import logging
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks.webhooks import Webhook

from affiliates.selectors import manager_recipients
from audit.services import audit_record
from brands.models import Brand
from core import batching
from core.backoff import backoff_seconds
from core.errors import ApplicationError, Conflict
from integrations.email import email_send
from webhooks.event_types import EVENT_TYPES
from webhooks.locks import delivery_claim, delivery_lock, endpoint_lock
from webhooks.metrics import WEBHOOK_DELIVERIES, WEBHOOK_DELIVERY_SECONDS
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage
from webhooks.ssrf import guarded_session, url_check

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _event_types_clean(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        raise ApplicationError(
            _("Unknown event types: %(types)s.") % {"types": ", ".join(unknown)}, extra={"field": "event_types"}
        )
    if not event_types:
        raise ApplicationError(_("Choose at least one event type."), extra={"field": "event_types"})
    return [name for name in EVENT_TYPES if name in set(event_types)]


# --- Endpoints ------------------------------------------------------------------------------


def webhook_endpoint_create(
    *, brand: Brand, url: str, event_types: list[str], description: str = "", actor: Any = None
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its signing secret (shown to the brand once)."""
    url = url_check(url)
    types = _event_types_clean(event_types)
    secret = _new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            brand=brand, url=url, event_types=types, description=description[:200], secret=secret
        )
        audit_record(
            action="webhook.endpoint_created",
            target=endpoint,
            actor=actor,
            brand_id=brand.pk,
            after={"url": url, "event_types": types},
        )
    return endpoint, secret


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
    actor: Any = None,
) -> WebhookEndpoint:
    """Change an endpoint. Turning it back on clears its failure clock."""
    checked_url = url_check(url) if url is not None else None
    types = _event_types_clean(event_types) if event_types is not None else None
    with transaction.atomic():
        locked = endpoint_lock(pk=endpoint.pk)
        before = {"url": locked.url, "event_types": locked.event_types, "is_active": locked.is_active}
        if checked_url is not None:
            locked.url = checked_url
        if types is not None:
            locked.event_types = types
        if description is not None:
            locked.description = description[:200]
        if is_active is not None and is_active != locked.is_active:
            locked.is_active = is_active
            if is_active:
                locked.disabled_at, locked.disabled_reason, locked.failing_since = None, "", None
            else:
                locked.disabled_at, locked.disabled_reason = timezone.now(), _("turned off by the brand")
        locked.save()
        audit_record(
            action="webhook.endpoint_updated",
            target=locked,
            actor=actor,
            brand_id=locked.brand_id,
            before=before,
            after={"url": locked.url, "event_types": locked.event_types, "is_active": locked.is_active},
        )
    return locked


def webhook_endpoint_secret_rotate(
    *, endpoint: WebhookEndpoint, overlap: timedelta | None = None, actor: Any = None
) -> str:
    """A new signing secret. For `overlap` (default WEBHOOKS_SECRET_OVERLAP_HOURS) messages are
    signed with both, so the receiver can switch without rejecting anything."""
    overlap = timedelta(hours=settings.WEBHOOKS_SECRET_OVERLAP_HOURS) if overlap is None else overlap
    secret = _new_secret()
    with transaction.atomic():
        locked = endpoint_lock(pk=endpoint.pk)
        locked.previous_secret = locked.secret
        locked.previous_secret_expires_at = timezone.now() + overlap
        locked.secret = secret
        locked.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
        audit_record(
            action="webhook.secret_rotated",
            target=locked,
            actor=actor,
            brand_id=locked.brand_id,
            after={"previous_valid_until": locked.previous_secret_expires_at},
        )
    return secret


# --- Recording events -----------------------------------------------------------------------


def webhook_event_record(
    *, event_type: str, brand_id: int, data: dict[str, Any], at: datetime | None = None
) -> WebhookMessage | None:
    """Record `event_type` for the brand's subscribed, active endpoints (nothing when none).
    Call inside the transaction of the fact; the deliveries start after it commits."""
    active = batching.memo(
        ("webhooks.endpoints", brand_id),
        lambda: list(WebhookEndpoint.objects.filter(brand_id=brand_id, is_active=True).only("pk", "event_types")),
    )
    endpoints = [e for e in active if event_type in (e.event_types or [])]
    if not endpoints:
        return None
    now = at or timezone.now()
    message = WebhookMessage(brand_id=brand_id, event_type=event_type, created_at=now)
    message.payload = json.loads(
        json.dumps({"type": event_type, "timestamp": now.isoformat(), "data": data}, cls=DjangoJSONEncoder)
    )
    message.save(force_insert=True)
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=e, message=message, next_attempt_at=now) for e in endpoints]
    )
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _enqueue(ids))
    return message


def _enqueue(delivery_ids: list[int]) -> None:
    from webhooks.tasks import webhook_deliver_task  # noqa: PLC0415 tasks↔services cycle inside the app

    for pk in delivery_ids:
        webhook_deliver_task.delay(delivery_id=pk)


def event_handler(event_type: str) -> Any:
    """The core.events handler for one event type (publishers send brand_id and data)."""

    def handle(*, brand_id: int, data: dict[str, Any], **_ignored: Any) -> None:
        webhook_event_record(event_type=event_type, brand_id=brand_id, data=data)

    handle.__name__ = f"webhook_{event_type.replace('.', '_')}"
    return handle


# One handler object per type, made once: subscribing twice (ready() in tests) is a no-op.
EVENT_HANDLERS = {name: event_handler(name) for name in EVENT_TYPES}


# --- Delivering -----------------------------------------------------------------------------


def _signature(endpoint: WebhookEndpoint, *, msg_id: str, at: datetime, body: str) -> str:
    signatures = [Webhook(endpoint.secret).sign(msg_id, at, body)]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > at:
        signatures.append(Webhook(endpoint.previous_secret).sign(msg_id, at, body))
    return " ".join(signatures)


def retry_delay(attempt: int) -> timedelta:
    """Exponential backoff with jitter: about 30 s, 1 min, 2 min... capped at 6 hours."""
    return timedelta(
        seconds=backoff_seconds(
            attempt, base=settings.WEBHOOKS_RETRY_BASE_SECONDS, cap=settings.WEBHOOKS_RETRY_MAX_SECONDS
        )
    )


def webhook_delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> WebhookDelivery | None:
    """Send one delivery if it is due. Safe to call twice: the row is claimed under a lock and
    a delivery that succeeded or is not due yet is left alone."""
    with transaction.atomic():
        delivery = delivery_claim(pk=delivery_id, status=Status.PENDING)
        if delivery is None:
            return None
        now = now or timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now:
            return delivery
        endpoint = delivery.endpoint
        if not endpoint.is_active:
            return delivery  # kept pending: redelivered when the brand turns the endpoint on
        at = timezone.now()
        body = json.dumps(delivery.message.payload, separators=(",", ":"), ensure_ascii=False)
        headers = {
            "content-type": "application/json",
            "user-agent": "MGM-Webhooks/1.0",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": _signature(endpoint, msg_id=delivery.message_id, at=at, body=body),
        }
        started = time.monotonic()
        status_code: int | None = None
        error = ""
        excerpt = ""
        try:
            url_check(endpoint.url)  # DNS may have changed since the endpoint was saved
            response = guarded_session().post(
                endpoint.url,
                data=body.encode(),
                headers=headers,
                timeout=(settings.WEBHOOKS_CONNECT_TIMEOUT, settings.WEBHOOKS_READ_TIMEOUT),
                allow_redirects=False,
            )
            status_code = response.status_code
            excerpt = response.text[:500]
        except Exception as exc:  # network errors, SSRF refusals: logged on the delivery
            error = f"{type(exc).__name__}: {exc}"[:500]
        duration_ms = int((time.monotonic() - started) * 1000)
        ok = status_code is not None and 200 <= status_code < 300
        if not ok and not error:
            error = _("HTTP %(status)s") % {"status": status_code}
        WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=at,
            response_status=status_code,
            duration_ms=duration_ms,
            error="" if ok else error,
            response_excerpt=excerpt,
        )
        delivery.attempts += 1
        delivery.last_attempt_at = at
        delivery.last_response_status = status_code
        delivery.last_duration_ms = duration_ms
        delivery.last_error = "" if ok else error
        if ok:
            delivery.status = Status.SUCCEEDED
            delivery.delivered_at = at
            delivery.next_attempt_at = None
            if endpoint.failing_since is not None:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        else:
            give_up_at = delivery.created_at + timedelta(hours=settings.WEBHOOKS_RETRY_FOR_HOURS)
            next_at = at + retry_delay(delivery.attempts)
            if next_at > give_up_at:
                delivery.status = Status.FAILED
                delivery.next_attempt_at = None
            else:
                delivery.next_attempt_at = next_at
            _endpoint_failure(endpoint, at=at, error=error)
        delivery.save()
    _observe(event_type=delivery.message.event_type, ok=ok, duration_ms=duration_ms)
    return delivery


def _observe(*, event_type: str, ok: bool, duration_ms: int) -> None:
    WEBHOOK_DELIVERIES.labels(event_type=event_type, outcome="success" if ok else "failure").inc()
    WEBHOOK_DELIVERY_SECONDS.observe(duration_ms / 1000)


def _endpoint_failure(endpoint: WebhookEndpoint, *, at: datetime, error: str) -> None:
    """Start the failure clock, or disable the endpoint once it has failed for a whole day."""
    if endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=at)
        return
    if at - endpoint.failing_since < timedelta(hours=settings.WEBHOOKS_DISABLE_AFTER_HOURS):
        return
    disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False,
        disabled_at=at,
        disabled_reason=_("failing for %(hours)s hours") % {"hours": settings.WEBHOOKS_DISABLE_AFTER_HOURS},
    )
    if not disabled:
        return
    audit_record(
        action="webhook.endpoint_disabled",
        target=endpoint,
        brand_id=endpoint.brand_id,
        after={"failing_since": endpoint.failing_since, "error": error},
    )
    brand = Brand.objects.get(pk=endpoint.brand_id)
    for manager in manager_recipients(brand=brand):
        email_send(
            to=[manager.email],
            template="webhooks_endpoint_disabled",
            language=manager.preferred_language,
            context={
                "url": endpoint.url,
                "brand": brand.name,
                "hours": settings.WEBHOOKS_DISABLE_AFTER_HOURS,
                "error": error,
                "admin_url": f"{settings.SITE_URL}/{settings.ADMIN_URL}webhooks/webhookendpoint/{endpoint.pk}/change/",
            },
        )


def webhook_deliveries_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue the deliveries whose retry time has come (Beat, every minute)."""
    now = now or timezone.now()
    ids = list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now, endpoint__is_active=True)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    _enqueue(ids)
    return len(ids)


def webhook_delivery_replay(*, delivery: WebhookDelivery, actor: Any = None) -> WebhookDelivery:
    """Send a delivery again now (from the admin or the API), whatever happened before. The
    message keeps its id, so a receiver that already processed it can tell."""
    with transaction.atomic():
        locked = delivery_lock(pk=delivery.pk)
        if not locked.endpoint.is_active:
            raise Conflict(_("Turn the endpoint on before redelivering to it."), code="endpoint_inactive")
        locked.status = Status.PENDING
        locked.next_attempt_at = timezone.now()
        locked.created_at = timezone.now()  # a fresh three days of retries
        locked.save(update_fields=["status", "next_attempt_at", "created_at"])
        audit_record(
            action="webhook.delivery_replayed",
            target=locked,
            actor=actor,
            brand_id=locked.endpoint.brand_id,
            after={"message": locked.message_id},
        )
        transaction.on_commit(lambda: _enqueue([locked.pk]))
    return locked
