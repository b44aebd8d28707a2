"""Every row lock the webhooks context takes (core/locks.py says how and why)."""

from core.locks import lock_rows
from webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoint_lock(*, pk: int) -> WebhookEndpoint:
    """One endpoint, to change it: deliveries to it keep being queued meanwhile."""
    return lock_rows(WebhookEndpoint.objects.filter(pk=pk)).get()


def delivery_lock(*, pk: int) -> WebhookDelivery:
    return lock_rows(WebhookDelivery.objects.filter(pk=pk).select_related("endpoint")).get()


def delivery_claim(*, pk: int, status: str) -> WebhookDelivery | None:
    """The delivery if it is still `status` and no other worker holds it."""
    return lock_rows(
        WebhookDelivery.objects.filter(pk=pk, status=status).select_related("endpoint", "message"),
        skip_locked=True,
    ).first()
