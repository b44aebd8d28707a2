"""OpenTelemetry tracing, off unless `OTEL_ENABLED` is set (docs/operations.md, "Tracing").

When on, every Django request, Celery task, PostgreSQL query (psycopg) and outgoing HTTP call
(requests: VTEX, outgoing webhooks) becomes a span, exported over OTLP/HTTP to a collector
(Jaeger, Tempo, Honeycomb, …). A task's spans join the trace of the request that queued it.

It is started once per process, where the process begins serving: `config/wsgi.py` and
`config/asgi.py` before Django loads its middleware (the Django instrumentation adds one), and
each Celery worker child after the fork (`worker_process_init`: the exporter's background thread
does not survive a fork). `/r/<slug>` answered by the click edge never reaches Django and is not
traced: a click must cost almost nothing (docs/tracking.md).

What a span may carry is what Sentry may carry (config/sentry.py): no headers are recorded (the
instrumentations record none unless asked), query strings are dropped from URLs (signed download
links and reset tokens travel there), and SQL is recorded without its parameters.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

logger = logging.getLogger(__name__)

# Never traced: scraped every few seconds, they would drown the traces people look for.
EXCLUDED_URLS = "healthz,metrics"

_started = False


def tracing_from_settings() -> bool:
    """Start tracing if the settings turn it on; True when it is (now or already) on."""
    if not getattr(settings, "OTEL_ENABLED", False):
        return False
    tracing_init(
        service_name=settings.OTEL_SERVICE_NAME,
        endpoint=settings.OTEL_EXPORTER_OTLP_ENDPOINT,
        sample_ratio=settings.OTEL_TRACES_SAMPLE_RATIO,
        environment=settings.OTEL_ENVIRONMENT,
    )
    return True


def tracing_init(*, service_name: str, endpoint: str, sample_ratio: float, environment: str) -> None:
    """Install the tracer provider and the four instrumentations, once per process."""
    global _started
    if _started:
        return
    # Imported here on purpose, not at the top (ruff PLC0415: "optional dependency, loaded only
    # when tracing is on"): the SDK and four instrumentations load only where tracing is on, so a
    # process that does not trace pays nothing for them at start-up.
    from opentelemetry import trace  # noqa: PLC0415 heavy optional dependency kept out of start-up (only with tracing on)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415 heavy optional dependency kept out of start-up (only with tracing on)
        OTLPSpanExporter,
    )
    from opentelemetry.instrumentation.celery import CeleryInstrumentor  # noqa: PLC0415 heavy optional dependency kept out of start-up (only with tracing on)
    from opentelemetry.instrumentation.django import DjangoInstrumentor  # noqa: PLC0415 heavy optional dependency kept out of start-up (only with tracing on)
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor  # noqa: PLC0415 heavy optional dependency kept out of start-up (only with tracing on)
    from opentelemetry.instrumentation.requests import RequestsInstrumentor  # noqa: PLC0415 heavy optional dependency kept out of start-up (only with tracing on)
    from opentelemetry.sdk.resources import Resource  # noqa: PLC0415 heavy optional dependency kept out of start-up (only with tracing on)
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415 heavy optional dependency kept out of start-up (only with tracing on)
    from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415 heavy optional dependency kept out of start-up (only with tracing on)
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased  # noqa: PLC0415 heavy optional dependency kept out of start-up (only with tracing on)

    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name, "deployment.environment.name": environment}),
        # A trace is kept or dropped whole: a task follows the decision of the request that queued it.
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=_traces_url(endpoint))))
    trace.set_tracer_provider(provider)

    DjangoInstrumentor().instrument(excluded_urls=EXCLUDED_URLS, request_hook=_django_request_hook)
    CeleryInstrumentor().instrument()
    # Parameters stay out: SQL text only (PsycopgInstrumentor records no parameters by default).
    PsycopgInstrumentor().instrument(enable_commenter=False)
    RequestsInstrumentor().instrument(request_hook=_requests_request_hook)
    _started = True
    logger.info("tracing on: service %s, exporting to %s, sampling %s", service_name, endpoint, sample_ratio)


def _traces_url(endpoint: str) -> str:
    """OTLP/HTTP's traces path, as the OTEL_EXPORTER_OTLP_ENDPOINT convention builds it."""
    return endpoint.rstrip("/") + "/v1/traces" if not endpoint.rstrip("/").endswith("/v1/traces") else endpoint


def url_without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _scrub_urls(span: Any) -> None:
    """Drop the query string from every URL attribute the instrumentation recorded (which names
    it writes depends on its semantic-conventions mode: http.url/http.target or url.*)."""
    if span is None or not span.is_recording():
        return
    recorded = dict(getattr(span, "attributes", None) or {})
    for name in ("http.url", "url.full"):
        if isinstance(recorded.get(name), str):
            span.set_attribute(name, url_without_query(recorded[name]))
    if isinstance(recorded.get("http.target"), str):
        span.set_attribute("http.target", recorded["http.target"].split("?", 1)[0])
    if "url.query" in recorded:
        span.set_attribute("url.query", "")


def _django_request_hook(span: Any, _request: Any) -> None:
    # Runs after the span's request attributes are recorded and before it ends: what it sets is
    # what is exported.
    _scrub_urls(span)


def _requests_request_hook(span: Any, _request: Any) -> None:
    _scrub_urls(span)
