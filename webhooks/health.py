"""Health of outgoing webhooks (core.health): endpoints failing now, deliveries that ran out of
retries, endpoints disabled. Thresholds are those of compose/prometheus/alerts.yml."""

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.health import Finding, Gauge, ProbeResult, State
from webhooks.models import WebhookDelivery, WebhookEndpoint

FAILING = Gauge(
    "mgm_webhook_endpoints_failing", "Active endpoints whose latest deliveries fail (being retried)", ("brand",)
)
DISABLED = Gauge("mgm_webhook_endpoints_disabled", "Endpoints disabled after failing for a day", ("brand",))
EXHAUSTED = Gauge(
    "mgm_webhook_deliveries_exhausted_24h", "Deliveries that ran out of retries in the last 24 hours", ("brand",)
)


def webhooks_probe() -> ProbeResult:
    result = ProbeResult()
    now = timezone.now()
    endpoints = (
        WebhookEndpoint.objects.values("brand__slug")
        .annotate(
            failing=Count("id", filter=Q(is_active=True, failing_since__isnull=False)),
            disabled=Count("id", filter=Q(is_active=False, disabled_at__isnull=False)),
        )
        .order_by("brand__slug")
    )
    exhausted = dict(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.FAILED, last_attempt_at__gte=now - timedelta(days=1)
        )
        .values_list("endpoint__brand__slug")
        .annotate(n=Count("id"))
    )
    for row in endpoints:
        slug = row["brand__slug"]
        result.read(FAILING, row["failing"], slug)
        result.read(DISABLED, row["disabled"], slug)
        result.read(EXHAUSTED, exhausted.get(slug, 0), slug)
        if row["failing"]:
            result.find(
                Finding(
                    _("Webhook deliveries failing"),
                    State.WARNING,
                    ngettext(
                        "%(count)s endpoint does not accept deliveries; they are retried with backoff.",
                        "%(count)s endpoints do not accept deliveries; they are retried with backoff.",
                        row["failing"],
                    )
                    % {"count": row["failing"]},
                    "WebhookDeliveriesFailing",
                    slug,
                )
            )
        if exhausted.get(slug):
            result.find(
                Finding(
                    _("Webhook deliveries lost"),
                    State.CRITICAL,
                    _("%(count)s deliveries ran out of retries today; replay them from the admin once fixed.")
                    % {"count": exhausted[slug]},
                    "WebhookDeliveriesExhausted",
                    slug,
                )
            )
    return result
