"""Prometheus metrics of outgoing webhooks (alert rules in compose/prometheus/)."""

from prometheus_client import Counter, Histogram

WEBHOOK_DELIVERIES = Counter(
    "mgm_webhook_deliveries_total", "Outgoing webhook delivery attempts by outcome", ["event_type", "outcome"]
)
WEBHOOK_DELIVERY_SECONDS = Histogram("mgm_webhook_delivery_seconds", "Time receivers took to answer a webhook delivery")
